import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { User } from '../common/events.js';
import { CallStateService } from '../signaling/call-state.service.js';
import { PresenceEvents } from '../users/presence-events.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import type { WebhookUser } from './webhook-event.js';
import { WebhookSenderService } from './webhook-sender.service.js';

/**
 * Where the features' events become webhooks. Thin on purpose: each hook maps a domain
 * event to its webhook `data` and hands it to the sender, which never blocks. Every hook
 * runs on the node that made the change, so each event is sent once per deployment.
 */
@Injectable()
export class WebhookHooksService implements OnModuleInit {
  constructor(
    private readonly sender: WebhookSenderService,
    private readonly presence: PresenceEvents,
    private readonly users: UserStoreService,
    private readonly calls: CallStateService,
  ) {}

  onModuleInit(): void {
    if (!this.sender.enabled) return;
    this.users.onRoomTransition((room, transition) => {
      this.sender.send(transition === 'occupied' ? 'room.occupied' : 'room.vacated', { room });
    });
    this.presence.subscribe({
      joined: (user) => this.sender.send('user.joined', { room: user.room, user: webhookUser(user) }),
      left: (user, reason) => this.sender.send('user.left', { room: user.room, user: webhookUser(user), reason }),
    });
    this.calls.onLifecycle({
      started: (callerId, calleeId) => this.sender.send('call.started', { callerId, calleeId }),
      ended: (callerId, calleeId, reason) => this.sender.send('call.ended', { callerId, calleeId, reason }),
    });
  }
}

/** Picked field by field: a user's public key never leaves in a webhook. */
function webhookUser(user: User): WebhookUser {
  return { id: user.id, name: user.name, joinedAt: user.joinedAt };
}
