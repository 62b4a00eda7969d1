import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { isHeld } from './recoverable.js';
import { SessionStoreService } from './session-store.service.js';

/** Told when this node starts holding a dropped socket and when that hold's window ends. */
export interface HoldListener {
  held?(id: string, token: string): void;
  /** The window of the hold `token` ended on this node (departed or not) or it was recovered here. */
  ended?(id: string, token: string): void;
}

interface LocalHold {
  token: string;
  timer: NodeJS.Timeout;
}

/**
 * The end of a connection. Without a recovery window a disconnect is a departure; with one,
 * a dropped transport is held for the window, and the departure happens only if Socket.IO
 * does not recover the session in time. A departure is the domain event `socket.departed`,
 * which each feature handles for itself, so a held socket keeps its room, name, calls,
 * lobby entry and peer id until then; what a feature holds for a dropped socket on this
 * node itself (a connection slot) follows the holds through `onHold`.
 *
 * Every drop gets a token of its own, stored with the hold: a window ends only the hold it
 * started, so a socket recovered elsewhere and dropped again is not logged out by the
 * first window (see SessionStoreService).
 */
@Injectable()
export class SessionService implements OnModuleDestroy {
  private readonly logger = new Logger(SessionService.name);
  private readonly holdListeners: HoldListener[] = [];
  private readonly holds = new Map<string, LocalHold>();

  constructor(
    private readonly store: SessionStoreService,
    private readonly metrics: MetricsService,
    private readonly bus: DomainEventBus,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  onHold(listener: HoldListener): void {
    this.holdListeners.push(listener);
  }

  /** Whether a socket that disconnects for `reason` is held (rather than departing at once). */
  isHeld(reason: string): boolean {
    return isHeld(this.limits.recoveryWindowMs, reason);
  }

  async disconnected(id: string, reason: string): Promise<void> {
    const windowMs = this.limits.recoveryWindowMs;
    if (this.isHeld(reason)) {
      const token = randomUUID();
      this.endLocalHold(id);
      await this.store.hold(id, windowMs, token);
      const timer = setTimeout(() => void this.expire(id, token), windowMs);
      timer.unref();
      this.holds.set(id, { token, timer });
      for (const l of this.holdListeners) l.held?.(id, token);
      this.logger.log({ event: 'held', socketId: id, reason, windowMs });
      return;
    }
    await this.depart(id, reason);
  }

  /** Socket.IO restored this socket (same id): the hold ends without a departure. */
  async recovered(id: string): Promise<void> {
    this.endLocalHold(id);
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
    for (const id of [...this.holds.keys()]) this.endLocalHold(id);
  }

  private async expire(id: string, token: string): Promise<void> {
    if (this.holds.get(id)?.token === token) {
      this.holds.delete(id);
      this.notifyEnded(id, token);
    }
    // Only this drop's hold: a later drop (here or on another node) holds it under its own token.
    if (!(await this.store.release(id, token))) return;
    this.metrics.expired.inc();
    this.logger.log({ event: 'expired', socketId: id });
    await this.depart(id, 'recovery window ended');
  }

  /** This node stops timing the socket's hold (recovered here, held again, or shutting down). */
  private endLocalHold(id: string): void {
    const hold = this.holds.get(id);
    if (!hold) return;
    clearTimeout(hold.timer);
    this.holds.delete(id);
    this.notifyEnded(id, hold.token);
  }

  private notifyEnded(id: string, token: string): void {
    for (const l of this.holdListeners) l.ended?.(id, token);
  }
}
