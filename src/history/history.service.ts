import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { HistoryReply, MessageAck, RoomMessage, User } from '../common/events.js';
import { historyConfig, type HistoryConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { HistoryStoreService, type RedactOutcome } from './history-store.service.js';
import { emitWithCondition } from '../common/realtime/publish-condition.js';
import { UnavailableError } from '../common/errors/parley.error.js';

export interface HistoryRequest {
  since?: number;
  epoch?: string;
  limit?: number;
}

/**
 * Every accepted room message passes through here to get its place in the room (offset
 * and epoch) before anyone receives it; `history` answers from the same store. Never
 * looks inside a message beyond its size.
 */
@Injectable()
export class HistoryService {
  private readonly logger = new Logger(HistoryService.name);
  private readonly defaultLimit: number;

  constructor(
    private readonly store: HistoryStoreService,
    private readonly metrics: MetricsService,
    @Inject(historyConfig.KEY) private readonly config: HistoryConfig,
  ) {
    this.defaultLimit = Math.min(1000, Math.max(1, config.size));
  }

  /**
   * Places `message` from `user` in its room, hands the placed RoomMessage to `deliver`
   * (the broadcast), and resolves to the ack. Synchronous when the store is (in memory),
   * so one sender's messages keep their order without waiting a turn each; with Redis the
   * appends of one node go out on one connection and come back in the order sent.
   */
  record(
    user: User,
    message: string,
    deliver: (placed: RoomMessage) => void,
    conditional = false,
  ): MessageAck | Promise<MessageAck> {
    // Built in its final shape (offset and epoch filled in by the store), so the object
    // that is broadcast and retained never changes hidden class.
    const draft: RoomMessage = {
      id: randomUUID(),
      room: user.room,
      message,
      from: user.name,
      fromId: user.id,
      at: Date.now(),
      offset: 0,
      epoch: '',
    };
    const bytes = this.config.size > 0 ? Buffer.byteLength(message, 'utf8') : 0;
    // `conditional`: deliver is one broadcast through an adapter that takes conditions, so
    // the append can ride on its publish (one Redis command for both).
    const condition = conditional ? this.store.placeCondition?.(draft, bytes) : undefined;
    if (condition && emitWithCondition(condition, () => deliver(draft))) {
      return condition.outcome!.then(
        () => ack(draft),
        (err: unknown) => {
          throw err instanceof UnavailableError ? err : new UnavailableError();
        },
      );
    }
    const placed = this.store.append(draft, bytes);
    if (placed instanceof Promise) return placed.then((m) => delivered(m, deliver));
    return delivered(placed, deliver);
  }

  async read(room: string, request: HistoryRequest): Promise<HistoryReply> {
    const page = await this.store.read(room, {
      since: request.since,
      epoch: request.epoch,
      limit: request.limit ?? this.defaultLimit,
    });
    this.metrics.historyRequests.inc({ complete: String(page.complete) });
    return page;
  }

  /** Redacts a retained message (see HistoryStoreService.redact); `by` a socket id or REDACTED_BY_SERVER. */
  redact(room: string, epoch: string | undefined, offset: number, by: string): Promise<RedactOutcome> {
    return this.store.redact(room, epoch, offset, by);
  }

  /** The room's current epoch and latest offset (0 before its first message). */
  async position(room: string): Promise<{ epoch: string; offset: number }> {
    const page = await this.store.read(room, { limit: 0 });
    return { epoch: page.epoch, offset: page.offset };
  }

  /** A member arrived: the room's epoch must not lapse while it is occupied. */
  async occupied(room: string): Promise<void> {
    await this.store.occupied(room).catch((err: unknown) => this.fault('occupied', room, err));
  }

  /** The room's last member left. */
  async vacated(room: string): Promise<void> {
    await this.store.vacated(room).catch((err: unknown) => this.fault('vacated', room, err));
  }

  private fault(step: string, room: string, err: unknown): void {
    this.logger.warn({ event: 'history-error', step, room, err: String(err) });
  }
}

function delivered(m: RoomMessage, deliver: (placed: RoomMessage) => void): MessageAck {
  deliver(m);
  return ack(m);
}

function ack(m: RoomMessage): MessageAck {
  return { id: m.id, at: m.at, offset: m.offset, epoch: m.epoch };
}
