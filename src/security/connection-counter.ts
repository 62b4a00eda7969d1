import { Logger } from '@nestjs/common';
import { LogThrottle } from '../common/logging/log-throttle.js';
import {
  RateLimiterMemory,
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
 * and refuses the one over the limit, `reward` gives a slot back. One node's counter (on
 * RateLimiterMemory); with Redis, RedisConnectionCounter counts instead.
 */
export class LimiterConnectionCounter extends ConnectionCounter {
  private readonly logger = new Logger('ConnectionCounter');
  private readonly throttle = new LogThrottle();

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
      return UNCOUNTED;
    }
    return new CountedLease(this, ip);
  }

  /** Gives back a lease's slot (CountedLease calls this once). */
  async release(ip: string): Promise<void> {
    await this.giveBack(ip);
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

/** What the Redis counter needs of RedisService (its scripts, key names, node id, heartbeat TTL). */
export interface CounterRedis {
  readonly nodeId: string;
  readonly keys: { connTally(node: string): string; readonly connTallyNodes: string };
  readonly timings: { heartbeatTtlMs: number };
  script<T>(name: ConnScript, keys: string[], args: Array<string | number>): Promise<T>;
}
type ConnScript =
  'parleyConnAcquire' | 'parleyConnRelease' | 'parleyConnReconcile' | 'parleyConnForget' | 'parleyConnCount';

/** A slot this node counted; its own tally (`local`) is what reconciliation writes back. */
class TalliedLease implements ConnectionLease {
  private released = false;

  constructor(
    private readonly counter: RedisConnectionCounter,
    private readonly ip: string,
  ) {}

  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return this.counter.release(this.ip);
  }
}

/**
 * The cluster-wide counter. Each node counts its own connections in its tally in Redis
 * (`conn-ip-node:<node>`, ip → count; see the parleyConn* scripts in lua.ts), and an
 * address's total is the sum over the tallies that exist, so nothing but the tallies can
 * be wrong, and each node can put its own right:
 * - every command is fenced (it changes nothing once its caller has given up on it) and
 *   has the store's deadline; one that fails or times out lets the connection in, counted
 *   here (`local`) but perhaps not in Redis, and the node's tally is rewritten from `local`
 *   when Redis answers again (`store.reconnected`);
 * - a release never goes below zero;
 * - the tally has the heartbeat's TTL, refreshed with the heartbeat, so a node that stops
 *   without cleaning up takes its counts with it even when nobody sweeps it; at shutdown
 *   the node deletes it, and `node.gone` deletes a dead node's.
 */
export class RedisConnectionCounter extends ConnectionCounter {
  private readonly logger = new Logger('ConnectionCounter');
  private readonly throttle = new LogThrottle();
  /** What this node has counted (held sessions included): ip → live connections. */
  private readonly local = new Map<string, number>();
  /** Commands sent and not yet settled. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Set while the tally is rewritten; new acquisitions wait for it. */
  private rewriting?: Promise<void>;
  /** Whether the rewrite has read `local` yet (a release before that is left to it). */
  private snapshotTaken = false;
  private closed = false;
  private readonly tallyKey: string;

  constructor(
    private readonly redis: CounterRedis,
    private readonly maxPerIp: number,
  ) {
    super();
    this.tallyKey = redis.keys.connTally(redis.nodeId);
  }

  async acquire(ip: string): Promise<ConnectionLease | undefined> {
    if (this.rewriting) await this.rewriting;
    if (this.closed) return UNCOUNTED;
    let counted: number;
    try {
      counted = await this.send(
        this.redis.script<number>(
          'parleyConnAcquire',
          [this.tallyKey, this.redis.keys.connTallyNodes],
          [ip, this.redis.nodeId, this.maxPerIp, this.redis.timings.heartbeatTtlMs],
        ),
      );
    } catch (err) {
      // Unreachable, or no answer in time (the increment may or may not have happened):
      // let the connection in rather than lock everyone out, count it here, and let the
      // rewrite when Redis answers again (a failure always ends in store.reconnected)
      // settle what Redis has.
      this.storeError(err);
      counted = 1;
    }
    if (counted !== 1) return undefined;
    this.local.set(ip, (this.local.get(ip) ?? 0) + 1);
    return new TalliedLease(this, ip);
  }

  /** Gives back a lease's slot (TalliedLease calls this once). */
  async release(ip: string): Promise<void> {
    const n = this.local.get(ip) ?? 0;
    if (n <= 1) this.local.delete(ip);
    else this.local.set(ip, n - 1);
    // After shutdown's give-back there is nothing left to give; a rewrite that has not
    // read `local` yet leaves this one out; one that has is waited for.
    if (this.closed) return;
    if (this.rewriting) {
      if (!this.snapshotTaken) return;
      await this.rewriting;
      if (this.closed) return;
    }
    try {
      await this.send(
        this.redis.script(
          'parleyConnRelease',
          [this.tallyKey, this.redis.keys.connTallyNodes],
          [ip, this.redis.nodeId],
        ),
      );
    } catch (err) {
      this.storeError(err);
    }
  }

  count(ip: string): Promise<number> {
    return this.redis.script<number>('parleyConnCount', [this.redis.keys.connTallyNodes], [ip]);
  }

  /**
   * Rewrites this node's tally from what it counts now (after Redis came back, maybe
   * empty). Waits for the commands in flight, so none lands after the rewrite; new ones
   * wait for it.
   */
  async reconcile(): Promise<void> {
    if (this.closed || this.rewriting) return this.rewriting;
    let done!: () => void;
    this.rewriting = new Promise<void>((resolve) => (done = resolve));
    this.snapshotTaken = false;
    try {
      await Promise.allSettled([...this.inFlight]);
      const args: Array<string | number> = [this.redis.nodeId, this.redis.timings.heartbeatTtlMs];
      for (const [ip, n] of this.local) args.push(ip, n);
      this.snapshotTaken = true;
      await this.redis.script('parleyConnReconcile', [this.tallyKey, this.redis.keys.connTallyNodes], args);
      this.logger.log({ event: 'connection-count-reconciled', addresses: this.local.size });
    } catch (err) {
      // It failed, so Redis is failing: the next store.reconnected tries again.
      this.storeError(err);
    } finally {
      this.rewriting = undefined;
      done();
    }
  }

  /** Shutdown: everything this node counted is given back at once; later releases do nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.rewriting) await this.rewriting;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    this.local.clear();
    await this.forgetNode(this.redis.nodeId);
  }

  /** Gives back everything `node` counted (this node at shutdown, a dead one when swept). */
  async forgetNode(node: string): Promise<void> {
    await this.redis.script(
      'parleyConnForget',
      [this.redis.keys.connTally(node), this.redis.keys.connTallyNodes],
      [node],
    );
  }

  private send<T>(command: Promise<T>): Promise<T> {
    this.inFlight.add(command);
    const settled = (): void => void this.inFlight.delete(command);
    command.then(settled, settled);
    return command;
  }

  private storeError(err: unknown): void {
    this.throttle.run('store', (extra) =>
      this.logger.warn({
        msg: 'connection counter store failed; counting here until Redis answers again',
        err: String(err),
        ...extra,
      }),
    );
  }
}
