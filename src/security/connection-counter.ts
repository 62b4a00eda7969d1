import { Logger } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';

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

/**
 * A ConnectionCounter on a rate-limiter-flexible limiter with `points` = the limit and
 * `duration` = 0 (a counter that never expires on its own): `consume` counts a connection
 * and refuses the one over the limit, `reward` gives a slot back. The same code runs on
 * RateLimiterMemory and on RateLimiterRedis (atomic INCRBY), so with Redis the limit holds
 * across nodes.
 */
export class LimiterConnectionCounter extends ConnectionCounter {
  private readonly logger = new Logger('ConnectionCounter');
  private lastStoreError = 0;

  constructor(
    private readonly limiter: RateLimiterAbstract | RateLimiterStoreAbstract,
    /** Whether an emptied key may be deleted (only safe when no other process shares it). */
    private readonly deleteWhenEmpty: boolean,
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
      return { release: async () => undefined };
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await this.giveBack(ip);
      },
    };
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
    const now = Date.now();
    if (now - this.lastStoreError < 10_000) return;
    this.lastStoreError = now;
    this.logger.warn({ msg: 'connection counter store failed; connections are not being counted', err: String(err) });
  }
}

/** The single-node counter. */
export function inMemoryConnectionCounter(maxPerIp: number): ConnectionCounter {
  return new LimiterConnectionCounter(
    new RateLimiterMemory({ keyPrefix: 'conn-ip', points: maxPerIp, duration: 0 }),
    true,
  );
}

/**
 * The cluster-wide counter, on an ioredis client (the Redis module's client provider):
 * rate-limiter-flexible's Redis store, so `consume` is one atomic INCRBY and every node sees
 * the same count. Keys: `<prefix>conn-ip:<ip>`, no expiry; each node gives back what it
 * counted. While Redis is unreachable, connections are let in uncounted.
 */
export function redisConnectionCounter(storeClient: unknown, maxPerIp: number, keyPrefix: string): ConnectionCounter {
  return new LimiterConnectionCounter(
    new RateLimiterRedis({ storeClient, keyPrefix: `${keyPrefix}conn-ip`, points: maxPerIp, duration: 0, rejectIfRedisNotReady: true }),
    false,
  );
}

/** A counter made on first use (when its store is only reachable once the app is up). */
export class LazyConnectionCounter extends ConnectionCounter {
  private counter?: ConnectionCounter;

  constructor(private readonly make: () => ConnectionCounter) {
    super();
  }

  acquire(ip: string): Promise<ConnectionLease | undefined> {
    return this.get().acquire(ip);
  }

  count(ip: string): Promise<number> {
    return this.get().count(ip);
  }

  private get(): ConnectionCounter {
    return (this.counter ??= this.make());
  }
}
