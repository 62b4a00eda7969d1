import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { ReadReceipt, User, UserStatus } from '../common/events.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { NotLoggedInError, ValidationError } from '../common/errors/parley.error.js';
import { roomChannel } from '../common/realtime/channels.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { HistoryService } from '../history/history.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import { ReadPositionStoreService } from './read-position-store.service.js';

/**
 * Presence, typing and read receipts (protocol v1.2). A status lives with the member in the
 * user store (so `users` lists carry it), a read position in the read-position store; both
 * go when the member leaves. Typing is relayed and never stored. None of it looks at a
 * message: read positions are offsets.
 */
@Injectable()
export class PresenceService implements OnModuleInit {
  private readonly logger = new Logger('Presence');
  private readonly relayed: Counter<'event'>;

  constructor(
    private readonly users: UserStoreService,
    private readonly reads: ReadPositionStoreService,
    private readonly history: HistoryService,
    private readonly realtime: RealtimeService,
    private readonly bus: DomainEventBus,
    metrics: MetricsService,
  ) {
    this.relayed = new Counter({
      name: 'parley_presence_events_total',
      help: 'Presence, typing and read events sent to rooms, by event',
      labelNames: ['event'],
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    // A read position lives with the member.
    this.bus.on('user.left', ({ user }) =>
      this.reads
        .forget(user.room, user.id)
        .catch((err: unknown) => this.logger.warn({ event: 'read-forget-failed', room: user.room, err: String(err) })),
    );
  }

  async setStatus(client: { data: { user?: User } }, status: UserStatus): Promise<Record<string, never>> {
    const user = client.data.user!;
    const result = await this.users.setStatus(user.id, status);
    if (!result) throw new NotLoggedInError();
    // The socket's own copy (with Redis it is not the stored object).
    if (result.user.status) user.status = result.user.status;
    else delete user.status;
    if (result.changed) {
      this.relayed.inc({ event: 'presence' });
      this.realtime.server.to(roomChannel(user.room)).emit('presence', { id: user.id, status, at: Date.now() });
    }
    return {};
  }

  typing(user: User, active: boolean): Record<string, never> {
    this.relayed.inc({ event: 'typing' });
    this.realtime.server.to(roomChannel(user.room)).except(user.id).emit('typing', { id: user.id, active });
    return {};
  }

  async read(user: User, offset: number, epoch: string): Promise<{ offset: number }> {
    const now = await this.history.position(user.room);
    if (epoch !== now.epoch) throw new ValidationError("epoch: not the room's current epoch");
    if (offset > now.offset) throw new ValidationError(`offset: above the room's latest offset (${now.offset})`);
    const { position, moved } = await this.reads.advance(user.room, { id: user.id, offset, epoch, at: Date.now() });
    if (moved) {
      this.relayed.inc({ event: 'read' });
      this.realtime.server.to(roomChannel(user.room)).emit('read', position);
    }
    return { offset: position.offset };
  }

  async receipts(user: User): Promise<{ receipts: ReadReceipt[] }> {
    const { epoch } = await this.history.position(user.room);
    const [positions, members] = await Promise.all([this.reads.list(user.room, epoch), this.users.listRoom(user.room)]);
    const byId = new Map(positions.map((p) => [p.id, p]));
    // In the order of the room's `users` list; a position of someone gone is not listed.
    const receipts = members.flatMap((m) => {
      const p = byId.get(m.id);
      return p ? [p] : [];
    });
    return { receipts };
  }
}
