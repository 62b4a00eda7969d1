import { Logger } from '@nestjs/common';
import { LogThrottle } from '../logging/log-throttle.js';

export interface AuthFailureThrottleOptions {
  /** Failures an address may make before it has to wait. */
  free: number;
  /** The first wait; each further failure doubles it. */
  baseMs: number;
  /** The longest wait. */
  maxMs: number;
  /** An address without a failure for this long starts again from nothing. */
  forgetMs: number;
  /** Addresses remembered at most (the oldest is forgotten first), so a spray of addresses cannot grow memory. */
  maxEntries: number;
}

const DEFAULTS: AuthFailureThrottleOptions = {
  free: 5,
  baseMs: 1_000,
  maxMs: 15 * 60_000,
  forgetMs: 15 * 60_000,
  maxEntries: 10_000,
};

interface Entry {
  failures: number;
  lastAt: number;
  /** Until when the address's attempts are refused without being checked. */
  until: number;
}

/**
 * Slows down guessing of the admin secrets (the HTTP admin token, the admin UI's password),
 * per client address: a few free failures, then a wait that doubles with each further
 * failure. A refused attempt is answered at once without checking the secret, so guessing
 * costs the server nothing (no hash to compute). Failures are logged at warn, at most one
 * line per address every 10 s, with the address and the count, never what was sent.
 * In memory, per node: with several nodes an attacker gets each node's allowance. One per
 * app, provided by CommonModule.
 */
export class AuthFailureThrottle {
  private readonly logger = new Logger('AdminAuth');
  private readonly entries = new Map<string, Entry>();
  private readonly logs = new LogThrottle(10_000);
  private readonly options: AuthFailureThrottleOptions;

  constructor(
    options: Partial<AuthFailureThrottleOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Milliseconds `address` must still wait before its next attempt is checked; 0 when it may try now. */
  waitMs(address: string): number {
    const entry = this.current(address);
    return entry ? Math.max(0, entry.until - this.now()) : 0;
  }

  /** Records a failed attempt (`via` names the door, for the log); returns the wait it now owes. */
  failed(address: string, via: string): number {
    const now = this.now();
    let entry = this.current(address);
    if (entry) this.entries.delete(address);
    entry ??= { failures: 0, lastAt: now, until: 0 };
    entry.failures += 1;
    entry.lastAt = now;
    const over = entry.failures - this.options.free;
    if (over > 0) entry.until = now + Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(over - 1, 30));
    // Re-inserted, so the map's order is the order of last failure: the first entry is the stalest.
    this.entries.set(address, entry);
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const waitMs = Math.max(0, entry.until - now);
    this.logs.run(`${via}:${address}`, (extra) =>
      this.logger.warn({ event: 'admin-auth-failed', via, ip: address, failures: entry.failures, waitMs, ...extra }),
    );
    return waitMs;
  }

  /** A successful attempt clears the address's record. */
  succeeded(address: string): void {
    this.entries.delete(address);
  }

  /** A refused (throttled) attempt: counted in the log only. */
  refused(address: string, via: string): void {
    this.logs.run(`${via}:${address}`, (extra) =>
      this.logger.warn({ event: 'admin-auth-throttled', via, ip: address, waitMs: this.waitMs(address), ...extra }),
    );
  }

  private current(address: string): Entry | undefined {
    const entry = this.entries.get(address);
    if (entry && this.now() - entry.lastAt > this.options.forgetMs && entry.until <= this.now()) {
      this.entries.delete(address);
      return undefined;
    }
    return entry;
  }
}
