import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { NotLoggedInError } from '../common/errors/parley.error.js';
import type { MessageAck, User } from '../common/events.js';
import { ChatService } from '../chat/chat.service.js';
import { roomChannel } from '../common/realtime/channels.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { HandshakeLoginService } from './handshake-login.service.js';

/**
 * The older chat servers' shapes: `send-message` → `new-message`, and `user-connected` /
 * `user-disconnected` beside the core's notifications for every join and leave (however
 * it happened: login or handshake, logout, disconnect, removal). Bodies are relayed only.
 */
@Injectable()
export class LegacyChatService implements OnModuleInit {
  constructor(
    private readonly handshake: HandshakeLoginService,
    private readonly realtime: RealtimeService,
    private readonly metrics: MetricsService,
    private readonly bus: DomainEventBus,
    private readonly chat: ChatService,
  ) {}

  onModuleInit(): void {
    this.bus.on('user.joined', ({ user }) =>
      this.toOthersInRoom(user, 'user-connected', `${user.name} joined the room`),
    );
    this.bus.on('user.left', ({ user }) =>
      this.toOthersInRoom(user, 'user-disconnected', `${user.name} left the room`),
    );
  }

  /** To every member of the sender's room, the sender included, as `new-message`. */
  async sendMessage(client: ParleySocket, message: string): Promise<MessageAck> {
    await this.handshake.settled(client);
    const user = client.data.user;
    if (!user) throw new NotLoggedInError();
    // Retained (and offset) as a RoomMessage, delivered in the older servers' shape.
    return this.chat.record(user, message, (m) => {
      this.realtime.server.to(roomChannel(user.room)).emit('new-message', {
        msg: m.message,
        from: m.from,
        fromId: m.fromId,
        id: m.id,
        at: m.at,
        offset: m.offset,
        epoch: m.epoch,
      });
      this.metrics.messages.inc();
    });
  }

  private toOthersInRoom(user: User, event: 'user-connected' | 'user-disconnected', message: string): void {
    if (!this.realtime.attached) return;
    this.realtime.server.to(roomChannel(user.room)).except(user.id).emit(event, { message, user });
  }
}
