import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import type { User } from '../common/events.js';
import type { WebhookUser } from './webhook-event.js';
import { WebhookSenderService } from './webhook-sender.service.js';

/**
 * Where domain events become webhooks. Thin on purpose: each subscription maps an event to
 * its webhook `data` and hands it to the sender, which never blocks. The bus runs them on
 * the node that made the change, so each event is sent once per deployment.
 */
@Injectable()
export class WebhookHooksService implements OnModuleInit {
  constructor(
    private readonly sender: WebhookSenderService,
    private readonly bus: DomainEventBus,
  ) {}

  onModuleInit(): void {
    if (!this.sender.enabled) return;
    this.bus.on('room.occupied', ({ room }) => this.sender.send('room.occupied', { room }));
    this.bus.on('room.vacated', ({ room }) => this.sender.send('room.vacated', { room }));
    this.bus.on('user.joined', ({ user }) =>
      this.sender.send('user.joined', { room: user.room, user: webhookUser(user) }),
    );
    this.bus.on('user.left', ({ user, reason }) =>
      this.sender.send('user.left', { room: user.room, user: webhookUser(user), reason }),
    );
    this.bus.on('call.started', ({ callerId, calleeId }) => this.sender.send('call.started', { callerId, calleeId }));
    this.bus.on('call.ended', ({ callerId, calleeId, reason }) =>
      this.sender.send('call.ended', { callerId, calleeId, reason }),
    );
    this.bus.on('room.call.started', ({ room }) => this.sender.send('room.call.started', { room }));
    this.bus.on('room.call.ended', ({ room }) => this.sender.send('room.call.ended', { room }));
  }
}

/** Picked field by field: a user's public key never leaves in a webhook. */
function webhookUser(user: User): WebhookUser {
  return { id: user.id, name: user.name, joinedAt: user.joinedAt };
}
