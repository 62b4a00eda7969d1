import { Injectable, Logger } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { UnavailableError } from '../errors/parley.error.js';
import type { DomainEventName, DomainEvents } from './domain-events.js';

type Handler<E extends DomainEventName> = (payload: DomainEvents[E]) => void | Promise<void>;

interface Subscription {
  order: number;
  seq: number;
  handler: (payload: never) => void | Promise<void>;
}

/** Values the app asks every provider for at the time it needs them (health, gauges). */
export interface DomainQueries {
  /** One /health indicator each (the Socket.IO check is built in). */
  health: HealthIndicatorResult;
  /** Rooms with at least one user, for the `parley_rooms` gauge (one answer is enough). */
  roomCount: number;
  /**
   * Sockets on this node that are logged in to a room, for the `parley_logged_in_users`
   * gauge (one answer is enough).
   */
  localUserCount: number;
}

export type DomainQueryName = keyof DomainQueries;

/**
 * A small typed event bus, one per app. Chosen over @nestjs/event-emitter because its
 * events are untyped strings, and its `emitAsync` runs handlers concurrently, where a
 * departure needs its handlers awaited one after another (the room's `leave` before the
 * call peers' `ended`, as on a plain disconnect).
 *
 * - `emit` awaits each handler in turn (by `order`, then subscription order); a handler
 *   that throws is logged and the others still run. It never rejects.
 * - `publish` starts `emit` without waiting, for events nothing downstream has to wait for.
 * - `answer`/`ask`: the pull side, for values collected when needed (/health, gauges).
 */
@Injectable()
export class DomainEventBus {
  private readonly logger = new Logger('DomainEvents');
  private readonly subscriptions = new Map<DomainEventName, Subscription[]>();
  private readonly answerers = new Map<DomainQueryName, Array<() => Promise<unknown>>>();
  private seq = 0;

  /** Subscribes; returns the unsubscribe function. */
  on<E extends DomainEventName>(event: E, handler: Handler<E>, options: { order?: number } = {}): () => void {
    const list = this.subscriptions.get(event) ?? [];
    const sub: Subscription = {
      order: options.order ?? 100,
      seq: this.seq++,
      handler: handler as Subscription['handler'],
    };
    list.push(sub);
    list.sort((a, b) => a.order - b.order || a.seq - b.seq);
    this.subscriptions.set(event, list);
    return () => {
      const at = list.indexOf(sub);
      if (at >= 0) list.splice(at, 1);
    };
  }

  async emit<E extends DomainEventName>(event: E, payload: DomainEvents[E]): Promise<void> {
    const list = this.subscriptions.get(event);
    if (!list) return;
    for (const sub of [...list]) {
      try {
        await (sub.handler as Handler<E>)(payload);
      } catch (err) {
        // Never the payload: it names sockets and users, but a handler's error may carry more.
        // Redis not answering is no fault of ours (the liveness reconcile cleans up after it).
        const entry = { event: 'domain-event-handler-failed', domainEvent: event, err: String(err) };
        if (err instanceof UnavailableError) this.logger.warn(entry);
        else this.logger.error(entry);
      }
    }
  }

  publish<E extends DomainEventName>(event: E, payload: DomainEvents[E]): void {
    void this.emit(event, payload);
  }

  listeners(event: DomainEventName): number {
    return this.subscriptions.get(event)?.length ?? 0;
  }

  answer<Q extends DomainQueryName>(query: Q, fn: () => Promise<DomainQueries[Q]>): void {
    const list = this.answerers.get(query) ?? [];
    list.push(fn);
    this.answerers.set(query, list);
  }

  /** The answerers of `query`, not yet called (so a caller can run them its own way). */
  answerersOf<Q extends DomainQueryName>(query: Q): Array<() => Promise<DomainQueries[Q]>> {
    return [...((this.answerers.get(query) ?? []) as Array<() => Promise<DomainQueries[Q]>>)];
  }
}
