/**
 * Helpers for the Redis e2e specs: finding Redis (or skipping with one clear line), a key
 * prefix per test run, a /health probe, and the run's key cleanup (nodes: server.ts).
 */
import { describe, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { connect as netConnect } from 'node:net';

export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

export type { ParleyApp, RedisNode } from './server.js';
export { startNode } from './server.js';

/** Resolves true when a Redis answers PING at `url` within `timeoutMs`. */
export function probeRedis(url = REDIS_URL, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = netConnect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    let buffer = '';
    socket.on('connect', () =>
      socket.write(u.password ? `AUTH ${decodeURIComponent(u.password)}\r\nPING\r\n` : 'PING\r\n'),
    );
    socket.on('data', (d) => {
      buffer += d.toString();
      if (buffer.includes('+PONG')) done(true);
      else if (buffer.includes('-')) done(false);
    });
    socket.on('error', () => done(false));
  });
}

/**
 * `describe` when Redis answers; otherwise `describe.skip` after one clear line, or, with
 * REQUIRE_REDIS=1 (CI), a suite with one failing test that says why.
 */
export async function describeWithRedis(file: string): Promise<typeof describe | typeof describe.skip> {
  if (await probeRedis()) return describe;
  const why = `Redis is not reachable at ${REDIS_URL}`;
  if (process.env.REQUIRE_REDIS === '1') {
    return ((name: string) =>
      describe(name, () => {
        it(`needs Redis (REQUIRE_REDIS=1): ${why}`, () => {
          throw new Error(`${why}; start one with: redis-server --save '' --appendonly no`);
        });
      })) as unknown as typeof describe;
  }
  console.warn(`${file}: skipped: ${why} (start redis-server, or set REQUIRE_REDIS=1 to make this a failure)`);
  return describe.skip;
}

/** A key prefix of its own for one test run (the Socket.IO stream lives under it too). */
export function runPrefix(label: string): string {
  return `parley-test-${label}-${randomBytes(4).toString('hex')}:`;
}

/** GET /health on a fresh connection (no keep-alive left behind to hold the test process). */
export function health(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const req = httpGet(`${url}/health`, { agent: false, timeout: 3000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: { error: String(err) } }));
  });
}

/** Polls `check` until it returns a truthy value; rejects after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A plain client on the test Redis, for looking at keys. */
export function inspector(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** Deletes every key of a test run. */
export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
