/**
 * A chat client that logs in at connect from its handshake (`auth`, else `query`: `name`,
 * else `username`, and `room`), listens for `user-connected` / `user-disconnected`, and
 * talks with `send-message` → `new-message`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { User } from '../src/common/events.js';
import {
  closeClients,
  closeServers,
  connect,
  expectQuiet,
  marks,
  startApp,
  unique,
  type ClientType as Client,
  type Server,
} from './helpers/compat.js';

let server: Server;

beforeAll(async () => {
  server = await startApp();
});
afterEach(() => closeClients());
afterAll(() => closeServers());

interface Presence {
  message: string;
  user: User;
}
interface NewMessage {
  msg: string;
  from: string;
  fromId: string;
  id: string;
  at: number;
}

/** Connects with handshake credentials and waits until the room lists the socket. */
async function joinAtConnect(options: Parameters<typeof connect>[1]): Promise<Client> {
  const c = await connect(server, options);
  await c.waitFor<User[]>('users', (list) => list.some((u) => u.id === c.id));
  return c;
}

describe('login at connect', () => {
  it('logs in from auth { name, room }: users to all, notification + user-connected to the others', async () => {
    const room = unique('room');
    const alice = await joinAtConnect({ auth: { name: 'alice', room } });
    const events = alice.log.map((r) => r.event);
    expect(events.indexOf('me')).toBeLessThan(events.indexOf('users'));
    expect((await alice.request<{ users: User[] }>('listUsers')).users).toEqual([
      { id: alice.id, name: 'alice', room, joinedAt: expect.any(Number) },
    ]);

    const bob = await connect(server, { auth: { username: ' bob ', room } });
    const joined = await alice.waitFor<Presence>('user-connected');
    expect(joined).toEqual({
      message: expect.stringContaining('bob'),
      user: { id: bob.id, name: 'bob', room, joinedAt: expect.any(Number) },
    });
    expect(await alice.waitFor('notification')).toMatchObject({ type: 'join', user: { id: bob.id } });
    const users = await bob.waitFor<User[]>('users');
    expect(users.map((u) => u.name)).toEqual(['alice', 'bob']);
    // nobody hears about themselves
    expect(bob.received('user-connected')).toEqual([]);
  });

  it('logs in from the query string (name, else username), and prefers auth over query', async () => {
    const room = unique('room');
    const q = await joinAtConnect({ query: { username: 'carol', room } });
    expect((await q.request<{ users: User[] }>('listUsers')).users[0]).toMatchObject({ name: 'carol', room });

    const both = await joinAtConnect({ auth: { name: 'dave', room }, query: { name: 'erin', room: unique('other') } });
    expect((await both.request<{ users: User[] }>('listUsers')).users.map((u) => u.name)).toEqual(['carol', 'dave']);

    const named = await joinAtConnect({ query: { name: 'frank', username: 'ignored', room } });
    expect((await named.request<{ users: User[] }>('listUsers')).users.map((u) => u.name)).toEqual([
      'carol',
      'dave',
      'frank',
    ]);
  });

  it('does nothing without both a room and a name', async () => {
    const c = await connect(server, { auth: { name: 'lonely' }, query: { room: unique('room') } });
    const m = marks([c]);
    expect(await c.request('listUsers')).toEqual({ error: expect.any(String), code: 'NOT_LOGGED_IN' });
    await expectQuiet([c], m);
  });

  it('reports a failed login as exception { event: login } and leaves the socket connected, not logged in', async () => {
    const room = unique('room');
    await joinAtConnect({ auth: { name: 'Gina', room } });
    const taken = await connect(server, { auth: { name: 'gina', room } });
    expect(await taken.waitFor('exception')).toEqual({ event: 'login', error: expect.any(String), code: 'NAME_TAKEN' });
    expect(taken.connected).toBe(true);
    expect(await taken.request('listUsers')).toMatchObject({ code: 'NOT_LOGGED_IN' });
    // it may still log in by hand
    expect(await taken.request('login', { name: 'gina2', room })).toMatchObject({ user: { name: 'gina2' } });

    for (const auth of [
      { name: 123, room },
      { name: 'x', room: ['a'] },
      { name: { nested: true }, room },
      { name: 'bad\u0007name', room },
      { name: '   ', room },
      { name: 'n'.repeat(33), room },
    ]) {
      const c = await connect(server, { auth });
      expect(await c.waitFor('exception')).toEqual({ event: 'login', error: expect.any(String), code: 'VALIDATION' });
      expect(await c.request('send-message', { message: 'hi' })).toMatchObject({ code: 'NOT_LOGGED_IN' });
    }
  });
});

describe('send-message', () => {
  it('reaches every member of the room, the sender included, as new-message; acks { id, at, offset, epoch }', async () => {
    const room = unique('room');
    const a = await joinAtConnect({ auth: { name: 'ann', room } });
    const b = await joinAtConnect({ auth: { name: 'ben', room } });
    const outsider = await joinAtConnect({ auth: { name: 'out', room: unique('room') } });
    const m = marks([outsider]);
    const ack = await a.request<{ id: string; at: number }>('send-message', {
      message: 'ciphertext==',
      from: 'forged',
      id: 'x',
    });
    expect(ack).toEqual({ id: expect.any(String), at: expect.any(Number), offset: 1, epoch: expect.any(String) });
    const expected: NewMessage = { msg: 'ciphertext==', from: 'ann', fromId: a.id, ...ack };
    expect(await a.waitFor('new-message')).toEqual(expected);
    expect(await b.waitFor('new-message')).toEqual(expected);
    expect(b.received('roomMessage')).toEqual([]);
    await expectQuiet([outsider], m);
  });

  it('works without an ack, and right after connect (waits for the handshake login)', async () => {
    const room = unique('room');
    const a = await joinAtConnect({ auth: { name: 'amy', room } });
    const b = await connect(server, { auth: { name: 'bo', room } });
    b.send('send-message', { message: 'first!' });
    expect(await a.waitFor('new-message')).toMatchObject({ msg: 'first!', from: 'bo', fromId: b.id });
  });

  it('keeps one sender’s order', async () => {
    const room = unique('room');
    const a = await joinAtConnect({ auth: { name: 'ord', room } });
    const b = await joinAtConnect({ auth: { name: 'rcv', room } });
    for (let i = 0; i < 20; i++) a.send('send-message', { message: `m${i}` });
    for (let i = 0; i < 20; i++) expect(await b.waitFor<NewMessage>('new-message')).toMatchObject({ msg: `m${i}` });
  });

  it('needs a login: NOT_LOGGED_IN by ack or exception; a login by the login event works too', async () => {
    const c = await connect(server);
    expect(await c.request('send-message', { message: 'x' })).toEqual({
      error: expect.any(String),
      code: 'NOT_LOGGED_IN',
    });
    c.send('send-message', { message: 'x' });
    expect(await c.waitFor('exception')).toEqual({
      event: 'send-message',
      error: expect.any(String),
      code: 'NOT_LOGGED_IN',
    });
    await c.request('login', { name: 'evt', room: unique('room') });
    expect(await c.request('send-message', { message: 'x' })).toEqual({
      id: expect.any(String),
      at: expect.any(Number),
      offset: expect.any(Number),
      epoch: expect.any(String),
    });
  });

  it('holds the MAX_MESSAGE_BYTES limit', async () => {
    const small = await startApp({ MAX_MESSAGE_BYTES: '8' });
    const c = await connect(small, { auth: { name: 'big', room: 'r' } });
    await c.waitFor('users');
    expect(await c.request('send-message', { message: '12345678' })).toEqual({
      id: expect.any(String),
      at: expect.any(Number),
      offset: 1,
      epoch: expect.any(String),
    });
    expect(await c.request('send-message', { message: '123456789' })).toEqual({
      error: expect.any(String),
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(await c.request('send-message', { message: '' })).toMatchObject({ code: 'VALIDATION' });
    c.close();
    await small.close();
  });
});

describe('leaving', () => {
  it('user-disconnected { message, user } to the others on disconnect and on logout', async () => {
    const room = unique('room');
    const a = await joinAtConnect({ auth: { name: 'stay', room } });
    const b = await joinAtConnect({ auth: { name: 'goes', room } });
    const c = await joinAtConnect({ query: { name: 'quits', room } });
    b.close();
    expect(await a.waitFor<Presence>('user-disconnected')).toEqual({
      message: expect.stringContaining('goes'),
      user: expect.objectContaining({ id: b.id, name: 'goes', room }),
    });
    expect(await c.waitFor<Presence>('user-disconnected')).toMatchObject({ user: { id: b.id } });
    expect(await c.request('logout')).toEqual({});
    expect(await a.waitFor<Presence>('user-disconnected')).toMatchObject({ user: { id: c.id, name: 'quits' } });
    await c.barrier();
    expect(c.received<Presence>('user-disconnected').map((p) => p.user.id)).toEqual([b.id]);
  });
});

describe('with authentication on', () => {
  it('the token claims bind a handshake login as they bind login: UNAUTHORIZED as exception { event: login }', async () => {
    const { SignJWT } = await import('jose');
    const secret = 'compat-secret';
    const secured = await startApp({ AUTH_JWT_SECRET: secret });
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));

    const ok = await connect(secured, {
      auth: { token: await sign({ rooms: ['blue'], name: 'zed' }), name: 'zed', room: 'blue' },
    });
    expect(await ok.waitFor<User[]>('users')).toEqual([
      expect.objectContaining({ id: ok.id, name: 'zed', room: 'blue' }),
    ]);

    const wrongRoom = await connect(secured, {
      auth: { token: await sign({ rooms: ['blue'] }), name: 'yan', room: 'red' },
    });
    expect(await wrongRoom.waitFor('exception')).toEqual({
      event: 'login',
      error: expect.stringContaining('red'),
      code: 'UNAUTHORIZED',
    });
    const wrongName = await connect(secured, {
      auth: { token: await sign({ name: 'xi' }), username: 'notxi', room: 'blue' },
    });
    expect(await wrongName.waitFor('exception')).toEqual({
      event: 'login',
      error: expect.any(String),
      code: 'UNAUTHORIZED',
    });
    expect(await wrongName.request('listUsers')).toMatchObject({ code: 'NOT_LOGGED_IN' });
    await secured.close();
  });
});
