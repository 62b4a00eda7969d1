/**
 * Fault cases of the Redis scale-out, against real Redis servers:
 * - a node killed with SIGKILL (a child process built from the current sources): the
 *   survivors remove its users, connections, calls, lobby entries and peers within 15 s,
 *   and the clients see the normal `leave`, `users`, `ended`, `userDisconnected` and peer
 *   `close` events;
 * - a graceful shutdown: the node's users and calls leave Redis, with the events, at once;
 * - a Redis restart (a redis-server of this spec's own): /health goes 503, then 200 again
 *   by itself; chat, user lists, name uniqueness and calls work again.
 * Skips with one line when Redis is not reachable (fails instead with REQUIRE_REDIS=1).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import type { Notification, User } from '../src/common/events.js';
import { expectError, expectOk, ids } from './helpers/assert.js';
import { closeAllClients, connect, login, mark, sleep, uniqueName, uniqueRoom } from './helpers/client.js';
import {
  buildApp,
  freePort,
  hasRedisServer,
  redisServer,
  spawnNode,
  type ChildNode,
  type RedisServer,
} from './helpers/processes.js';
import {
  deletePrefix,
  describeWithRedis,
  health,
  inspector,
  REDIS_URL,
  runPrefix,
  startNode,
  waitUntil,
  type RedisNode,
} from './helpers/redis.js';

const describeRedis = await describeWithRedis('redis-faults.e2e-spec');

/** The bound for a dead node's users to be gone from every room. */
const DEAD_NODE_DEADLINE_MS = 15_000;

describeRedis('Redis faults', () => {
  afterEach(() => {
    closeAllClients();
  });

  describe('a node killed with SIGKILL', () => {
    const prefix = runPrefix('kill');
    let buildDir: string | undefined;
    let a: RedisNode;
    let b: RedisNode;
    let k: ChildNode | undefined;

    beforeAll(async () => {
      buildDir = buildApp();
      a = await startNode(prefix);
      b = await startNode(prefix);
    }, 120_000);

    afterAll(async () => {
      closeAllClients();
      await k?.kill();
      await Promise.all([a, b].filter(Boolean).map((n) => n.close()));
      await deletePrefix(prefix);
      if (buildDir) rmSync(buildDir, { recursive: true, force: true });
    });

    it('has its users, calls, lobby entries and peers removed by the survivors, with the normal events, within 15 s', async () => {
      k = await spawnNode(buildDir!, { NODE_ENV: 'test', REDIS_URL, REDIS_KEY_PREFIX: prefix });
      const room = uniqueRoom('kill');
      const [k1, k2, k3] = [await connect(k.url), await connect(k.url), await connect(k.url)];
      const [a1, a2] = [await connect(a.url), await connect(a.url)];
      const [b1, b2] = [await connect(b.url), await connect(b.url)];

      // A room with members on all three nodes.
      const members = [a1, k1, b1, k2];
      const users: User[] = [];
      for (const [i, cl] of members.entries()) {
        users.push(await login(cl, `member${i}`, room));
        await Promise.all(members.slice(0, i + 1).map((m) => m.waitFor('users', (l) => l.length === i + 1)));
      }
      // An active call k1 ↔ b2 (started on the killed node) and a pending one a2 → k2.
      expectOk(await k1.request('call', { userToCall: b2.id }));
      await b2.waitFor('call');
      expectOk(await b2.request('answer', { to: k1.id, signal: 'ok' }));
      await k1.waitFor('accepted');
      expectOk(await a2.request('call', { userToCall: k2.id }));
      await k2.waitFor('call');
      // Lobby and peer channel entries on the killed node.
      expectOk(await a2.request('register', 'lobby-a2'));
      expectOk(await k3.request('register', 'lobby-k3'));
      await a2.waitFor('userConnected', (u) => u.id === k3.id);
      b1.send('ready', 'peer-b1');
      await b1.waitFor('message', (m) => (m as { target?: string }).target === 'peer-b1');
      k3.send('ready', 'peer-k3');
      await b1.waitFor('message', (m) => (m as { from?: string }).from === 'peer-k3');

      const since = mark();
      const killedAt = Date.now();
      await k.kill('SIGKILL');
      k = undefined;

      // The room hears both departures, on both surviving nodes.
      for (const survivor of [a1, b1]) {
        for (const gone of [k1, k2]) {
          await survivor.waitFor(
            'notification',
            (n) => n.type === 'leave' && n.user.id === gone.id,
            DEAD_NODE_DEADLINE_MS,
          );
        }
        await survivor.waitFor('users', (l) => l.length === 2, DEAD_NODE_DEADLINE_MS);
      }
      const roomCleanMs = Date.now() - killedAt;
      expect(await b2.waitFor('ended', undefined, DEAD_NODE_DEADLINE_MS)).toEqual({
        from: k1.id,
        reason: 'disconnected',
      });
      expect(await a2.waitFor('ended', undefined, DEAD_NODE_DEADLINE_MS)).toEqual({
        from: k2.id,
        reason: 'disconnected',
      });
      expect(await a2.waitFor('userDisconnected', undefined, DEAD_NODE_DEADLINE_MS)).toBe(k3.id);
      const close = await b1.waitFor(
        'message',
        (m) => (m as { payload?: { action?: string } }).payload?.action === 'close',
        DEAD_NODE_DEADLINE_MS,
      );
      expect(close).toMatchObject({ from: 'peer-k3', target: 'all' });
      const allCleanMs = Date.now() - killedAt;
      expect(allCleanMs).toBeLessThan(DEAD_NODE_DEADLINE_MS);
      console.log(`dead node cleanup: room clean after ${roomCleanMs} ms, everything after ${allCleanMs} ms`);

      // Exactly one leave per departed user, whichever node cleaned up.
      for (const survivor of [a1, b1]) {
        const leaves = survivor.received('notification', since).filter((n): n is Notification => n.type === 'leave');
        expect(leaves.map((n) => n.user.id).sort()).toEqual([k1.id, k2.id].sort());
      }
      expect(ids((await a1.request<{ users: User[] }>('listUsers')).users)).toEqual([a1.id, b1.id]);
      // The dead sockets are on no node; their names and peer id are free again.
      expectError(await a1.request('call', { userToCall: k1.id }), 'NOT_FOUND');
      const again = await connect(b.url);
      await login(again, 'MEMBER1', room);
      const peer = await connect(a.url);
      peer.send('ready', 'peer-k3');
      await peer.waitFor('message', (m) => (m as { target?: string }).target === 'peer-k3');
      await a2.request('getOnlineUsers');
      expect(Object.keys(await a2.waitFor('onlineUsers'))).toEqual([a2.id]);

      // Nothing of the dead node is left in Redis.
      const redis = inspector();
      try {
        const owners = await redis.smembers(`${prefix}owners`);
        expect(owners.sort()).toEqual((await liveNodes(redis, prefix)).sort());
        expect(await redis.exists(`${prefix}calls:${k1.id}`, `${prefix}calls:${k2.id}`, `${prefix}user:${k1.id}`)).toBe(
          0,
        );
        // The per-address connection count gave back the dead node's three connections:
        // what is left is the six live ones (a1, a2, b1, b2, again, peer).
        const counted = async () => {
          let sum = 0;
          for (const tally of await redis.keys(`${prefix}conn-ip-node:*`)) {
            for (const n of await redis.hvals(tally)) sum += Number(n);
          }
          return sum;
        };
        await waitUntil(async () => (await counted()) === 6 || undefined, DEAD_NODE_DEADLINE_MS, 'connection count 6');
        expect(await redis.keys(`${prefix}conn-ip-node:*`)).toHaveLength(2);
      } finally {
        redis.disconnect();
      }
    }, 60_000);
  });

  describe('a graceful shutdown', () => {
    const prefix = runPrefix('shutdown');
    let a: RedisNode;
    let b: RedisNode;

    beforeAll(async () => {
      [a, b] = [await startNode(prefix), await startNode(prefix)];
    });

    afterAll(async () => {
      closeAllClients();
      await Promise.all([a, b].filter(Boolean).map((n) => n.close()));
      await deletePrefix(prefix);
    });

    it('removes the node’s users and calls from Redis, with the events, before it exits', async () => {
      const room = uniqueRoom('bye');
      const [a1, b1, b2] = [await connect(a.url), await connect(b.url), await connect(b.url)];
      await login(a1, 'stays', room);
      await login(b1, 'leaves', room);
      await a1.waitFor('users', (l) => l.length === 2);
      expectOk(await b2.request('call', { userToCall: a1.id }));
      await a1.waitFor('call');
      const redis = inspector();
      try {
        const node = (await redis.hget(`${prefix}user:${b1.id}`, 'node'))!;
        const started = Date.now();
        await b.close();
        // The events were sent before close() resolved.
        await a1.waitFor('notification', (n) => n.type === 'leave' && n.user.id === b1.id, 1000);
        expect(ids(await a1.waitFor('users', (l) => l.length === 1, 1000))).toEqual([a1.id]);
        expect(await a1.waitFor('ended', undefined, 1000)).toEqual({ from: b2.id, reason: 'disconnected' });
        console.log(`graceful shutdown with departures: ${Date.now() - started} ms`);
        expect(
          await redis.exists(
            `${prefix}hb:${node}`,
            `${prefix}user:${b1.id}`,
            `${prefix}conn:${b1.id}`,
            `${prefix}calls:${a1.id}`,
          ),
        ).toBe(0);
        expect(await redis.sismember(`${prefix}owners`, node)).toBe(0);
        expect(await redis.keys(`${prefix}node:${node}:*`)).toEqual([]);
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('a Redis restart', () => {
    const prefix = runPrefix('restart');
    let server: RedisServer | undefined;
    let a: RedisNode;
    let b: RedisNode;

    beforeAll(async () => {
      if (!hasRedisServer())
        throw new Error('redis-server is not on PATH (needed to restart a Redis of this spec’s own)');
      server = await redisServer(await freePort());
      [a, b] = [await startNode(prefix, {}, server.url), await startNode(prefix, {}, server.url)];
    }, 30_000);

    afterAll(async () => {
      closeAllClients();
      await Promise.all([a, b].filter(Boolean).map((n) => n.close()));
      await server?.stop();
    });

    it('is survived: /health 503 while Redis is down, 200 again by itself, and chat, lists, names and calls work again', async () => {
      const room = uniqueRoom('restart');
      const [a1, b1] = [await connect(a.url), await connect(b.url)];
      const ua = await login(a1, 'Anna', room);
      await login(b1, 'Bert', room);
      await a1.waitFor('users', (l) => l.length === 2);
      expect((await health(a.url)).status).toBe(200);

      await server!.stop();
      const down = await waitUntil(
        async () => {
          const h = await health(a.url);
          return h.status === 503 ? h : undefined;
        },
        10_000,
        '/health 503',
      );
      expect(down.body).toMatchObject({ status: 'error' });
      expect(JSON.stringify(down.body)).toContain('redis');
      // A request that needs Redis fails cleanly meanwhile (an error ack, no crash, no hang).
      const whileDown = await b1.requestWithTimeout<{ error?: string }>(8000, 'listUsers');
      expect(whileDown).toHaveProperty('error');

      const restartedAt = Date.now();
      await server!.start();
      for (const node of [a, b])
        await waitUntil(async () => (await health(node.url)).status === 200, 15_000, '/health 200');
      console.log(`back to healthy ${Date.now() - restartedAt} ms after Redis restarted`);

      // The restarted Redis is empty: each node put its live sockets back.
      await waitUntil(
        async () => {
          const reply = await a1.request<{ users?: User[] }>('listUsers');
          return reply.users?.length === 2;
        },
        10_000,
        'both users listed again',
      );
      expect((await b1.request<{ users: User[] }>('listUsers')).users.map((u) => u.name).sort()).toEqual([
        'Anna',
        'Bert',
      ]);

      // Chat across the nodes again (a new stream).
      const since = mark();
      const ack = await a1.request<{ id: string }>('roomMessage', { message: 'after-restart' });
      expect(await b1.waitFor('roomMessage', (m) => m.id === ack.id, 5000)).toMatchObject({
        message: 'after-restart',
        fromId: a1.id,
      });
      expect(a1.received('roomMessage', since)).toHaveLength(1);
      // Names are unique again, and a newcomer joins the restored room.
      const c1 = await connect(b.url);
      expectError(await c1.request('login', { name: 'anna', room }), 'NAME_TAKEN');
      await login(c1, uniqueName(), room);
      // Restored users keep their joinedAt, so the newcomer comes last.
      expect(ids(await a1.waitFor('users', (l) => l.length === 3))).toEqual([a1.id, b1.id, c1.id]);
      expect((await a1.request<{ users: User[] }>('listUsers')).users[0]).toEqual(ua);
      // Calls across nodes again (the connections were restored).
      expectOk(await a1.request('call', { userToCall: c1.id, signal: 's' }));
      expect(await c1.waitFor('call')).toEqual({ from: a1.id, name: 'Anna', signal: 's' });
      // Heartbeats are back.
      const redis = inspector(server!.url);
      try {
        await waitUntil(async () => (await redis.keys(`${prefix}hb:*`)).length === 2, 5000, 'two heartbeats');
      } finally {
        redis.disconnect();
      }
      await sleep(100);
    }, 90_000);
  });
});

/** Node ids whose heartbeat is alive. */
async function liveNodes(redis: ReturnType<typeof inspector>, prefix: string): Promise<string[]> {
  const keys = await redis.keys(`${prefix}hb:*`);
  return keys.map((key) => key.slice(`${prefix}hb:`.length));
}
