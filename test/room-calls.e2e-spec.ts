/**
 * Room calls (protocol v1.2, "Room calls"): joinCall, leaveCall, callSignal, roomCall to
 * every member, MAX_CALL_PEERS, the order of events when a participant leaves the room
 * (logout, kick, disconnect), roomCall to a member who logs in, and the webhooks. Runs on one
 * node, and on two Redis nodes in the cluster configuration; the race for the last place
 * across two nodes is at the end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { CallPeer } from '../src/common/events.js';
import { expectError, expectOk } from './helpers/assert.js';
import {
  closeAllClients,
  connect,
  connectMany,
  expectNothing,
  joinRoom,
  newRoom,
  login,
  mark,
  sleep,
  uniqueRoom,
} from './helpers/client.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, type RedisNode } from './helpers/redis.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

type RoomCall = { room: string; peers: CallPeer[] };
const TOKEN = 'room-calls-admin-token-0123456789abcdef';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ ADMIN_TOKEN: TOKEN, MAX_CALL_PEERS: '3' });
});
afterEach(() => closeAllClients());
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

const ids = (peers: CallPeer[]) => peers.map((p) => p.id);

const room = (n: number) => newRoom(server, n, 'call');

describe('joinCall and leaveCall', () => {
  it('every member hears roomCall, the joiner included; the ack lists who was there, oldest first', async () => {
    const { name, members } = await room(3);
    const [a, b, c] = members;
    expect(await a.request('joinCall')).toEqual({ peers: [] });
    for (const m of members) {
      const ev = await m.waitFor<RoomCall>('roomCall', (e) => e.peers.length === 1);
      expect(ev.room).toBe(name);
      expect(ev.peers).toEqual([{ id: a.id, name: expect.any(String), joinedAt: expect.any(Number) }]);
    }
    const reply = await b.request<{ peers: CallPeer[] }>('joinCall');
    expect(ids(reply.peers)).toEqual([a.id]);
    for (const m of members) {
      const ev = await m.waitFor<RoomCall>('roomCall', (e) => e.peers.length === 2);
      expect(ids(ev.peers)).toEqual([a.id, b.id]);
    }
    // The member outside the call still hears everything; the call is theirs to join.
    expect(c.received<RoomCall>('roomCall').length).toBe(2);
    // The roomCall arrives before the joiner's ack.
    const since = mark();
    await c.request('joinCall');
    const order = c.log.filter((r) => r.seq > since).map((r) => r.event);
    expect(order.indexOf('roomCall')).toBeLessThan(order.indexOf('ack:joinCall'));

    expectOk(await a.request('leaveCall'));
    for (const m of members) {
      const ev = await m.waitFor<RoomCall>('roomCall', (e) => e.peers.length === 2 && !ids(e.peers).includes(a.id));
      expect(ids(ev.peers)).toEqual([b.id, c.id]);
    }
    await b.request('leaveCall');
    await c.request('leaveCall');
    for (const m of members) await m.waitFor<RoomCall>('roomCall', (e) => e.peers.length === 0);
  });

  it('refuses NOT_LOGGED_IN, ALREADY_IN_CALL, NO_CALL and CALL_FULL, changing nothing', async () => {
    const stranger = await connect(server);
    expectError(await stranger.request('joinCall'), 'NOT_LOGGED_IN');
    expectError(await stranger.request('leaveCall'), 'NOT_LOGGED_IN');
    const { members } = await room(4);
    const [a, b, c, d] = members;
    expectError(await a.request('leaveCall'), 'NO_CALL');
    await a.request('joinCall');
    expectError(await a.request('joinCall'), 'ALREADY_IN_CALL');
    await b.request('joinCall');
    await c.request('joinCall');
    const since = mark();
    // MAX_CALL_PEERS is 3 here.
    expectError(await d.request('joinCall'), 'CALL_FULL', /3/);
    await expectNothing(members, ['roomCall'], since);
    // A place frees up: d gets in.
    await c.request('leaveCall');
    const reply = await d.request<{ peers: CallPeer[] }>('joinCall');
    expect(ids(reply.peers)).toEqual([a.id, b.id]);
  });

  it('keeps calls of different rooms apart', async () => {
    const one = await room(2);
    const two = await room(2);
    await one.members[0].request('joinCall');
    const reply = await two.members[0].request<{ peers: CallPeer[] }>('joinCall');
    expect(reply.peers).toEqual([]);
    await sleep(100);
    expect(two.members[1].received<RoomCall>('roomCall').every((e) => e.room === two.name)).toBe(true);
    expect(one.members[1].received<RoomCall>('roomCall').every((e) => e.room === one.name)).toBe(true);
  });
});

describe('callSignal', () => {
  it('reaches the one participant named, in order, stamped with the sender', async () => {
    const { members } = await room(3);
    const [a, b, c] = members;
    await a.request('joinCall');
    await b.request('joinCall');
    const since = mark();
    for (let i = 0; i < 20; i += 1) expectOk(await a.request('callSignal', { to: b.id, data: { seq: i, from: 'x' } }));
    for (let i = 0; i < 20; i += 1) {
      const got = await b.waitFor<{ from: string; data: { seq: number } }>('callSignal');
      expect(got).toEqual({ from: a.id, data: { seq: i, from: 'x' } });
    }
    await expectNothing([a, c], ['callSignal'], since);
  });

  it('refuses a non-participant (NO_CALL), a target outside the call (NOT_FOUND), itself (VALIDATION), bad data', async () => {
    const { members } = await room(3);
    const [a, b, c] = members;
    expectError(await a.request('callSignal', { to: b.id, data: {} }), 'NO_CALL');
    await a.request('joinCall');
    expectError(await a.request('callSignal', { to: c.id, data: {} }), 'NOT_FOUND', new RegExp(c.id));
    expectError(await a.request('callSignal', { to: 'nobody', data: {} }), 'NOT_FOUND');
    expectError(await a.request('callSignal', { to: a.id, data: {} }), 'VALIDATION');
    await b.request('joinCall');
    expectError(await c.request('callSignal', { to: a.id, data: {} }), 'NO_CALL');
    expectError(await a.request('callSignal', { to: b.id }), 'VALIDATION');
    expectError(await a.request('callSignal', { data: {} }), 'VALIDATION');
    expectError(await a.request('callSignal', { to: b.id, data: 'x'.repeat(70_000) }), 'PAYLOAD_TOO_LARGE');
    const stranger = await connect(server);
    expectError(await stranger.request('callSignal', { to: a.id, data: {} }), 'NOT_LOGGED_IN');
    await sleep(100);
    expect(b.received('callSignal')).toEqual([]);
  });
});

describe('who is in the call as members come and go', () => {
  it('a member who logs in hears roomCall after its users, before its ack', async () => {
    const { name, members } = await room(2);
    await members[0].request('joinCall');
    const late = await connect(server);
    const since = mark();
    await login(late, 'late', name);
    const order = late.log.filter((r) => r.seq > since).map((r) => r.event);
    expect(order.indexOf('users')).toBeLessThan(order.indexOf('roomCall'));
    expect(order.indexOf('roomCall')).toBeLessThan(order.indexOf('ack:login'));
    expect(ids(late.received<RoomCall>('roomCall')[0].peers)).toEqual([members[0].id]);
    // No call, no roomCall.
    const other = await connect(server);
    await login(other, 'other', uniqueRoom('quiet'));
    await other.barrier();
    expect(other.received('roomCall')).toEqual([]);
  });

  for (const how of ['logout', 'disconnect', 'kick'] as const) {
    it(`a participant that leaves the room (${how}) leaves the call first: roomCall before leave`, async () => {
      const { name, members } = await room(3);
      const [a, b, c] = members;
      await a.request('joinCall');
      await b.request('joinCall');
      await c.waitFor<RoomCall>('roomCall', (e) => e.peers.length === 2);
      const since = mark();
      if (how === 'logout') await a.request('logout');
      else if (how === 'disconnect') a.close();
      else {
        const res = await fetch(`${server.url}/rooms/${encodeURIComponent(name)}/users/${a.id}`, {
          method: 'DELETE',
          headers: { Authorization: `Bearer ${TOKEN}` },
        });
        expect(res.status).toBe(204);
      }
      for (const m of [b, c]) {
        const call = await m.waitFor<RoomCall>('roomCall', (e) => !ids(e.peers).includes(a.id));
        expect(ids(call.peers)).toEqual([b.id]);
        await m.waitFor('notification', (n: { type: string }) => n.type === 'leave');
        const order = m.eventsSince(since);
        expect(order.indexOf('roomCall')).toBeLessThan(order.indexOf('notification'));
      }
      // The one that left is out: b may not signal it.
      expectError(await b.request('callSignal', { to: a.id, data: {} }), 'NOT_FOUND');
    });
  }
});

describe('webhooks', () => {
  it('room.call.started with the first participant and room.call.ended with the last, alternating', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const hooked = await startServer({
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: 'room-call-webhook-secret-0123456789',
      });
      const name = uniqueRoom('hooks');
      const members = await connectMany(hooked, 2);
      await joinRoom(members, name);
      await members[0].request('joinCall');
      await members[1].request('joinCall');
      await members[0].request('leaveCall');
      members[1].close();
      const types = () =>
        receiver.hooks
          .map((h) => h.event)
          .filter((e) => e.type.startsWith('room.call.'))
          .map((e) => [e.type, (e.data as { room: string }).room]);
      const deadline = Date.now() + 5000;
      while (types().length < 2 && Date.now() < deadline) await sleep(50);
      await sleep(200);
      expect(types()).toEqual([
        ['room.call.started', name],
        ['room.call.ended', name],
      ]);
    } finally {
      await receiver.close();
    }
  });
});

const describeRedis = await describeWithRedis('room-calls.e2e-spec');

describeRedis('two nodes over Redis', () => {
  const prefix = runPrefix('room-calls');
  const nodes: RedisNode[] = [];
  afterAll(async () => {
    closeAllClients();
    await Promise.all(nodes.map((n) => n.close()));
    await deletePrefix(prefix);
  });

  it('two nodes racing for the last place admit exactly one, and both agree on who is in', async () => {
    nodes.push(await startNode(prefix, { MAX_CALL_PEERS: '2' }), await startNode(prefix, { MAX_CALL_PEERS: '2' }));
    for (let round = 0; round < 5; round += 1) {
      const name = uniqueRoom('race');
      const first = await connect(nodes[0].url);
      const x = await connect(nodes[0].url);
      const y = await connect(nodes[1].url);
      await joinRoom([first, x, y], name);
      await first.request('joinCall');
      const [rx, ry] = await Promise.all([x.request('joinCall'), y.request('joinCall')]);
      const admitted = [rx, ry].filter((r) => !(r as { error?: string }).error);
      const refused = [rx, ry].filter((r) => (r as { code?: string }).code === 'CALL_FULL');
      expect([admitted.length, refused.length]).toEqual([1, 1]);
      const winner = admitted[0] === rx ? x : y;
      for (const m of [first, x, y]) {
        const ev = await m.waitFor<RoomCall>('roomCall', (e) => e.peers.length === 2);
        expect(ids(ev.peers)).toEqual([first.id, winner.id]);
      }
      // A signal crosses the nodes.
      expectOk(await winner.request('callSignal', { to: first.id, data: { hello: round } }));
      expect(await first.waitFor('callSignal')).toEqual({ from: winner.id, data: { hello: round } });
      first.close();
      x.close();
      y.close();
    }
  });
});
