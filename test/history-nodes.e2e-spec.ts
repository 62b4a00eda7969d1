/**
 * History across process lifetimes and nodes: a restart in the in-memory mode is a new
 * epoch; with Redis, offsets are shared by every node (concurrent senders on two nodes),
 * survive node restarts, keep each room's keys under one hash tag with TTLs, and start a
 * new epoch when Redis loses the room (its keys deleted; never FLUSHALL: Redis is shared).
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { HistoryReply, MessageAck, RoomMessage } from '../src/common/events.js';
import { closeAllServers, startServer } from './helpers/server.js';
import { closeAllClients, connect, login, sleep, uniqueRoom, type TestClient } from './helpers/client.js';
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
import { freePort, hasRedisServer, redisServer, type RedisServer } from './helpers/processes.js';

const describeRedis = await describeWithRedis('history-nodes.e2e-spec');

afterEach(() => {
  closeAllClients();
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

async function send(c: TestClient, message: string): Promise<MessageAck> {
  return c.request<MessageAck>('roomMessage', { message });
}

describe('in-memory mode', () => {
  it('starts every room in a new epoch after a restart', async () => {
    const name = uniqueRoom('restart');
    const first = await startServer();
    const a = await connect(first);
    await login(a, 'ann', name);
    const before = await send(a, 'before');
    a.close();
    await first.close();

    const second = await startServer();
    const b = await connect(second);
    await login(b, 'ann', name);
    const reply = await b.request<HistoryReply>('history', { since: before.offset, epoch: before.epoch });
    expect(reply.complete).toBe(false);
    expect(reply.epoch).not.toBe(before.epoch);
    expect(reply.offset).toBe(0);
    expect(await send(b, 'after')).toMatchObject({ offset: 1, epoch: reply.epoch });
  });
});

describe('metrics', () => {
  it('counts retained messages and bytes, evictions, and history requests by complete', async () => {
    const srv = await startServer({ HISTORY_SIZE: '2' });
    const a = await connect(srv);
    await login(a, 'ann', uniqueRoom('metrics'));
    for (const m of ['aaa', 'bbb', 'ccc']) await send(a, m);
    await a.request('history', {});
    const { epoch } = await a.request<HistoryReply>('history', { since: 1, epoch: 'x' });
    await a.request('history', { since: 3, epoch });
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    expect(text).toMatch(/^parley_history_retained_messages 2$/m);
    expect(text).toMatch(/^parley_history_retained_bytes 6$/m);
    expect(text).toMatch(/^parley_history_evictions_total\{reason="count"\} 1$/m);
    expect(text).toMatch(/^parley_history_requests_total\{complete="false"\} 2$/m);
    expect(text).toMatch(/^parley_history_requests_total\{complete="true"\} 1$/m);
    expect(text).not.toContain('aaa');
  });
});

describeRedis('Redis mode', () => {
  const prefix = runPrefix('hist');
  const nodes: RedisNode[] = [];
  const redis = inspector();

  afterAll(async () => {
    closeAllClients();
    await Promise.all(nodes.map((n) => n.close()));
    await deletePrefix(prefix);
    redis.disconnect();
  });

  async function twoNodes(env: Record<string, string> = {}): Promise<[RedisNode, RedisNode]> {
    const pair: [RedisNode, RedisNode] = [await startNode(prefix, env), await startNode(prefix, env)];
    nodes.push(...pair);
    return pair;
  }

  it('numbers one room consecutively for concurrent senders on two nodes', async () => {
    const [n1, n2] = await twoNodes();
    const name = uniqueRoom('two');
    const clients = [await connect(n1.url), await connect(n2.url), await connect(n1.url), await connect(n2.url)];
    for (const [i, c] of clients.entries()) await login(c, `u${i}`, name);
    const per = 20;
    const acks = (
      await Promise.all(
        clients.map((c, s) => Promise.all(Array.from({ length: per }, (_, i) => send(c, `s${s}-${i}`)))),
      )
    ).flat();
    const total = clients.length * per;
    expect(acks.map((a) => a.offset).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(acks.map((a) => a.epoch)).size).toBe(1);
    for (const c of clients) {
      await waitUntil(() => c.received('roomMessage').length >= total, 5000, 'every message');
      const got = c.received('roomMessage');
      expect(got).toHaveLength(total);
      for (let s = 0; s < clients.length; s++) {
        const mine = got.filter((m: RoomMessage) => m.message.startsWith(`s${s}-`)).map((m) => m.message);
        expect(mine).toEqual(Array.from({ length: per }, (_, i) => `s${s}-${i}`));
      }
    }
    const reply = await clients[1].request<HistoryReply>('history', { limit: 1000 });
    expect(reply.messages.map((m) => m.offset)).toEqual(Array.from({ length: 50 }, (_, i) => total - 50 + i + 1));
  });

  it('keeps a room’s keys under its hash tag, expiring; the epoch key lasts while the room is occupied', async () => {
    const [n1] = await twoNodes({ HISTORY_TTL_S: '30' });
    const name = uniqueRoom('keys');
    const a = await connect(n1.url);
    await login(a, 'ann', name);
    await send(a, 'm1');
    const meta = `${prefix}room:{${name}}:hmeta`;
    const list = `${prefix}room:{${name}}:history`;
    expect(await redis.exists(meta, list)).toBe(2);
    expect(await redis.pttl(meta)).toBe(-1); // occupied
    const listTtl = await redis.pttl(list);
    expect(listTtl).toBeGreaterThan(0);
    expect(listTtl).toBeLessThanOrEqual(30_000);
    const [entry] = await redis.lrange(list, 0, 0);
    expect(entry).toMatch(/^1\|2\|\d+\|\{/); // offset, bytes, at, then the message JSON (ciphertext only)
    await a.request('logout');
    await waitUntil(
      async () => (await redis.pttl(meta)) > 0,
      2000,
      'the epoch key to get a TTL once the room is empty',
    );
  });

  it('keeps offsets and epochs across node restarts (Redis keeps them)', async () => {
    const [n1, n2] = await twoNodes();
    const name = uniqueRoom('keep');
    const a = await connect(n1.url);
    await login(a, 'ann', name);
    const first = await send(a, 'before');
    const b = await connect(n2.url);
    await login(b, 'ben', name);
    a.close();
    await n1.close();
    const n3 = await startNode(prefix);
    nodes.push(n3);
    const c = await connect(n3.url);
    await login(c, 'cid', name);
    const reply = await c.request<HistoryReply>('history', { since: 0, epoch: first.epoch });
    expect(reply).toMatchObject({ epoch: first.epoch, offset: 1, complete: true });
    expect(await send(c, 'after')).toMatchObject({ offset: 2, epoch: first.epoch });
  });

  it('starts a new epoch when Redis loses the room', async () => {
    const [n1, n2] = await twoNodes();
    const name = uniqueRoom('lost');
    const a = await connect(n1.url);
    const b = await connect(n2.url);
    await login(a, 'ann', name);
    await login(b, 'ben', name);
    await send(a, 'm1');
    const before = await send(b, 'm2');
    await redis.del(`${prefix}room:{${name}}:hmeta`, `${prefix}room:{${name}}:history`);
    const reply = await a.request<HistoryReply>('history', { since: before.offset, epoch: before.epoch });
    expect(reply.complete).toBe(false);
    expect(reply.epoch).not.toBe(before.epoch);
    expect(reply).toMatchObject({ messages: [], offset: 0 });
    const after = await send(b, 'm3');
    expect(after).toMatchObject({ offset: 1, epoch: reply.epoch });
    await sleep(50);
    expect(b.received('roomMessage').at(-1)).toMatchObject({ offset: 1, epoch: reply.epoch });
  });
});

describeRedis('Redis down, then back empty', () => {
  let server: RedisServer | undefined;
  let node: RedisNode | undefined;

  afterAll(async () => {
    closeAllClients();
    await node?.close();
    await server?.stop();
  });

  it('refuses room messages and history with UNAVAILABLE while Redis is down, and starts a new epoch after it lost everything', async () => {
    if (!hasRedisServer()) throw new Error('redis-server is not on PATH (needed for a Redis of this spec’s own)');
    server = await redisServer(await freePort());
    node = await startNode(runPrefix('hdown'), {}, server.url);
    const name = uniqueRoom('down');
    const [a, b] = [await connect(node.url), await connect(node.url)];
    await login(a, 'ann', name);
    await login(b, 'ben', name);
    const before = await send(a, 'before');
    expect(before.offset).toBe(1);

    await server.stop();
    await waitUntil(async () => (await health(node!.url)).status === 503, 10_000, '/health 503');
    const refused = await a.requestWithTimeout<{ code?: string }>(8000, 'roomMessage', { message: 'lost?' });
    expect(refused).toEqual({ error: expect.any(String), code: 'UNAVAILABLE' });
    expect(await a.requestWithTimeout(8000, 'history', {})).toEqual({ error: expect.any(String), code: 'UNAVAILABLE' });

    await server.start();
    await waitUntil(async () => (await health(node!.url)).status === 200, 15_000, '/health 200');
    const after = await waitUntil(
      async () => {
        const ack = await a.request<MessageAck | { code: string }>('roomMessage', { message: 'after' });
        return 'offset' in ack ? ack : undefined;
      },
      10_000,
      'a room message accepted again',
    );
    expect(after.offset).toBe(1);
    expect(after.epoch).not.toBe(before.epoch);
    await sleep(100);
    expect(b.received('roomMessage').map((m) => m.message)).toEqual(['before', 'after']);
  }, 60_000);
});
