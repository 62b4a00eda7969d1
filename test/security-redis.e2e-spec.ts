/**
 * MAX_CONNECTIONS_PER_IP across nodes: with REDIS_URL the per-address count lives in Redis
 * (one tally per node, `conn-ip-node:<node>`, summed), so two nodes share one limit. Skipped (with one
 * line) when no Redis answers; REQUIRE_REDIS=1 makes that a failure.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { closeAllClients, connect, sleep, type TestClient } from './helpers/client.js';
import { deletePrefix, describeWithRedis, inspector, runPrefix, startNode, type RedisNode } from './helpers/redis.js';

const describeRedis = await describeWithRedis('security-redis.e2e-spec.ts');

async function attempt(url: string): Promise<TestClient | Error> {
  try {
    return await connect(url);
  } catch (err) {
    return err as Error;
  }
}

describeRedis('MAX_CONNECTIONS_PER_IP with Redis (two nodes)', () => {
  const prefix = runPrefix('security');
  let one: RedisNode;
  let two: RedisNode;
  const redis = inspector();
  /** The address's connections over every node's tally. */
  const counted = async (): Promise<number> => {
    let sum = 0;
    for (const tally of await redis.keys(`${prefix}conn-ip-node:*`))
      sum += Number(await redis.hget(tally, '127.0.0.1'));
    return sum;
  };

  beforeAll(async () => {
    one = await startNode(prefix, { MAX_CONNECTIONS_PER_IP: '2', RATE_LIMIT_PER_SEC: '0' });
    two = await startNode(prefix, { MAX_CONNECTIONS_PER_IP: '2', RATE_LIMIT_PER_SEC: '0' });
  });

  afterAll(async () => {
    closeAllClients();
    await sleep(100);
    await Promise.all([one?.close(), two?.close()]);
    await deletePrefix(prefix);
    redis.disconnect();
  });

  it('counts the connections of every node against one limit, and gives slots back', async () => {
    const a = await connect(one.url);
    const b = await connect(two.url);
    expect(await counted()).toBe(2);
    for (const node of [one, two]) {
      const refused = await attempt(node.url);
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).message).toBe('TOO_MANY_CONNECTIONS');
    }
    // Refused attempts are not counted.
    expect(await counted()).toBe(2);
    expect(await a.request('ping')).toBe(a.id);

    a.close();
    let c: TestClient | Error = new Error('not tried');
    for (let i = 0; i < 40 && c instanceof Error; i++) {
      await sleep(50);
      c = await attempt(two.url);
    }
    expect(c).not.toBeInstanceOf(Error);
    expect(await counted()).toBe(2);

    b.close();
    (c as TestClient).close();
    for (let i = 0; i < 40 && (await counted()) !== 0; i++) await sleep(50);
    expect(await counted()).toBe(0);
  });
});
