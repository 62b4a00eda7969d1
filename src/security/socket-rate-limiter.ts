import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface RateLimitOptions {
  /** RATE_LIMIT_PER_SEC: events per second, sustained (> 0). */
  perSec: number;
  /** RATE_LIMIT_BURST: events at once. */
  burst: number;
}

/** What to do with one inbound event. */
export type RateDecision = 'allow' | 'refuse' | 'flood';

/**
 * The sustained limiter's window: short, so that a freed slot comes back about as soon as a
 * token bucket would give one back (1 / RATE_LIMIT_PER_SEC), but at least this long so a
 * high rate does not create a timer per event.
 */
const MIN_WINDOW_S = 0.05;

/**
 * Flood detection. A one-second window in which a socket *attempts* more than
 * max(FLOOD_FACTOR × RATE_LIMIT_PER_SEC, RATE_LIMIT_BURST + RATE_LIMIT_PER_SEC) events is a
 * strike; FLOOD_STRIKES strikes within FLOOD_STRIKE_WINDOW_S seconds disconnect it. A single
 * burst, however large, is one strike: only a socket that keeps flooding for several
 * seconds is dropped.
 */
export const FLOOD_FACTOR = 4;
export const FLOOD_STRIKES = 3;
export const FLOOD_STRIKE_WINDOW_S = 5;

/**
 * A per-socket token bucket (RATE_LIMIT_BURST at once, RATE_LIMIT_PER_SEC sustained) made
 * of rate-limiter-flexible parts, plus flood detection. Keys are socket ids.
 *
 * A token bucket is expressed as a BurstyRateLimiter:
 * - the sustained limiter allows `p` events per `p / perSec` seconds (a short fixed window,
 *   so a socket that waited 1/perSec may send again);
 * - the burst limiter adds `burst - p` events, refilled every `burst / perSec` seconds (the
 *   time a drained bucket takes to fill up again).
 * So `burst` events pass at once, a socket sending at `perSec` is never refused, a socket
 * that waited `burst / perSec` seconds may burst again, and a socket that never stops
 * sending gets less than twice `perSec` over any long period.
 *
 * Everything is in memory: a socket lives on one node, so its limit needs no shared store.
 */
export class SocketRateLimiter {
  private readonly limiter: BurstyRateLimiter | RateLimiterMemory;
  private readonly parts: RateLimiterMemory[];
  private readonly attempts: RateLimiterMemory;
  private readonly strikes: RateLimiterMemory;
  readonly floodPerSec: number;

  constructor(options: RateLimitOptions) {
    const { perSec } = options;
    const burst = Math.max(1, Math.floor(options.burst));
    if (!(perSec > 0)) throw new Error('SocketRateLimiter needs a positive rate');

    const steady = Math.min(burst, Math.max(1, Math.ceil(perSec * MIN_WINDOW_S)));
    const sustained = new RateLimiterMemory({ keyPrefix: 'steady', points: steady, duration: steady / perSec });
    this.parts = [sustained];
    if (burst > steady) {
      const extra = new RateLimiterMemory({ keyPrefix: 'burst', points: burst - steady, duration: burst / perSec });
      this.parts.push(extra);
      this.limiter = new BurstyRateLimiter(sustained, extra);
    } else {
      this.limiter = sustained;
    }

    this.floodPerSec = Math.ceil(Math.max(FLOOD_FACTOR * perSec, burst + perSec));
    this.attempts = new RateLimiterMemory({ keyPrefix: 'attempts', points: this.floodPerSec, duration: 1 });
    this.strikes = new RateLimiterMemory({
      keyPrefix: 'strikes',
      points: FLOOD_STRIKES - 1,
      duration: FLOOD_STRIKE_WINDOW_S,
    });
  }

  /** Counts one inbound event of socket `key` and decides its fate. */
  async check(key: string): Promise<RateDecision> {
    if (await this.isFlooding(key)) return 'flood';
    try {
      await this.limiter.consume(key);
      return 'allow';
    } catch (err) {
      if (err instanceof RateLimiterRes) return 'refuse';
      throw err;
    }
  }

  /** Forgets a socket (on disconnect); its timers go with it. */
  async forget(key: string): Promise<void> {
    await Promise.all([...this.parts, this.attempts, this.strikes].map((l) => l.delete(key)));
  }

  private async isFlooding(key: string): Promise<boolean> {
    try {
      await this.attempts.consume(key);
      return false;
    } catch (over) {
      if (!(over instanceof RateLimiterRes)) throw over;
      // One strike per window: only the first attempt over the threshold counts.
      if (over.consumedPoints !== this.floodPerSec + 1) return false;
    }
    try {
      await this.strikes.consume(key);
      return false;
    } catch (out) {
      if (!(out instanceof RateLimiterRes)) throw out;
      return true;
    }
  }
}
