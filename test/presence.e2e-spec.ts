/**
 * Presence, typing and read receipts (protocol v1.2): setStatus / presence and User.status,
 * typing relayed to the others only, read positions that only move forward, receipts in the
 * users order, all forgotten when the member leaves. One node, and two Redis nodes in the
 * cluster configuration.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ReadReceipt, User } from '../src/common/events.js';
import { expectError, expectOk } from './helpers/assert.js';
import { closeAllClients, connect, expectNothing, newRoom, login, mark, say } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ RATE_LIMIT_PER_SEC: '0' });
});
afterEach(() => closeAllClients());
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

const room = (n: number) => newRoom(server, n, 'presence');

describe('setStatus and presence', () => {
  it('tells every member, the caller included, and later users lists carry the status', async () => {
    const { members } = await room(3);
    const [a, b, c] = members;
    expectOk(await a.request('setStatus', { status: 'away' }));
    for (const m of members) {
      expect(await m.waitFor('presence')).toEqual({ id: a.id, status: 'away', at: expect.any(Number) });
    }
    const { users } = await b.request<{ users: User[] }>('listUsers');
    expect(users.find((u) => u.id === a.id)?.status).toBe('away');
    expect(users.find((u) => u.id === b.id)).not.toHaveProperty('status');
    // A newcomer's users list carries it too.
    const late = await connect(server);
    await login(late, 'late', (await a.request<{ users: User[] }>('listUsers')).users[0].room);
    const list = await late.waitFor<User[]>('users');
    expect(list.find((u) => u.id === a.id)?.status).toBe('away');
    // Back online: the field is gone again.
    await a.request('setStatus', { status: 'online' });
    await c.waitFor('presence', (p: { status: string }) => p.status === 'online');
    const again = await c.request<{ users: User[] }>('listUsers');
    expect(again.users.find((u) => u.id === a.id)).not.toHaveProperty('status');
  });

  it('the same status again acks and sends nothing; bad values and no login are refused', async () => {
    const { members } = await room(2);
    const [a, b] = members;
    await a.request('setStatus', { status: 'busy' });
    await b.waitFor('presence');
    const since = mark();
    expectOk(await a.request('setStatus', { status: 'busy' }));
    expectError(await a.request('setStatus', { status: 'invisible' }), 'VALIDATION');
    expectError(await a.request('setStatus', {}), 'VALIDATION');
    await expectNothing(members, ['presence'], since);
    const stranger = await connect(server);
    expectError(await stranger.request('setStatus', { status: 'away' }), 'NOT_LOGGED_IN');
  });
});

describe('typing', () => {
  it('reaches every other member, never the sender, and nothing is kept', async () => {
    const { members } = await room(3);
    const [a, b, c] = members;
    const since = mark();
    expectOk(await a.request('typing', { active: true }));
    for (const m of [b, c]) expect(await m.waitFor('typing')).toEqual({ id: a.id, active: true });
    expectOk(await a.request('typing', { active: false }));
    for (const m of [b, c]) expect(await m.waitFor('typing')).toEqual({ id: a.id, active: false });
    await expectNothing([a], ['typing'], since);
    expectError(await a.request('typing', { active: 'yes' }), 'VALIDATION');
    const stranger = await connect(server);
    expectError(await stranger.request('typing', { active: true }), 'NOT_LOGGED_IN');
  });
});

describe('read and receipts', () => {
  it('moves forward only, tells every member when it moves, and lists receipts in users order', async () => {
    const { members } = await room(3);
    const [a, b, c] = members;
    const first = await say(a, 'one');
    const second = await say(a, 'two');
    const { epoch } = first;

    expect(await b.request('read', { offset: second.offset, epoch })).toEqual({ offset: second.offset });
    for (const m of members) {
      expect(await m.waitFor<ReadReceipt>('read')).toEqual({
        id: b.id,
        offset: second.offset,
        epoch,
        at: expect.any(Number),
      });
    }
    const since = mark();
    // Backwards or the same: the position stays, nothing is sent.
    expect(await b.request('read', { offset: first.offset, epoch })).toEqual({ offset: second.offset });
    expect(await b.request('read', { offset: second.offset, epoch })).toEqual({ offset: second.offset });
    await expectNothing(members, ['read'], since);

    await c.request('read', { offset: first.offset, epoch });
    const { receipts } = await a.request<{ receipts: ReadReceipt[] }>('receipts');
    expect(receipts.map((r) => [r.id, r.offset])).toEqual([
      [b.id, second.offset],
      [c.id, first.offset],
    ]);
  });

  it('refuses an offset above the latest, another epoch, bad shapes and no login, changing nothing', async () => {
    const { members } = await room(2);
    const [a, b] = members;
    const m = await say(a, 'only');
    const since = mark();
    expectError(await b.request('read', { offset: m.offset + 1, epoch: m.epoch }), 'VALIDATION', /latest/);
    expectError(await b.request('read', { offset: m.offset, epoch: 'another-epoch' }), 'VALIDATION', /epoch/);
    expectError(await b.request('read', { offset: 0, epoch: m.epoch }), 'VALIDATION');
    expectError(await b.request('read', { offset: 1.5, epoch: m.epoch }), 'VALIDATION');
    expectError(await b.request('read', { offset: 1 }), 'VALIDATION');
    await expectNothing(members, ['read'], since);
    expect(await a.request('receipts')).toEqual({ receipts: [] });
    const stranger = await connect(server);
    expectError(await stranger.request('read', { offset: 1, epoch: m.epoch }), 'NOT_LOGGED_IN');
    expectError(await stranger.request('receipts'), 'NOT_LOGGED_IN');
  });

  it('a position goes when its member leaves; coming back starts from none', async () => {
    const { name, members } = await room(2);
    const [a, b] = members;
    const m = await say(a, 'hello');
    await b.request('read', { offset: m.offset, epoch: m.epoch });
    await b.request('logout');
    expect(await a.request('receipts')).toEqual({ receipts: [] });
    await login(b, 'b-again', name);
    expect(await a.request('receipts')).toEqual({ receipts: [] });
    // And it can read again from scratch, announced again.
    expect(await b.request('read', { offset: m.offset, epoch: m.epoch })).toEqual({ offset: m.offset });
    await a.waitFor<ReadReceipt>('read', (r) => r.id === b.id);
  });
});
