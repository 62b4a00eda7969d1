import { Inject, Injectable } from '@nestjs/common';
import type { User } from '../common/events.js';
import {
  NotAMemberError,
  NotLoggedInError,
  PayloadTooLargeError,
  ValidationError,
} from '../common/errors/parley.error.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { measureJson } from '../common/validation/json-measure.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import type { DirectItem } from './dto/direct.dto.js';

/** How many MAX_MESSAGE_BYTES one `direct` request may carry in all. */
export const DIRECT_TOTAL_FACTOR = 4;

/**
 * `direct`: one opaque payload per recipient, for members of the sender's room only. The
 * payloads are never logged or looked at beyond their size, and never retained.
 */
@Injectable()
export class DirectService {
  constructor(
    private readonly users: UserStoreService,
    private readonly realtime: RealtimeService,
    private readonly metrics: MetricsService,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  /**
   * Checks, in the protocol's order (bounds and sizes, then login, then membership), and
   * delivers only when every recipient is a member: a refused request reaches nobody.
   */
  async send(senderId: string, sender: User | undefined, items: DirectItem[]): Promise<{ at: number }> {
    this.checkBounds(senderId, items);
    if (!sender) throw new NotLoggedInError();
    // The store is the authority on membership on every node (Redis mode included).
    const members = new Set((await this.users.listRoom(sender.room)).map((u) => u.id));
    items.forEach((item, i) => {
      if (!members.has(item.to)) throw new NotAMemberError(i, item.to, sender.room);
    });
    const at = Date.now();
    for (const { to, payload } of items) {
      this.realtime.emitTo(to, 'direct', { from: sender.name, fromId: sender.id, room: sender.room, payload, at });
    }
    this.metrics.directs.inc(items.length);
    return { at };
  }

  private checkBounds(senderId: string, items: DirectItem[]): void {
    const max = this.limits.maxRoomUsers;
    if (items.length > max) throw new ValidationError(`items holds ${items.length} items; at most ${max} are allowed`);
    items.forEach((item, i) => {
      if (item.to === senderId) throw new ValidationError(`items[${i}].to is the sender itself`);
    });
    const itemLimit = this.limits.maxSignalBytes;
    items.forEach((item, i) => {
      const size = measureJson(item.payload).bytes;
      if (size > itemLimit)
        throw new PayloadTooLargeError(`items[${i}].payload is ${size} bytes; the limit is ${itemLimit}`);
    });
    const totalLimit = DIRECT_TOTAL_FACTOR * this.limits.maxMessageBytes;
    const total = measureJson(items).bytes;
    if (total > totalLimit)
      throw new PayloadTooLargeError(`items is ${total} bytes in all; the limit is ${totalLimit}`);
  }
}
