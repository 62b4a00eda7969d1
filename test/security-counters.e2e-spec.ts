/**
 * Counters that must not drift across nodes: the per-address connection count in Redis and
 * the `parley_logged_in_users` gauge, with real clients against two nodes on a real Redis.
 * Skipped (with one line) when no Redis answers; REQUIRE_REDIS=1 makes that a failure.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { RedisService } from '../src/redis/redis.service.js';
import { closeAllClients, connect, login, sleep, uniqueName, uniqueRoom, type TestClient } from './helpers/client.js';
import {
  deletePrefix,
  describeWithRedis,
  inspector,
  REDIS_URL,
  runPrefix,
  startNode,
  waitUntil,
  type RedisNode,
} from './helpers/redis.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const describeRedis = await describeWithRedis('security-counters.e2e-spec.ts');

const TOKEN = 'security-counters-token';

async function gauge(node: RedisNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (-?[\\d.e+]+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** Connects a plain Socket.IO client and waits for `connect` only (nothing that needs Redis). */
function rawConnect(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

async function attempt(url: string): Promise<Socket | Error> {
  try {
    return await rawConnect(url);
  } catch (err) {
    return err as Error;
  }
}

/** Every key of the run that holds a connection count. */
async function countKeys(redis: Redis, prefix: string): Promise<string[]> {
  return (await redis.keys(`${prefix}conn-ip*`)).sort();
}

/** The address's connections as Redis counts them, over every node's tally. */
async function counted(redis: Redis, prefix: string, ip = '127.0.0.1'): Promise<number> {
  let sum = 0;
  for (const tally of await redis.keys(`${prefix}conn-ip-node:*`)) sum += Number(await redis.hget(tally, ip));
  return sum;
}

/** Drops the node's store connection (CLIENT KILL): it reconnects, as after a Redis restart. */
async function killStoreConnection(redis: Redis, node: RedisNode): Promise<void> {
  const name = `parley-${node.app.get(RedisService).nodeId}`;
  const list = (await redis.client('LIST')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  const id = /^id=(\d+)/.exec(line ?? '')?.[1];
  if (!id) throw new Error(`no Redis client named ${name}`);
  await redis.client('KILL', 'ID', id);
}

describeRedis('counters across two nodes', () => {
  const open: Socket[] = [];
  const redis = inspector();
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(() => redis.disconnect());

  describe('MAX_CONNECTIONS_PER_IP in Redis', () => {
    it('gives its tally a TTL, and leaves nothing behind once every node stopped cleanly', async () => {
      const prefix = runPrefix('conn-clean');
      const nodes = [await startNode(prefix), await startNode(prefix)];
      try {
        for (const node of nodes) open.push(await rawConnect(node.url), await rawConnect(node.url));
        expect(await counted(redis, prefix)).toBe(4);
        for (const node of nodes) {
          const tally = `${prefix}conn-ip-node:${node.app.get(RedisService).nodeId}`;
          const ttl = await redis.pttl(tally);
          expect(ttl).toBeGreaterThan(0);
          expect(ttl).toBeLessThanOrEqual(6_000);
        }
        // A connection closed meanwhile is given back too.
        open.shift()!.close();
        await waitUntil(async () => (await counted(redis, prefix)) === 3, 3000, 'three counted');
        await Promise.all(nodes.map((n) => n.close()));
        expect(await countKeys(redis, prefix)).toEqual([]);
      } finally {
        await Promise.all(nodes.map((n) => n.close()));
        await deletePrefix(prefix);
      }
    });

    it('is rewritten from the live connections after Redis lost everything, and never goes below zero', async () => {
      const prefix = runPrefix('conn-restart');
      const node = await startNode(prefix, { MAX_CONNECTIONS_PER_IP: '2' });
      try {
        open.push(await rawConnect(node.url), await rawConnect(node.url));
        // Redis comes back empty (a restart without persistence).
        await deletePrefix(prefix);
        await killStoreConnection(redis, node);
        await waitUntil(async () => (await counted(redis, prefix)) === 2, 5000, 'the two live connections counted');
        expect(((await attempt(node.url)) as Error).message).toBe('TOO_MANY_CONNECTIONS');
        // Both leave: the count is 0, not below, so the limit is still 2.
        for (const s of open.splice(0)) s.close();
        await waitUntil(async () => (await countKeys(redis, prefix)).length === 0, 3000, 'no count left');
        open.push(await rawConnect(node.url), await rawConnect(node.url));
        expect(((await attempt(node.url)) as Error).message).toBe('TOO_MANY_CONNECTIONS');
      } finally {
        await node.close();
        await deletePrefix(prefix);
      }
    });

    it('leaks nothing from connections counted while Redis did not answer', async () => {
      const prefix = runPrefix('conn-pause');
      const u = new URL(REDIS_URL);
      const proxy: TcpProxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) });
      const node = await startNode(prefix, { MAX_CONNECTIONS_PER_IP: '10' }, proxy.url);
      try {
        open.push(await rawConnect(node.url));
        expect(await counted(redis, prefix)).toBe(1);
        // Redis goes silent while three more connect: each is let in once the count times out.
        proxy.partition();
        const during = await Promise.all([rawConnect(node.url), rawConnect(node.url), rawConnect(node.url)]);
        open.push(...during);
        await sleep(300);
        // What was sent meanwhile reaches Redis late, and must not count then.
        proxy.heal();
        await waitUntil(async () => (await counted(redis, prefix)) === 4, 8000, 'the four live connections counted');
        for (const s of open.splice(0)) s.close();
        await waitUntil(async () => (await counted(redis, prefix)) === 0, 3000, 'nothing counted');
        await sleep(500);
        expect(await counted(redis, prefix)).toBe(0);
      } finally {
        await node.close();
        await proxy.close();
        await deletePrefix(prefix);
      }
    }, 30_000);
  });

  describe('parley_logged_in_users', () => {
    const prefix = runPrefix('users-gauge');
    let a: RedisNode;
    let b: RedisNode;

    beforeAll(async () => {
      a = await startNode(prefix, { ADMIN_TOKEN: TOKEN, RATE_LIMIT_PER_SEC: '0' });
      b = await startNode(prefix, { ADMIN_TOKEN: TOKEN, RATE_LIMIT_PER_SEC: '0' });
    });

    afterAll(async () => {
      closeAllClients();
      await Promise.all([a?.close(), b?.close()]);
      await deletePrefix(prefix);
    });

    it('counts a user on the node that holds its socket, whichever node kicks it', async () => {
      const room = uniqueRoom('gauge');
      const onA = await connect(a.url);
      await login(onA, uniqueName('a'), room);
      const onB: TestClient[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await connect(b.url);
        await login(c, uniqueName('b'), room);
        onB.push(c);
      }
      expect(await gauge(a, 'parley_logged_in_users')).toBe(1);
      expect(await gauge(b, 'parley_logged_in_users')).toBe(3);

      // Node A's server API removes node B's members.
      for (const c of onB) {
        const res = await fetch(`${a.url}/rooms/${encodeURIComponent(room)}/users/${encodeURIComponent(c.id)}`, {
          method: 'DELETE',
          headers: { Authorization: `Bearer ${TOKEN}` },
        });
        expect(res.status).toBe(204);
        await c.waitFor('kicked');
      }
      await waitUntil(async () => (await gauge(b, 'parley_logged_in_users')) === 0, 3000, 'node B at 0');
      expect(await gauge(a, 'parley_logged_in_users')).toBe(1);

      // A kicked socket that logs in again counts again, on its own node.
      await login(onB[0], uniqueName('again'), room);
      expect(await gauge(b, 'parley_logged_in_users')).toBe(1);
      expect(await gauge(a, 'parley_logged_in_users')).toBe(1);
    });
  });
});
