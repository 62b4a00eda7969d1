import { Logger } from '@nestjs/common';
import { LogThrottle } from '../common/logging/log-throttle.js';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
  type RateLimiterStoreAbstract,
} from 'rate-limiter-flexible';

/** One counted connection; releasing it twice counts once. */
export interface ConnectionLease {
  release(): Promise<void>;
}

/**
 * Concurrent connections per client address (MAX_CONNECTIONS_PER_IP). Abstract so that the
 * count can live in memory (one node) or in Redis (every node shares it).
 */
export abstract class ConnectionCounter {
  /** Counts one more connection from `ip`; undefined (and nothing counted) when it is at the limit. */
  abstract acquire(ip: string): Promise<ConnectionLease | undefined>;
  /** Connections currently counted for `ip` (for tests and diagnostics). */
  abstract count(ip: string): Promise<number>;
}

/** What a connection let in uncounted (the store was unreachable) holds. */
const UNCOUNTED: ConnectionLease = { release: async () => undefined };

/** A counted slot: an object per connection, so a plain class rather than closures. */
class CountedLease implements ConnectionLease {
  private released = false;

  constructor(
    private readonly counter: LimiterConnectionCounter,
    private readonly ip: string,
  ) {}

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.counter.release(this.ip);
  }
}

/**
 * A ConnectionCounter on a rate-limiter-flexible limiter with `points` = the limit and
 * `duration` = 0 (a counter that never expires on its own): `consume` counts a connection
 * and refuses the one over the limit, `reward` gives a slot back. The same code runs on
 * RateLimiterMemory and on RateLimiterRedis (atomic INCRBY), so with Redis the limit holds
 * across nodes.
 */
export class LimiterConnectionCounter extends ConnectionCounter {
  private readonly logger = new Logger('ConnectionCounter');
  private readonly throttle = new LogThrottle();

  constructor(
    private readonly limiter: RateLimiterAbstract | RateLimiterStoreAbstract,
    /** Whether an emptied key may be deleted (only safe when no other process shares it). */
    private readonly deleteWhenEmpty: boolean,
    /** Told of every counted (+1) and given-back (-1) connection, e.g. to keep a per-node tally. */
    private readonly tally?: (ip: string, delta: 1 | -1) => Promise<unknown>,
  ) {
    super();
  }

  async acquire(ip: string): Promise<ConnectionLease | undefined> {
    try {
      await this.limiter.consume(ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        // consume counted the refused attempt too: take it back.
        await this.giveBack(ip);
        return undefined;
      }
      // The store is unreachable: let the connection in rather than lock everyone out,
      // and do not give back what was never counted.
      this.storeError(err);
      return UNCOUNTED;
    }
    await this.tally?.(ip, 1).catch((err: unknown) => this.storeError(err));
    return new CountedLease(this, ip);
  }

  /** Gives back a lease's slot (CountedLease calls this once). */
  async release(ip: string): Promise<void> {
    await this.giveBack(ip);
    await this.tally?.(ip, -1).catch((err: unknown) => this.storeError(err));
  }

  async count(ip: string): Promise<number> {
    const res = await this.limiter.get(ip);
    return res ? Math.max(0, res.consumedPoints) : 0;
  }

  private async giveBack(ip: string): Promise<void> {
    try {
      const res = await this.limiter.reward(ip, 1);
      if (this.deleteWhenEmpty && res.consumedPoints <= 0) await this.limiter.delete(ip);
    } catch (err) {
      this.storeError(err);
    }
  }

  private storeError(err: unknown): void {
    this.throttle.run('store', (extra) =>
      this.logger.warn({
        msg: 'connection counter store failed; connections are not being counted',
        err: String(err),
        ...extra,
      }),
    );
  }
}

/** The single-node counter. */
export function inMemoryConnectionCounter(maxPerIp: number): ConnectionCounter {
  return new LimiterConnectionCounter(
    new RateLimiterMemory({ keyPrefix: 'conn-ip', points: maxPerIp, duration: 0 }),
    true,
  );
}

interface TallyClient {
  hincrby(key: string, field: string, by: number): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  decrby(key: string, by: number): Promise<number>;
  del(key: string): Promise<number>;
}

/**
 * The cluster-wide counter, on an ioredis client (the Redis module's client provider):
 * rate-limiter-flexible's Redis store, so `consume` is one atomic INCRBY and every node sees
 * the same count. Keys: `<prefix>conn-ip:<ip>`, no expiry; each node gives back what it
 * counted, and keeps a tally of it (`<prefix>conn-ip-node:<node>`, ip → count) so that the
 * counts of a node that died without giving back are returned by `forgetNodeConnections`.
 * While Redis is unreachable, connections are let in uncounted.
 */
export function redisConnectionCounter(
  storeClient: unknown,
  maxPerIp: number,
  keyPrefix: string,
  nodeId: string,
): ConnectionCounter {
  const client = storeClient as TallyClient;
  return new LimiterConnectionCounter(
    new RateLimiterRedis({
      storeClient,
      keyPrefix: `${keyPrefix}conn-ip`,
      points: maxPerIp,
      duration: 0,
      rejectIfRedisNotReady: true,
    }),
    false,
    (ip, delta) => client.hincrby(`${keyPrefix}conn-ip-node:${nodeId}`, ip, delta),
  );
}

/** Gives back every connection a dead node had counted (called once per dead node). */
export async function forgetNodeConnections(storeClient: unknown, keyPrefix: string, nodeId: string): Promise<void> {
  const client = storeClient as TallyClient;
  const tallyKey = `${keyPrefix}conn-ip-node:${nodeId}`;
  const tally = await client.hgetall(tallyKey);
  for (const [ip, count] of Object.entries(tally)) {
    const n = Number(count);
    if (n > 0) await client.decrby(`${keyPrefix}conn-ip:${ip}`, n);
  }
  await client.del(tallyKey);
}
