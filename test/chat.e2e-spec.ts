/**
 * Chat events end to end: me, login, logout, roomMessage, listUsers, ping, disconnect.
 * Black-box: a real app on a free port, real Socket.IO clients (docs/PROTOCOL.md).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Notification, RoomMessage, User } from '../src/common/events.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import {
  closeAllClients,
  connect,
  connectMany,
  expectNothing,
  joinRoom,
  login,
  mark,
  sleep,
  uniqueName,
  uniqueRoom,
  type TestClient,
} from './helpers/client.js';
import { expectError, expectUserShape, ids } from './helpers/assert.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => {
  closeAllClients();
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

async function expectNotLoggedIn(c: TestClient): Promise<void> {
  expectError(await c.request('listUsers'), 'NOT_LOGGED_IN');
}

async function expectMembers(c: TestClient, expected: string[]): Promise<void> {
  const reply = await c.request<{ users: User[] }>('listUsers');
  expect(ids(reply.users)).toEqual(expected);
}

describe('connecting', () => {
  it('emits `me` with the socket id on connect', async () => {
    const [a, b] = await connectMany(server, 2);
    expect(typeof a.id).toBe('string');
    expect(a.id.length).toBeGreaterThan(0);
    expect(a.id).toBe(a.socket.id);
    expect(b.id).toBe(b.socket.id);
    expect(a.id).not.toBe(b.id);
    expect(a.received('me')).toEqual([a.id]);
  });

  it('also works over the polling transport', async () => {
    const c = await connect(server, { transports: ['polling'] });
    expect(c.id).toBe(c.socket.id);
    const room = uniqueRoom();
    const user = await login(c, 'poller', room);
    expect(user.id).toBe(c.id);
  });
});

describe('login', () => {
  it('acks { user } with id = socket id, trimmed name and room, joinedAt, and no publicKey when none given', async () => {
    const c = await connect(server);
    const room = uniqueRoom();
    const before = Date.now();
    const reply = await c.request<{ user: User }>('login', { name: '  Alice  ', room: `  ${room}\n` });
    const after = Date.now();
    expect(reply).toEqual({ user: { id: c.id, name: 'Alice', room, joinedAt: expect.any(Number) } });
    expect('publicKey' in reply.user).toBe(false);
    expect(reply.user.joinedAt).toBeGreaterThanOrEqual(before);
    expect(reply.user.joinedAt).toBeLessThanOrEqual(after);
    expectUserShape(reply.user);
    // the login really happened: the room lists the user
    expect((await c.request<{ users: User[] }>('listUsers')).users).toEqual([reply.user]);
  });

  it('passes publicKey through to the ack, the users list, notifications and listUsers', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    const publicKey = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+abc/def==';
    const alice = await login(a, 'alice', room, { publicKey });
    expect(alice.publicKey).toBe(publicKey);
    await login(b, 'bob', room);
    const users = await b.waitFor('users', (l) => l.length === 2);
    expect(users[0]).toEqual(alice);
    expect('publicKey' in users[1]).toBe(false);
    const listed = await b.request<{ users: User[] }>('listUsers');
    expect(listed.users[0].publicKey).toBe(publicKey);

    const c = await connect(server);
    const key2 = 'k'.repeat(2048);
    const carol = await login(c, 'carol', room, { publicKey: key2 });
    expect(carol.publicKey).toBe(key2);
    const note = (await a.waitFor('notification', (n) => n.type !== 'server' && n.user.id === c.id)) as Notification;
    expect(note.user.publicKey).toBe(key2);
  });

  it('sends `notification` join then `users` to the other members, and `users` to the newcomer before its ack', async () => {
    const [a, b, c] = await connectMany(server, 3);
    const room = uniqueRoom();
    const [ua, ub] = await joinRoom([a, b], room, ['alice', 'bob']);
    const since = mark();
    const before = Date.now();
    const reply = await c.request<{ user: User }>('login', { name: 'carol', room });
    const after = Date.now();
    const uc = reply.user;

    // the newcomer: `users` (with itself) strictly before the ack, and no notification about itself
    const cUsers = c.log.filter((r) => r.event === 'users' && r.seq > since);
    expect(cUsers).toHaveLength(1);
    const ack = c.log.find((r) => r.event === 'ack:login' && r.seq > since)!;
    expect(cUsers[0].seq).toBeLessThan(ack.seq);
    expect(cUsers[0].args[0]).toEqual([ua, ub, uc]);

    // the other members: notification join, then users
    for (const m of [a, b]) {
      const noteRec = await m.waitForRecord('notification', (n) => (n as Notification).user.id === c.id);
      const usersRec = await m.waitForRecord('users', (l) => (l as User[]).length === 3);
      expect(noteRec.seq).toBeLessThan(usersRec.seq);
      const note = noteRec.args[0] as Notification;
      expect(note).toEqual({
        type: 'join',
        title: expect.any(String),
        description: expect.any(String),
        user: uc,
        at: expect.any(Number),
      });
      expect(note.title.length).toBeGreaterThan(0);
      expect(note.description.length).toBeGreaterThan(0);
      expect(note.at).toBeGreaterThanOrEqual(before);
      expect(note.at).toBeLessThanOrEqual(after + 1000);
      expect(usersRec.args[0]).toEqual([ua, ub, uc]);
    }
    await expectNothing([c], ['notification'], since);
    // exactly one notification and one users each
    expect(a.received('notification', since)).toHaveLength(1);
    expect(a.received('users', since)).toHaveLength(1);
  });

  it('orders `users` by joinedAt, oldest first (a re-login goes to the end)', async () => {
    const [a, b, c] = await connectMany(server, 3);
    const room = uniqueRoom();
    await login(a, 'alice', room);
    await sleep(5);
    await login(b, 'bob', room);
    await sleep(5);
    await login(c, 'carol', room);
    await expectMembers(c, [a.id, b.id, c.id]);
    await a.request('logout');
    await sleep(5);
    await login(a, 'alice', room);
    const list = await a.waitFor('users', (l) => l.length === 3 && l[2].id === a.id);
    expect(ids(list)).toEqual([b.id, c.id, a.id]);
    for (let i = 1; i < list.length; i += 1) expect(list[i].joinedAt).toBeGreaterThanOrEqual(list[i - 1].joinedAt);
    await expectMembers(b, [b.id, c.id, a.id]);
  });

  it('accepts the bounds: 32-character name, 64-character room, counted in code points after trimming', async () => {
    const cases: Array<{ name: string; room: string }> = [
      { name: 'n'.repeat(32), room: uniqueRoom().padEnd(64, 'r') },
      { name: `  ${'x'.repeat(32)}  `, room: `  ${uniqueRoom().padEnd(64, 'r')}  ` },
      { name: '😀'.repeat(32), room: uniqueRoom() },
      { name: 'bob\n', room: uniqueRoom() },
      { name: 'Zoë Ünïcødé', room: `${uniqueRoom()} with spaces` },
      // 64 code points of astral characters (128 UTF-16 units)
      { name: 'astro', room: [...`${uniqueRoom()}${'🚀'.repeat(64)}`].slice(0, 64).join('') },
    ];
    for (const tc of cases) {
      expect([...tc.room.trim()].length).toBeLessThanOrEqual(64);
      const c = await connect(server);
      const reply = await c.request<{ user: User }>('login', { name: tc.name, room: tc.room });
      expect(reply).toEqual({
        user: { id: c.id, name: tc.name.trim(), room: tc.room.trim(), joinedAt: expect.any(Number) },
      });
      c.close();
    }
  });

  const longRoom = 'r'.repeat(65);
  const invalid: Array<[string, unknown[], RegExp | undefined]> = [
    ['missing name', [{ room: 'lobby' }], /name/i],
    ['missing room', [{ name: 'alice' }], /room/i],
    ['name not a string', [{ name: 123, room: 'lobby' }], /name/i],
    ['name null', [{ name: null, room: 'lobby' }], /name/i],
    ['room not a string', [{ name: 'alice', room: ['lobby'] }], /room/i],
    ['name empty after trim', [{ name: '   ', room: 'lobby' }], /name/i],
    ['name empty', [{ name: '', room: 'lobby' }], /name/i],
    ['room empty after trim', [{ name: 'alice', room: ' \t\n ' }], /room/i],
    ['33-character name', [{ name: 'a'.repeat(33), room: 'lobby' }], /name/i],
    ['33-emoji name', [{ name: '😀'.repeat(33), room: 'lobby' }], /name/i],
    ['65-character room', [{ name: 'alice', room: longRoom }], /room/i],
    ['control character (BEL) in name', [{ name: 'al\u0007ice', room: 'lobby' }], /name/i],
    ['DEL in name', [{ name: 'al\u007fice', room: 'lobby' }], /name/i],
    ['newline inside name', [{ name: 'al\nice', room: 'lobby' }], /name/i],
    ['NUL in room', [{ name: 'alice', room: 'lo\u0000bby' }], /room/i],
    ['tab inside room', [{ name: 'alice', room: 'lo\tbby' }], /room/i],
    ['publicKey of 2049 characters', [{ name: 'alice', room: 'lobby', publicKey: 'k'.repeat(2049) }], /publicKey/i],
    ['publicKey not a string', [{ name: 'alice', room: 'lobby', publicKey: 42 }], /publicKey/i],
    ['string payload', ['alice'], undefined],
    ['number payload', [42], undefined],
    ['null payload', [null], undefined],
    ['array payload', [['alice', 'lobby']], undefined],
    ['only a callback', [], undefined],
  ];

  it.each(invalid)('refuses %s with VALIDATION and stays connected, not logged in', async (_label, args, mentions) => {
    const [c, watcher] = await connectMany(server, 2);
    // a member of the target room sees nothing of the failed attempt
    await login(watcher, uniqueName('w'), 'lobby' + watcher.id);
    const fixedArgs = args.map((a) =>
      a && typeof a === 'object' && !Array.isArray(a) && (a as { room?: unknown }).room === 'lobby'
        ? { ...(a as object), room: 'lobby' + watcher.id }
        : a,
    );
    const since = mark();
    const reply = await c.request('login', ...fixedArgs);
    expectError(reply, 'VALIDATION', mentions);
    expect(c.connected).toBe(true);
    await expectNotLoggedIn(c);
    await expectNothing([watcher, c], ['notification', 'users', 'exception'], since);
    await expectMembers(watcher, [watcher.id]);
  });

  it('refuses a failing login without ack via `exception` { event: "login", error, code }', async () => {
    const c = await connect(server);
    c.send('login', { name: '', room: 'x' });
    const ex = await c.waitFor('exception');
    expect(ex).toEqual({ event: 'login', error: expect.any(String), code: 'VALIDATION' });
    expect(c.connected).toBe(true);
  });

  it('answers a failure through the ack only, never also through `exception`', async () => {
    const c = await connect(server);
    const since = mark();
    expectError(await c.request('login', { name: 5, room: 'x' }), 'VALIDATION');
    expectError(await c.request('roomMessage', { message: 'hi' }), 'NOT_LOGGED_IN');
    await expectNothing([c], ['exception'], since);
  });

  it('refuses ALREADY_LOGGED_IN for another room, the same room under the same name, and another name', async () => {
    const [a, other] = await connectMany(server, 2);
    const room = uniqueRoom();
    const room2 = uniqueRoom();
    const alice = await login(a, 'alice', room);
    await login(other, 'olga', room2);
    const since = mark();
    expectError(await a.request('login', { name: 'alice', room }), 'ALREADY_LOGGED_IN');
    expectError(await a.request('login', { name: 'alice2', room }), 'ALREADY_LOGGED_IN');
    expectError(await a.request('login', { name: 'alice', room: room2 }), 'ALREADY_LOGGED_IN');
    // nothing changed
    expect((await a.request<{ users: User[] }>('listUsers')).users).toEqual([alice]);
    await expectMembers(other, [other.id]);
    await expectNothing([a, other], ['notification', 'users'], since);
  });

  it('checks VALIDATION before ALREADY_LOGGED_IN', async () => {
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom());
    expectError(await a.request('login', { name: '', room: uniqueRoom() }), 'VALIDATION');
  });

  it('refuses NAME_TAKEN case-insensitively within a room, and changes nothing', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    await login(a, 'Alice', room);
    const since = mark();
    expectError(await b.request('login', { name: 'alice', room }), 'NAME_TAKEN');
    expectError(await b.request('login', { name: '  ALICE ', room }), 'NAME_TAKEN');
    expectError(await b.request('login', { name: 'Alice', room }), 'NAME_TAKEN');
    await expectNotLoggedIn(b);
    await expectMembers(a, [a.id]);
    await expectNothing([a, b], ['notification', 'users'], since);
    // the same name is fine in another room
    const other = await login(b, 'alice', uniqueRoom());
    expect(other.name).toBe('alice');
  });

  it('frees a name when its user logs out', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    await login(a, 'alice', room);
    await a.request('logout');
    const user = await login(b, 'ALICE', room);
    expect(user.name).toBe('ALICE');
  });

  it('treats room names as case-sensitive', async () => {
    const [a, b] = await connectMany(server, 2);
    const base = uniqueRoom('Room');
    const upper = await login(a, 'alice', base);
    const lower = await login(b, 'alice', base.toLowerCase());
    expect(upper.room).toBe(base);
    expect(lower.room).toBe(base.toLowerCase());
    const since = mark();
    await expectMembers(a, [a.id]);
    await expectMembers(b, [b.id]);
    await a.request('roomMessage', { message: 'only upper' });
    await expectNothing([b], ['roomMessage', 'notification', 'users'], since);
  });

  it('counts names in Unicode code points: 32 emoji are fine, and a 2-unit emoji is one character', async () => {
    const c = await connect(server);
    const name = '👩🏽'.repeat(16); // 2 code points each (woman + skin tone modifier) = 32 code points
    expect([...name]).toHaveLength(32);
    const u = await login(c, name, uniqueRoom());
    expect(u.name).toBe(name);
  });

  it('refuses ROOM_FULL at MAX_ROOM_USERS and accepts again once someone leaves', async () => {
    const small = await startServer({ MAX_ROOM_USERS: '2' });
    try {
      const [a, b, c] = await connectMany(small, 3);
      const room = uniqueRoom();
      await joinRoom([a, b], room, ['alice', 'bob']);
      const since = mark();
      expectError(await c.request('login', { name: 'carol', room }), 'ROOM_FULL');
      await expectNotLoggedIn(c);
      await expectNothing([a, b], ['notification', 'users'], since);
      await expectMembers(a, [a.id, b.id]);
      // validation is checked before the state error
      expectError(await c.request('login', { name: '', room }), 'VALIDATION');
      // another room is not full
      await login(c, 'carol', uniqueRoom());
      await c.request('logout');
      await b.request('logout');
      const carol = await login(c, 'carol', room);
      expect(carol.room).toBe(room);
      await expectMembers(a, [a.id, c.id]);
    } finally {
      closeAllClients();
      await small.close();
    }
  });

  it('ignores client-sent id/from/joinedAt and strips unknown fields (never echoed to others)', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    await login(a, 'alice', room);
    const reply = await b.request<{ user: User }>('login', {
      name: 'bob',
      room,
      id: 'spoofed-id',
      from: 'mallory',
      socketId: 'spoofed-socket',
      user: { id: 'x', name: 'y' },
      joinedAt: 1,
      admin: true,
      extra: 'leak-me',
    });
    expect(reply).toEqual({ user: { id: b.id, name: 'bob', room, joinedAt: expect.any(Number) } });
    expect(reply.user.joinedAt).toBeGreaterThan(1000);
    expectUserShape(reply.user);
    const note = (await a.waitFor('notification', (n) => n.type !== 'server' && n.user.id === b.id)) as Notification;
    expect(Object.keys(note).sort()).toEqual(['at', 'description', 'title', 'type', 'user']);
    expect(note.user).toEqual(reply.user);
    expectUserShape(note.user);
    const users = await a.waitFor('users', (l) => l.length === 2);
    expect(users[1]).toEqual(reply.user);
    expectUserShape(users[1]);
    expect(JSON.stringify([note, users])).not.toContain('leak-me');
    expect(JSON.stringify([note, users])).not.toContain('spoofed');
  });
});

describe('logout', () => {
  it('acks {} to an event with only a callback; the others get notification leave then users; the leaver nothing', async () => {
    const [a, b, c] = await connectMany(server, 3);
    const room = uniqueRoom();
    const [ua, ub, uc] = await joinRoom([a, b, c], room, ['alice', 'bob', 'carol']);
    const since = mark();
    const before = Date.now();
    const reply = await b.request('logout');
    expect(reply).toEqual({});
    for (const m of [a, c]) {
      const noteRec = await m.waitForRecord('notification', (n) => (n as Notification).type === 'leave');
      const usersRec = await m.waitForRecord('users', (l) => (l as User[]).length === 2);
      expect(noteRec.seq).toBeLessThan(usersRec.seq);
      const note = noteRec.args[0] as Notification;
      expect(note).toEqual({
        type: 'leave',
        title: expect.any(String),
        description: expect.any(String),
        user: ub,
        at: expect.any(Number),
      });
      expect(note.title.length).toBeGreaterThan(0);
      expect(note.description.length).toBeGreaterThan(0);
      expect(note.at).toBeGreaterThanOrEqual(before);
      expect(usersRec.args[0]).toEqual([ua, uc]);
    }
    await expectNothing([b], ['notification', 'users'], since);
    expect(b.connected).toBe(true);
    await expectNotLoggedIn(b);
    // no longer receives the room's messages
    const since2 = mark();
    await a.request('roomMessage', { message: 'after bob left' });
    await c.waitFor('roomMessage', (m) => m.message === 'after bob left');
    await expectNothing([b], ['roomMessage'], since2);
  });

  it('refuses NOT_LOGGED_IN before login and after logout (ack and exception)', async () => {
    const a = await connect(server);
    expectError(await a.request('logout'), 'NOT_LOGGED_IN');
    await login(a, 'alice', uniqueRoom());
    expect(await a.request('logout')).toEqual({});
    expectError(await a.request('logout'), 'NOT_LOGGED_IN');
    a.send('logout');
    expect(await a.waitFor('exception')).toEqual({ event: 'logout', error: expect.any(String), code: 'NOT_LOGGED_IN' });
    expect(a.connected).toBe(true);
  });

  it('lets the socket log in again, to another room or the same one', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    const room2 = uniqueRoom();
    await login(b, 'bob', room2);
    const first = await login(a, 'alice', room);
    await a.request('logout');
    const second = await login(a, 'alicia', room2);
    expect(second).toEqual({ id: a.id, name: 'alicia', room: room2, joinedAt: expect.any(Number) });
    expect(second.joinedAt).toBeGreaterThanOrEqual(first.joinedAt);
    await b.waitFor('notification', (n) => n.type === 'join' && n.user.id === a.id);
    await expectMembers(b, [b.id, a.id]);
    await a.request('logout');
    const third = await login(a, 'alice', room);
    expect(third.room).toBe(room);
  });
});

describe('roomMessage', () => {
  it('acks { id, at, offset, epoch } and delivers { id, room, message, from, fromId, at, offset, epoch } to every member, sender included', async () => {
    const [a, b, c, outsider] = await connectMany(server, 4);
    const room = uniqueRoom();
    await joinRoom([a, b, c], room, ['alice', 'bob', 'carol']);
    await login(outsider, 'olga', uniqueRoom());
    const since = mark();
    const before = Date.now();
    const ack = await b.request<{ id: string; at: number; offset: number; epoch: string }>('roomMessage', {
      message: 'ciphertext-1',
    });
    const after = Date.now();
    expect(ack).toEqual({ id: expect.any(String), at: expect.any(Number), offset: 1, epoch: expect.any(String) });
    expect(ack.id.length).toBeGreaterThan(0);
    expect(ack.at).toBeGreaterThanOrEqual(before);
    expect(ack.at).toBeLessThanOrEqual(after);
    const expected: RoomMessage = {
      id: ack.id,
      room,
      message: 'ciphertext-1',
      from: 'bob',
      fromId: b.id,
      at: ack.at,
      offset: 1,
      epoch: ack.epoch,
    };
    for (const m of [a, b, c]) expect(await m.waitFor('roomMessage')).toEqual(expected);
    await expectNothing([outsider], ['roomMessage'], since);
    for (const m of [a, b, c]) expect(m.received('roomMessage', since)).toHaveLength(1);
  });

  it('assigns unique message ids', async () => {
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom());
    const acks = await Promise.all(
      Array.from({ length: 10 }, (_, i) => a.request<{ id: string }>('roomMessage', { message: `m${i}` })),
    );
    expect(new Set(acks.map((x) => x.id)).size).toBe(10);
  });

  it('accepts the bare ciphertext string without an ack', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    await joinRoom([a, b], room, ['alice', 'bob']);
    const since = mark();
    a.send('roomMessage', 'bare-ciphertext');
    for (const m of [a, b]) {
      expect(await m.waitFor('roomMessage')).toEqual({
        id: expect.any(String),
        room,
        message: 'bare-ciphertext',
        from: 'alice',
        fromId: a.id,
        at: expect.any(Number),
        offset: 1,
        epoch: expect.any(String),
      });
    }
    await expectNothing([a], ['exception'], since);
  });

  it('ignores client-sent from/fromId/id/room/at and strips unknown fields', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    const otherRoom = uniqueRoom();
    await joinRoom([a, b], room, ['alice', 'bob']);
    const ack = await a.request<{ id: string; at: number }>('roomMessage', {
      message: 'hello',
      from: 'mallory',
      fromId: 'spoofed',
      id: 'fake-id',
      room: otherRoom,
      at: 1,
      extra: 'leak-me',
    });
    expect(ack.id).not.toBe('fake-id');
    expect(ack.at).not.toBe(1);
    const got = await b.waitFor('roomMessage');
    expect(got).toEqual({
      id: ack.id,
      room,
      message: 'hello',
      from: 'alice',
      fromId: a.id,
      at: ack.at,
      offset: 1,
      epoch: expect.any(String),
    });
  });

  it('relays the message verbatim (opaque: whitespace, control characters, any Unicode)', async () => {
    const [a, b] = await connectMany(server, 2);
    await joinRoom([a, b], uniqueRoom());
    const message = '  \n\u0001 ✓ 😀 "quoted" \\ \u007f  ';
    await a.request('roomMessage', { message });
    expect((await b.waitFor('roomMessage')).message).toBe(message);
    await a.request('roomMessage', { message: ' ' });
    expect((await b.waitFor('roomMessage')).message).toBe(' ');
  });

  it('refuses NOT_LOGGED_IN by ack, and by `exception` { event, error, code } without an ack', async () => {
    const [a, member] = await connectMany(server, 2);
    const room = uniqueRoom();
    await login(member, 'm', room);
    const since = mark();
    expectError(await a.request('roomMessage', { message: 'hi' }), 'NOT_LOGGED_IN');
    a.send('roomMessage', { message: 'hi' });
    expect(await a.waitFor('exception')).toEqual({
      event: 'roomMessage',
      error: expect.any(String),
      code: 'NOT_LOGGED_IN',
    });
    a.send('roomMessage', 'bare');
    expect(await a.waitFor('exception')).toEqual({
      event: 'roomMessage',
      error: expect.any(String),
      code: 'NOT_LOGGED_IN',
    });
    await expectNothing([member, a], ['roomMessage'], since);
    expect(a.connected).toBe(true);
  });

  const invalid: Array<[string, unknown[]]> = [
    ['empty message', [{ message: '' }]],
    ['empty bare string', ['']],
    ['number message', [{ message: 42 }]],
    ['null message', [{ message: null }]],
    ['array message', [{ message: ['a'] }]],
    ['object message', [{ message: { a: 1 } }]],
    ['missing message', [{}]],
    ['number payload', [42]],
    ['null payload', [null]],
    ['only a callback', []],
  ];

  it.each(invalid)('refuses %s with VALIDATION; nobody receives anything', async (_label, args) => {
    const [a, b] = await connectMany(server, 2);
    await joinRoom([a, b], uniqueRoom());
    const since = mark();
    expectError(await a.request('roomMessage', ...args), 'VALIDATION');
    await expectNothing([a, b], ['roomMessage', 'exception'], since);
    expect(a.connected).toBe(true);
  });

  it('refuses VALIDATION without an ack via `exception`', async () => {
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom());
    a.send('roomMessage', { message: 42 });
    expect(await a.waitFor('exception')).toEqual({
      event: 'roomMessage',
      error: expect.any(String),
      code: 'VALIDATION',
    });
    a.send('roomMessage', '');
    expect(await a.waitFor('exception')).toEqual({
      event: 'roomMessage',
      error: expect.any(String),
      code: 'VALIDATION',
    });
  });

  it('checks VALIDATION before NOT_LOGGED_IN', async () => {
    const a = await connect(server);
    expectError(await a.request('roomMessage', { message: 42 }), 'VALIDATION');
    expectError(await a.request('roomMessage', { message: '' }), 'VALIDATION');
  });

  it('keeps per-sender order over 300 messages, for every member', async () => {
    const fast = await startServer({ RATE_LIMIT_PER_SEC: '0' });
    try {
      const [a, b, c] = await connectMany(fast, 3);
      await joinRoom([a, b, c], uniqueRoom(), ['alice', 'bob', 'carol']);
      const N = 300;
      const M = 100;
      const acks: Array<Promise<unknown>> = [];
      for (let i = 0; i < N; i += 1) {
        acks.push(a.request('roomMessage', { message: `a-${i}` }));
        if (i < M) b.send('roomMessage', `b-${i}`);
      }
      await Promise.all(acks);
      for (const m of [a, b, c]) {
        const fromA = () => m.received('roomMessage').filter((x) => x.fromId === a.id);
        const fromB = () => m.received('roomMessage').filter((x) => x.fromId === b.id);
        const deadline = Date.now() + 10000;
        while ((fromA().length < N || fromB().length < M) && Date.now() < deadline) await sleep(20);
        expect(fromA().map((x) => x.message)).toEqual(Array.from({ length: N }, (_, i) => `a-${i}`));
        expect(fromB().map((x) => x.message)).toEqual(Array.from({ length: M }, (_, i) => `b-${i}`));
      }
    } finally {
      closeAllClients();
      await fast.close();
    }
  });
});

describe('listUsers', () => {
  it('acks { users } for the caller room, ordered by joinedAt', async () => {
    const [a, b, c, outsider] = await connectMany(server, 4);
    const room = uniqueRoom();
    const users = await joinRoom([a, b, c], room, ['alice', 'bob', 'carol']);
    await login(outsider, 'olga', uniqueRoom());
    const reply = await b.request('listUsers');
    expect(reply).toEqual({ users });
    for (const u of users) expectUserShape(u);
  });

  it('refuses NOT_LOGGED_IN by ack and by exception', async () => {
    const a = await connect(server);
    expectError(await a.request('listUsers'), 'NOT_LOGGED_IN');
    a.send('listUsers');
    expect(await a.waitFor('exception')).toEqual({
      event: 'listUsers',
      error: expect.any(String),
      code: 'NOT_LOGGED_IN',
    });
  });
});

describe('ping', () => {
  it('acks the bare socket id, before and after login', async () => {
    const a = await connect(server);
    expect(await a.request('ping')).toBe(a.id);
    await login(a, 'alice', uniqueRoom());
    expect(await a.request('ping')).toBe(a.id);
  });
});

describe('disconnect', () => {
  it.each([
    ['client disconnect()', (c: TestClient) => c.socket.disconnect()],
    ['transport close', (c: TestClient) => c.socket.io.engine.close()],
  ])('logs out a member on %s: the rest get notification leave and users', async (_label, drop) => {
    const [a, b, c] = await connectMany(server, 3);
    const room = uniqueRoom();
    const [ua, ub, uc] = await joinRoom([a, b, c], room, ['alice', 'bob', 'carol']);
    const since = mark();
    drop(b);
    for (const m of [a, c]) {
      const noteRec = await m.waitForRecord('notification', (n) => (n as Notification).type === 'leave');
      const usersRec = await m.waitForRecord('users', (l) => (l as User[]).length === 2);
      expect(noteRec.seq).toBeLessThan(usersRec.seq);
      expect(noteRec.args[0]).toEqual({
        type: 'leave',
        title: expect.any(String),
        description: expect.any(String),
        user: ub,
        at: expect.any(Number),
      });
      expect(usersRec.args[0]).toEqual([ua, uc]);
    }
    await expectMembers(a, [a.id, c.id]);
    // the name is free again
    const d = await connect(server);
    await login(d, 'bob', room);
    expect(a.received('notification', since).filter((n) => n.type === 'leave')).toHaveLength(1);
  });

  it('sends nothing to anyone when a socket that is not logged in disconnects', async () => {
    const [a, b, c] = await connectMany(server, 3);
    await joinRoom([a, b], uniqueRoom());
    const since = mark();
    c.close();
    await expectNothing([a, b], ['notification', 'users'], since);
  });
});
