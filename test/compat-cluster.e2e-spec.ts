/**
 * The compatibility events on two nodes over one real Redis: a handshake login, its
 * `user-connected` / `send-message` / `user-disconnected`, the lobby and the peer channel
 * (open, message, messageOne, close, ids unique across nodes) behave as on one server.
 * Skips with one line when Redis is not reachable (fails instead with REQUIRE_REDIS=1).
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { User } from '../src/common/events.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, type RedisNode } from './helpers/redis.js';
import { closeClients, connect, expectQuiet, marks, unique, waitDisconnect } from './helpers/compat.js';

const describeRedis = await describeWithRedis('compat-cluster.e2e-spec');

interface PeerMsg {
  from: string;
  target: string;
  payload?: { action: string; connections?: unknown[]; bePolite?: boolean };
  [key: string]: unknown;
}
const isOpen = (m: PeerMsg) => m?.payload?.action === 'open';

describeRedis('compatibility events across two nodes', () => {
  const prefix = runPrefix('compat');
  let a: RedisNode;
  let b: RedisNode;

  beforeAll(async () => {
    a = await startNode(prefix, { ADMIN_TOKEN: 't' });
    b = await startNode(prefix, { ADMIN_TOKEN: 't' });
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    closeClients();
    await Promise.all([a, b].filter(Boolean).map((n) => n.close()));
    await deletePrefix(prefix);
  });

  it('handshake logins share the room: user-connected, new-message, user-disconnected across nodes', async () => {
    const room = unique('room');
    const ca = await connect(a.url, { auth: { name: 'north', room } });
    await ca.waitFor<User[]>('users');
    const cb = await connect(b.url, { query: { username: 'south', room } });
    expect(await ca.waitFor('user-connected')).toMatchObject({ user: { id: cb.id, name: 'south', room } });
    await cb.waitFor<User[]>('users', (u) => u.length === 2);
    // same name on the other node: NAME_TAKEN, as exception { event: login }
    const dup = await connect(a.url, { auth: { name: 'SOUTH', room } });
    expect(await dup.waitFor('exception')).toMatchObject({ event: 'login', code: 'NAME_TAKEN' });

    const ack = await cb.request<{ id: string; at: number }>('send-message', { message: 'across' });
    const expected = { msg: 'across', from: 'south', fromId: cb.id, ...ack };
    expect(await ca.waitFor('new-message')).toEqual(expected);
    expect(await cb.waitFor('new-message')).toEqual(expected);
    cb.close();
    expect(await ca.waitFor('user-disconnected')).toMatchObject({ user: { id: cb.id, name: 'south' } });
  });

  it('the lobby name names a caller on the other node', async () => {
    const caller = await connect(a.url);
    const callee = await connect(b.url);
    await caller.request('register', 'Far Caller');
    expect(await caller.request('call', { to: callee.id })).toEqual({});
    expect(await callee.waitFor('call')).toEqual({ from: caller.id, name: 'Far Caller' });
  });

  it('the peer channel spans the nodes: open both ways, message, messageOne, close; ids unique', async () => {
    const idA = unique('pa');
    const idB = unique('pb');
    const pa = await connect(a.url);
    expect(await pa.request('ready', idA, 'cam')).toEqual({});
    const pb = await connect(b.url);
    pb.send('ready', idB);
    const own = await pb.waitFor<PeerMsg>('message', (m) => isOpen(m) && m.target === idB);
    expect(own.payload?.connections).toContainEqual({ socketId: pa.id, peerId: idA, peerType: 'cam' });
    expect(await pa.waitFor<PeerMsg>('message', (m) => isOpen(m) && m.from === idB)).toEqual({
      from: idB,
      target: 'all',
      payload: { action: 'open', connections: [{ socketId: pb.id, peerId: idB }], bePolite: true },
    });

    pa.send('message', { kind: 'broadcast' });
    expect(await pb.waitFor('message', (m: PeerMsg) => m.kind === 'broadcast')).toEqual({
      kind: 'broadcast',
      from: idA,
    });
    expect(await pb.request('messageOne', { target: idA, kind: 'direct' })).toEqual({});
    expect(await pa.waitFor('message', (m: PeerMsg) => m.kind === 'direct')).toEqual({
      target: idA,
      kind: 'direct',
      from: idB,
    });
    expect(await pa.request('messageOne', { target: unique('none') })).toMatchObject({ code: 'NOT_FOUND' });

    // the id is taken on the other node too
    const dup = await connect(b.url);
    const m = marks([pa, pb]);
    dup.send('ready', idA);
    expect(await dup.waitFor<{ message: string }>('uniquenessError')).toMatchObject({
      message: expect.stringContaining(idA),
    });
    await waitDisconnect(dup);
    await expectQuiet([pa, pb], m, ['message']);

    pb.close();
    expect(await pa.waitFor<PeerMsg>('message', (x) => x.payload?.action === 'close')).toMatchObject({
      from: idB,
      target: 'all',
    });
    const res = await fetch(`${b.url}/connections`, { headers: { Authorization: 'Bearer t' } });
    expect(await res.json()).toEqual([{ socketId: pa.id, peerId: idA, peerType: 'cam' }]);
  });
});
