import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionStoreService } from './session-store.service.js';

/**
 * Disconnect reasons after which Socket.IO keeps the session for recovery. The client's
 * own disconnect() and the server's socket.disconnect() are not among them: those depart
 * at once.
 */
const RECOVERABLE = new Set(['transport error', 'transport close', 'forced close', 'ping timeout']);

/**
 * The end of a connection. Without a recovery window a disconnect is a departure; with one,
 * a dropped transport is held for the window, and the departure happens only if Socket.IO
 * does not recover the session in time. A departure is the domain event `socket.departed`,
 * which each feature handles for itself, so a held socket keeps its room, name, calls,
 * lobby entry and peer id until then.
 */
@Injectable()
export class SessionService implements OnModuleDestroy {
  private readonly logger = new Logger(SessionService.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: SessionStoreService,
    private readonly metrics: MetricsService,
    private readonly bus: DomainEventBus,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

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

  /** The socket is gone for good: every feature forgets it (see DEPARTURE_ORDER). */
  async depart(id: string, reason: string): Promise<void> {
    await this.bus.emit('socket.departed', { id, reason });
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
