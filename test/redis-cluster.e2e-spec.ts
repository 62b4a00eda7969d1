/**
 * Several Parley nodes against one real Redis (never a mock), with clients spread over the
 * nodes: they must behave as one server. Chat, user lists, name uniqueness under
 * concurrent logins on two nodes, room capacity, calls and every relay across nodes, ring
 * timeouts, the compatibility lobby and peer channel, /health.
 * Skips with one line when Redis is not reachable (fails instead with REQUIRE_REDIS=1).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Notification, RoomMessage, User } from '../src/common/events.js';
import { expectError, expectOk, expectUserShape, ids } from './helpers/assert.js';
import {
  closeAllClients,
  connect,
  expectNothing,
  login,
  mark,
  sleep,
  uniqueName,
  uniqueRoom,
  type TestClient,
} from './helpers/client.js';
import { NodeLivenessService } from '../src/redis/node-liveness.service.js';
import { type RedisSessionStoreService } from '../src/sessions/redis-session-store.service.js';
import { SessionStoreService } from '../src/sessions/session-store.service.js';
import { RedisService } from '../src/redis/redis.service.js';
import { ConnectionRegistryService } from '../src/signaling/connection-registry.service.js';
import {
  deletePrefix,
  describeWithRedis,
  health,
  inspector,
  runPrefix,
  startNode,
  waitUntil,
  type RedisNode,
} from './helpers/redis.js';

const describeRedis = await describeWithRedis('redis-cluster.e2e-spec');

const MAX_ROOM_USERS = 5;
const RING_MS = 700;

describeRedis('several nodes over Redis', () => {
  const prefix = runPrefix('cluster');
  let a: RedisNode;
  let b: RedisNode;
  let c: RedisNode;
  /** A node with a short ring timeout, for callers whose call must ring out. */
  let ringer: RedisNode;

  beforeAll(async () => {
    const env = { MAX_ROOM_USERS: String(MAX_ROOM_USERS) };
    [a, b, c] = [await startNode(prefix, env), await startNode(prefix, env), await startNode(prefix, env)];
    ringer = await startNode(prefix, { ...env, RING_TIMEOUT_MS: String(RING_MS) });
  });

  afterEach(() => {
    closeAllClients();
  });

  afterAll(async () => {
    closeAllClients();
    await Promise.all([a, b, c, ringer].filter(Boolean).map((n) => n.close()));
    await deletePrefix(prefix);
  });

  /** One client on each node, in order. */
  async function spread(nodes: RedisNode[]): Promise<TestClient[]> {
    return Promise.all(nodes.map((n) => connect(n.url)));
  }

  /** Logs clients in one after the other, each time waiting until every member saw the new list. */
  async function joinAll(clients: TestClient[], room: string, names?: string[]): Promise<User[]> {
    const users: User[] = [];
    for (let i = 0; i < clients.length; i++) {
      users.push(await login(clients[i], names?.[i] ?? uniqueName(), room));
      const count = i + 1;
      await Promise.all(clients.slice(0, count).map((m) => m.waitFor('users', (list) => list.length === count)));
    }
    return users;
  }

  /**
   * Every command naming `needle`, as Redis sees it: those a node sent, and those a script
   * ran; EVAL and EVALSHA both count as `eval` (EVAL the first time a connection runs a
   * script, EVALSHA after). Call stop() when done: ioredis's monitor() opens a connection
   * of its own besides the inspector's, and either one left open holds the test process.
   */
  async function watchCommands(needle: string): Promise<{ stop: () => void; sent: string[]; scripted: string[] }> {
    const client = inspector();
    const monitor = await client.monitor();
    const sent: string[] = [];
    const scripted: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.some((arg) => String(arg).includes(needle))) return;
      const command = String(args[0])
        .toLowerCase()
        .replace(/^evalsha$/, 'eval');
      (source === 'lua' ? scripted : sent).push(command);
    });
    const stop = () => {
      monitor.disconnect();
      client.disconnect();
    };
    return { stop, sent, scripted };
  }

  describe('chat', () => {
    it('gives every node the same room: join notifications, users lists in joinedAt order, listUsers', async () => {
      const room = uniqueRoom();
      const [ca, cb, cc] = await spread([a, b, c]);
      const ua = await login(ca, 'alice', room);
      const since = mark();
      const ub = await login(cb, 'bob', room);
      const join = (await ca.waitFor('notification', (n) => n.type === 'join' && n.user.id === cb.id)) as Notification;
      expect(join.user).toEqual(ub);
      const uc = await login(cc, 'carol', room);
      for (const client of [ca, cb, cc]) {
        const list = await client.waitFor('users', (l) => l.length === 3);
        expect(ids(list)).toEqual([ca.id, cb.id, cc.id]);
        list.forEach(expectUserShape);
        const reply = await client.request<{ users: User[] }>('listUsers');
        expect(reply.users).toEqual([ua, ub, uc]);
      }
      expect(ua.joinedAt).toBeLessThanOrEqual(ub.joinedAt);
      expect(ub.joinedAt).toBeLessThanOrEqual(uc.joinedAt);
      // Nobody gets a join notification about themselves.
      expect(cb.received('notification', since).filter((n) => n.type !== 'server' && n.user.id === cb.id)).toEqual([]);
    });

    it('keeps the order of users who join within the same millisecond on different nodes', async () => {
      const room = uniqueRoom();
      const clients = await spread([a, b, c, a, b]);
      await joinAll(clients, room);
      const lists = await Promise.all(clients.map((cl) => cl.request<{ users: User[] }>('listUsers')));
      for (const l of lists) expect(ids(l.users)).toEqual(clients.map((cl) => cl.id));
      const joined = lists[0].users.map((u) => u.joinedAt);
      expect([...joined].sort((x, y) => x - y)).toEqual(joined);
    });

    it('relays a room message from one node to members on every node, with one id', async () => {
      const room = uniqueRoom();
      const [ca, cb, cc] = await spread([a, b, c]);
      await joinAll([ca, cb, cc], room, ['ann', 'ben', 'cid']);
      const ack = await cb.request<{ id: string; at: number; offset: number; epoch: string }>('roomMessage', {
        message: 'ciphertext-1',
      });
      expectOk(ack);
      const expected: RoomMessage = {
        id: ack.id,
        room,
        message: 'ciphertext-1',
        from: 'ben',
        fromId: cb.id,
        at: ack.at,
        offset: 1,
        epoch: ack.epoch,
      };
      for (const client of [ca, cb, cc]) expect(await client.waitFor('roomMessage')).toEqual(expected);
    });

    it('places a room message in its history and publishes it in one Redis command', async () => {
      const room = uniqueRoom();
      const [ca, cb] = await spread([a, b]);
      await joinAll([ca, cb], room);
      const { stop, sent, scripted } = await watchCommands(room);
      try {
        await sleep(50);
        const ack = await ca.request<{ offset: number; epoch: string }>('roomMessage', { message: 'one-command' });
        expectOk(ack);
        expect(await cb.waitFor('roomMessage')).toMatchObject({ message: 'one-command', offset: 1, epoch: ack.epoch });
        await sleep(50);
        expect(sent).toEqual(['eval']);
        expect(scripted).toEqual(expect.arrayContaining(['hincrby', 'rpush', 'xadd']));
        // What the other node received came out of that command, offset filled in; so does `history`.
        const page = await cb.request<{ messages: RoomMessage[] }>('history', {});
        expect(page.messages.map((m) => [m.message, m.offset, m.epoch])).toEqual([['one-command', 1, ack.epoch]]);
      } finally {
        stop();
      }
    });

    it('keeps one sender’s messages in order for members on other nodes', async () => {
      const room = uniqueRoom();
      const [ca, cb] = await spread([a, b]);
      await joinAll([ca, cb], room);
      const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
      await Promise.all(sent.map((m) => ca.request('roomMessage', { message: m })));
      await waitUntil(() => cb.received('roomMessage').length === sent.length, 3000, 'all messages');
      expect(cb.received('roomMessage').map((m) => m.message)).toEqual(sent);
    });

    it('does not leak a room to members of another room on another node', async () => {
      const [ca, cb, cc] = await spread([a, b, c]);
      const room = uniqueRoom();
      await joinAll([ca, cb], room);
      await login(cc, uniqueName(), uniqueRoom());
      const since = mark();
      await ca.request('roomMessage', { message: 'secret' });
      await cb.waitFor('roomMessage');
      await expectNothing([cc], ['roomMessage', 'notification'], since);
    });

    it('announces logout and disconnect to the members on the other nodes', async () => {
      const room = uniqueRoom();
      const [ca, cb, cc] = await spread([a, b, c]);
      const [ua, ub] = await joinAll([ca, cb, cc], room);
      expectOk(await ca.request('logout'));
      for (const client of [cb, cc]) {
        const leave = (await client.waitFor(
          'notification',
          (n) => n.type === 'leave' && n.user.id === ca.id,
        )) as Notification;
        expect(leave.user).toEqual(ua);
        expect(ids(await client.waitFor('users', (l) => l.length === 2))).toEqual([cb.id, cc.id]);
      }
      cb.close();
      const leave = (await cc.waitFor(
        'notification',
        (n) => n.type === 'leave' && n.user.id === cb.id,
      )) as Notification;
      expect(leave.user).toEqual(ub);
      expect(ids(await cc.waitFor('users', (l) => l.length === 1))).toEqual([cc.id]);
      // The name is free again, on any node.
      const again = await connect(a.url);
      await login(again, ub.name.toUpperCase(), room);
    });

    it('lets exactly one of two concurrent same-name logins on two nodes win (NAME_TAKEN for the other)', async () => {
      for (let round = 0; round < 15; round++) {
        const room = uniqueRoom('race');
        const [ca, cb] = await spread([a, b]);
        const name = `Racer${round}`;
        const replies = await Promise.all([
          ca.request<{ user?: User; code?: string }>('login', { name, room }),
          cb.request<{ user?: User; code?: string }>('login', { name: name.toLowerCase(), room }),
        ]);
        const won = replies.filter((r) => r.user);
        const lost = replies.filter((r) => !r.user);
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expectError(lost[0], 'NAME_TAKEN');
        const winner = replies[0].user ? ca : cb;
        expect(ids((await winner.request<{ users: User[] }>('listUsers')).users)).toEqual([winner.id]);
        ca.close();
        cb.close();
      }
    });

    it('holds the room capacity across nodes, also under concurrent logins', async () => {
      const room = uniqueRoom('full');
      const members = await spread([a, b, c, a]);
      await joinAll(members, room);
      const [x, y] = await spread([b, c]);
      const replies = await Promise.all([
        x.request<{ user?: User }>('login', { name: uniqueName(), room }),
        y.request<{ user?: User }>('login', { name: uniqueName(), room }),
      ]);
      expect(replies.filter((r) => r.user)).toHaveLength(1);
      expectError(
        replies.find((r) => !r.user),
        'ROOM_FULL',
      );
      expect((await members[0].request<{ users: User[] }>('listUsers')).users).toHaveLength(MAX_ROOM_USERS);
    });

    it('refuses a second login on the same socket (ALREADY_LOGGED_IN) and keeps the first', async () => {
      const [ca] = await spread([a]);
      const room = uniqueRoom();
      await login(ca, 'solo', room);
      expectError(await ca.request('login', { name: 'solo', room }), 'ALREADY_LOGGED_IN');
      expectError(await ca.request('login', { name: 'other', room: uniqueRoom() }), 'ALREADY_LOGGED_IN');
    });
  });

  describe('calls across nodes', () => {
    it('relays call, answer (signal form), offer, candidate, signal and hangup between nodes', async () => {
      const [caller, callee] = await spread([a, b]);
      const room = uniqueRoom();
      await joinAll([caller, callee], room, ['callerName', 'calleeName']);

      expectOk(await caller.request('call', { userToCall: callee.id, signal: { type: 'offer', sdp: 'o' } }));
      expect(await callee.waitFor('call')).toEqual({
        from: caller.id,
        name: 'callerName',
        signal: { type: 'offer', sdp: 'o' },
      });
      // The callee cannot call back while the call is pending.
      expectError(await callee.request('call', { userToCall: caller.id }), 'ALREADY_IN_CALL');

      expectOk(await callee.request('answer', { to: caller.id, signal: { type: 'answer', sdp: 'a' } }));
      expect(await caller.waitFor('accepted')).toEqual({ type: 'answer', sdp: 'a' });

      expectOk(await caller.request('offer', { to: callee.id, sdp: { type: 'offer', sdp: 'x' } }));
      expect(await callee.waitFor('offer')).toEqual({
        sdp: { type: 'offer', sdp: 'x' },
        socketId: caller.id,
        from: caller.id,
      });
      expectOk(await callee.request('candidate', { to: caller.id, candidate: { candidate: 'c1' } }));
      expect(await caller.waitFor('candidate')).toEqual({ candidate: { candidate: 'c1' }, from: callee.id });
      expectOk(await caller.request('signal', { to: callee.id, signal: { renegotiate: true } }));
      expect(await callee.waitFor('signal')).toEqual({ signal: { renegotiate: true }, from: caller.id });

      expectOk(await callee.request('hangup', { to: caller.id }));
      expect(await caller.waitFor('ended')).toEqual({ from: callee.id, reason: 'hangup' });
      expectError(await caller.request('offer', { to: callee.id, sdp: 'late' }), 'NO_CALL');
      expectError(await caller.request('hangup', { to: callee.id }), 'NO_CALL');
    });

    it('relays the sdp form of answer (raw WebRTC: the callee sends the offer, the caller answers)', async () => {
      const [caller, callee] = await spread([b, c]);
      expectOk(await caller.request('call', { to: callee.id }));
      expect(await callee.waitFor('call')).toEqual({ from: caller.id });
      expectOk(await callee.request('offer', { to: caller.id, sdp: 'callee-offer' }));
      expect(await caller.waitFor('offer')).toEqual({ sdp: 'callee-offer', socketId: callee.id, from: callee.id });
      expectOk(await caller.request('answer', { to: callee.id, sdp: 'caller-answer' }));
      expect(await callee.waitFor('answer')).toEqual({ sdp: 'caller-answer', socketId: caller.id, from: caller.id });
    });

    it('tells the peer on another node `ended` (disconnected) when a socket goes, and nobody else', async () => {
      const [caller, callee, bystander] = await spread([a, c, b]);
      const room = uniqueRoom();
      await joinAll([caller, callee, bystander], room);
      expectOk(await caller.request('call', { userToCall: callee.id }));
      await callee.waitFor('call');
      expectOk(await callee.request('answer', { to: caller.id, sdp: 'a' }));
      const since = mark();
      callee.close();
      expect(await caller.waitFor('ended')).toEqual({ from: callee.id, reason: 'disconnected' });
      await expectNothing([bystander], ['ended'], since);
      // The id is gone from every node.
      expectError(await caller.request('call', { userToCall: callee.id }), 'NOT_FOUND');
      expectError(await bystander.request('offer', { to: callee.id, sdp: 'x' }), 'NOT_FOUND');
    });

    it('checks and publishes a signal to another node in one Redis command, and publishes nothing it refuses', async () => {
      const [caller, callee] = await spread([a, b]);
      expectOk(await caller.request('call', { userToCall: callee.id }));
      await callee.waitFor('call');
      expectOk(await callee.request('answer', { to: caller.id, signal: 's' }));
      await caller.waitFor('accepted');
      const { stop, sent, scripted } = await watchCommands(callee.id);
      try {
        await sleep(50);
        expectOk(await caller.request('signal', { to: callee.id, signal: { n: 1 } }));
        expect(await callee.waitFor('signal')).toEqual({ signal: { n: 1 }, from: caller.id });
        await sleep(50);
        expect(sent).toEqual(['eval']);
        expect(scripted).toEqual(['exists', 'hget', 'xadd']);

        expectOk(await callee.request('hangup', { to: caller.id }));
        await caller.waitFor('ended');
        const since = mark();
        sent.length = 0;
        scripted.length = 0;
        expectError(await caller.request('signal', { to: callee.id, signal: { n: 2 } }), 'NO_CALL');
        await sleep(50);
        expect(sent).toEqual(['eval']);
        expect(scripted).toEqual(['exists', 'hget']);
        await expectNothing([callee], ['signal'], since);
      } finally {
        stop();
      }
    });

    it('answers NOT_FOUND for an id that is on no node, and NO_CALL for a connected peer without a call', async () => {
      const [ca, cb] = await spread([a, b]);
      expectError(await ca.request('call', { userToCall: 'no-such-socket-id' }), 'NOT_FOUND');
      expectError(await ca.request('candidate', { to: 'no-such-socket-id', candidate: 'c' }), 'NOT_FOUND');
      expectError(await ca.request('offer', { to: cb.id, sdp: 'x' }), 'NO_CALL');
      expectError(await ca.request('answer', { to: cb.id, signal: 's' }), 'NO_CALL');
      expectError(await ca.request('call', { userToCall: ca.id }), 'SELF_CALL');
    });

    it('rings out an unanswered call started on one node to a callee on another, once for each peer', async () => {
      const [caller, callee] = await spread([ringer, a]);
      const started = Date.now();
      expectOk(await caller.request('call', { userToCall: callee.id }));
      await callee.waitFor('call');
      expect(await caller.waitFor('ended', undefined, RING_MS + 3000)).toEqual({ from: callee.id, reason: 'timeout' });
      expect(await callee.waitFor('ended', undefined, 3000)).toEqual({ from: caller.id, reason: 'timeout' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(RING_MS - 50);
      await sleep(RING_MS);
      expect(caller.received('ended')).toHaveLength(1);
      expect(callee.received('ended')).toHaveLength(1);
      // The pair may call again.
      expectOk(await callee.request('call', { userToCall: caller.id }));
    });

    it('does not ring out a call answered on another node, nor a call restarted after a hangup', async () => {
      const [caller, callee] = await spread([ringer, b]);
      expectOk(await caller.request('call', { userToCall: callee.id }));
      await callee.waitFor('call');
      expectOk(await callee.request('answer', { to: caller.id, signal: 'ok' }));
      await caller.waitFor('accepted');
      // Hang up and call again halfway through the first ring: the first timer must not end the second call.
      const [x, y] = await spread([ringer, c]);
      expectOk(await x.request('call', { userToCall: y.id }));
      await sleep(RING_MS / 2);
      expectOk(await y.request('hangup', { to: x.id }));
      expectOk(await x.request('call', { userToCall: y.id }));
      await sleep(RING_MS * 0.75);
      expect(await x.request('offer', { to: y.id, sdp: 'still-pending' })).toEqual({});
      await sleep(RING_MS);
      expect(caller.received('ended')).toEqual([]);
      expect(callee.received('ended')).toEqual([]);
      expect(x.received('ended')).toEqual([
        { from: y.id, reason: 'hangup' },
        { from: y.id, reason: 'timeout' },
      ]);
    });
  });

  describe('compatibility events across nodes', () => {
    it('shares the lobby: userConnected, onlineUsers and userDisconnected between nodes', async () => {
      const [la, lb] = await spread([a, b]);
      expectOk(await la.request('register', 'lobby-a'));
      expectOk(await lb.request('register', 'lobby-b'));
      expect(await la.waitFor('userConnected')).toEqual({ id: lb.id, name: 'lobby-b' });
      await lb.request('getOnlineUsers');
      const online = await lb.waitFor('onlineUsers');
      expect(online[la.id]).toBe('lobby-a');
      expect(online[lb.id]).toBe('lobby-b');
      lb.close();
      expect(await la.waitFor('userDisconnected')).toBe(lb.id);
    });

    it('keeps peer ids unique across nodes', async () => {
      const [pa, pb] = await spread([a, b]);
      const peerId = `peer-${Math.random().toString(36).slice(2, 8)}`;
      pa.send('ready', peerId, 'browser');
      await pa.waitFor('message', (m) => (m as { target?: string }).target === peerId);
      pb.send('ready', peerId);
      const refusal = await pb.waitFor('uniquenessError');
      expect(refusal.message).toContain(peerId);
    });
  });

  describe('Redis state', () => {
    it('cleans up a dead node found only from the owner recorded with its data', async () => {
      // A user and a connection of a node that never had a heartbeat here, and whose id is
      // not in `owners` (as if that index were lost): found from its `node:<id>:*` keys.
      const room = uniqueRoom('ghost');
      const [member] = await spread([c]);
      await login(member, 'member', room);
      const ghostNode = `ghost-${Math.random().toString(36).slice(2, 8)}`;
      const ghost: User = { id: `ghost-socket-${ghostNode}`, name: 'ghost', room, joinedAt: Date.now() };
      const redis = a.app.get(RedisService);
      const k = redis.keys;
      const client = redis.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      // Scripts take their fence deadline first (lua.ts `fenced`).
      await client.parleyUserAdd(
        k.user(ghost.id),
        k.roomUsers(room),
        k.roomNames(room),
        k.rooms,
        k.owners,
        k.seq,
        redis.deadline(),
        prefix,
        ghost.id,
        room,
        'ghost',
        JSON.stringify(ghost),
        ghost.joinedAt,
        100,
        ghostNode,
      );
      await client.parleyConnAdd(k.conn(ghost.id), k.owners, redis.deadline(), prefix, ghost.id, ghostNode);
      await redis.client.srem(k.owners, ghostNode);
      expect(ids((await member.request<{ users: User[] }>('listUsers')).users)).toEqual([member.id, ghost.id]);

      await Promise.all([a, b, c].map((n) => n.app.get(NodeLivenessService).scanOwners()));
      const leave = (await member.waitFor('notification', (n) => n.type === 'leave', 15_000)) as Notification;
      expect(leave.user).toEqual(ghost);
      expect(ids(await member.waitFor('users', (l) => l.length === 1))).toEqual([member.id]);
      // The cleanup finishes (connection, indexes, owner) right after the departures.
      await waitUntil(
        async () => (await redis.client.sismember(k.owners, ghostNode)) === 0,
        5000,
        'the ghost owner released',
      );
      expect(
        await redis.client.exists(
          k.user(ghost.id),
          k.conn(ghost.id),
          k.owned(ghostNode, 'users'),
          k.owned(ghostNode, 'conns'),
        ),
      ).toBe(0);
    }, 30_000);

    it('holds a dropped session cluster-wide: one release ends it, adopt moves the socket’s entries', async () => {
      const [held] = await spread([a]);
      await login(held, 'held', uniqueRoom());
      const storeA = a.app.get(SessionStoreService) as RedisSessionStoreService;
      const storeB = b.app.get(SessionStoreService) as RedisSessionStoreService;
      const nodeA = a.app.get(RedisService).nodeId;
      const nodeB = b.app.get(RedisService).nodeId;
      const redis = a.app.get(RedisService).client;
      await storeA.hold(held.id, 5000, 'drop-1');
      // The session comes back on node b: b adopts it and ends the hold; a's timer then finds nothing.
      await storeB.adopt(held.id);
      expect(await storeB.release(held.id)).toBe(true);
      expect(await storeA.release(held.id)).toBe(false);
      expect(await redis.get(`${prefix}conn:${held.id}`)).toBe(nodeB);
      expect(await redis.hget(`${prefix}user:${held.id}`, 'node')).toBe(nodeB);
      expect(await redis.sismember(`${prefix}node:${nodeB}:users`, held.id)).toBe(1);
      expect(await redis.sismember(`${prefix}node:${nodeA}:users`, held.id)).toBe(0);
      // The old node's late departure does not unregister the connection that moved.
      await a.app.get(ConnectionRegistryService).remove(held.id);
      expect(await b.app.get(ConnectionRegistryService).has(held.id)).toBe(true);
      await storeB.adopt(held.id);
      await b.app.get(ConnectionRegistryService).remove(held.id);
      expect(await a.app.get(ConnectionRegistryService).has(held.id)).toBe(false);
    });

    it('records the owning node with every entry and reports Redis in /health', async () => {
      const res = await health(a.url);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        info: { redis: { status: 'up' }, 'redis-adapter': { status: 'up' } },
      });
      const [ca] = await spread([a]);
      await login(ca, 'owner-check', uniqueRoom());
      const redis = inspector();
      try {
        const node = await redis.hget(`${prefix}user:${ca.id}`, 'node');
        expect(node).toBeTruthy();
        expect(await redis.get(`${prefix}conn:${ca.id}`)).toBe(node);
        expect(await redis.sismember(`${prefix}node:${node}:users`, ca.id)).toBe(1);
        expect(await redis.sismember(`${prefix}owners`, node!)).toBe(1);
        expect(await redis.pttl(`${prefix}hb:${node}`)).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    });
  });
});
