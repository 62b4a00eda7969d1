import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { UnavailableError } from '../common/errors/parley.error.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionStoreService } from './session-store.service.js';

/** What a feature does when a socket is gone for good (logout, end calls, leave lobby). */
export type DepartureHandler = (id: string) => Promise<void>;

/**
 * Disconnect reasons after which Socket.IO keeps the session for recovery. The client's
 * own disconnect() and the server's socket.disconnect() are not among them: those depart
 * at once.
 */
const RECOVERABLE = new Set(['transport error', 'transport close', 'forced close', 'ping timeout']);

/**
 * The end of a connection. Without a recovery window a disconnect is a departure; with one,
 * a dropped transport is held for the window, and the departure happens only if Socket.IO
 * does not recover the session in time. Features register their departure work here, so a
 * held socket keeps its room, name, calls, lobby entry and peer id until then.
 */
@Injectable()
export class SessionService implements OnModuleDestroy {
  private readonly logger = new Logger(SessionService.name);
  private readonly departures: DepartureHandler[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: SessionStoreService,
    private readonly metrics: MetricsService,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  /** Departure handlers run in registration order. */
  onDeparture(handler: DepartureHandler): void {
    this.departures.push(handler);
  }

  async disconnected(id: string, reason: string): Promise<void> {
    const windowMs = this.limits.recoveryWindowMs;
    if (windowMs > 0 && RECOVERABLE.has(reason)) {
      await this.store.hold(id, windowMs);
      const timer = setTimeout(() => void this.expire(id), windowMs);
      timer.unref();
      this.timers.set(id, timer);
      this.logger.log({ event: 'held', socketId: id, reason, windowMs });
      return;
    }
    await this.depart(id, reason);
  }

  /** Socket.IO restored this socket (same id): the hold ends without a departure. */
  async recovered(id: string): Promise<void> {
    this.clearTimer(id);
    await this.store.adopt(id);
    if (await this.store.release(id)) {
      this.metrics.recovered.inc();
      this.logger.log({ event: 'recovered', socketId: id });
    }
  }

  /** Runs every departure handler for a socket that is gone for good. */
  async depart(id: string, reason: string): Promise<void> {
    for (const handler of this.departures) {
      try {
        await handler(id);
      } catch (err) {
        // Redis not answering is no fault of ours: the liveness reconcile cleans up after it.
        const entry = { event: 'departure-failed', socketId: id, reason, err: String(err) };
        if (err instanceof UnavailableError) this.logger.warn(entry);
        else this.logger.error(entry);
      }
    }
  }

  onModuleDestroy(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async expire(id: string): Promise<void> {
    this.timers.delete(id);
    if (!(await this.store.release(id))) return;
    this.metrics.expired.inc();
    this.logger.log({ event: 'expired', socketId: id });
    await this.depart(id, 'recovery window ended');
  }

  private clearTimer(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }
}
