/**
 * Counters that must not drift across nodes: the per-address connection count in Redis and
 * the `parley_logged_in_users` gauge, with real clients against two nodes on a real Redis.
 * Skipped (with one line) when no Redis answers; REQUIRE_REDIS=1 makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closeAllClients, connect, login, uniqueName, uniqueRoom, type TestClient } from './helpers/client.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, waitUntil, type RedisNode } from './helpers/redis.js';

const describeRedis = await describeWithRedis('security-counters.e2e-spec.ts');

const TOKEN = 'security-counters-token';

async function gauge(node: RedisNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (-?[\\d.e+]+)`, 'm').exec(text)?.[1] ?? NaN);
}

describeRedis('counters across two nodes', () => {
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
