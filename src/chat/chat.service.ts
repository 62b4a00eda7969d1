import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { MessageAck, Notification, SocketData, User } from '../common/events.js';
import { HistoryService } from '../history/history.service.js';
import { AlreadyLoggedInError } from '../common/errors/parley.error.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import { PresenceEvents } from '../users/presence-events.service.js';
import type { LoginDto } from './dto/login.dto.js';
import { SessionService } from '../sessions/session.service.js';
import { assertLoginAllowed } from '../security/login-claims.js';
import { roomChannel } from '../common/realtime/channels.js';

/** Room membership and message relay. Gateways call it; it owns the store and the fan-out. */
@Injectable()
export class ChatService implements OnModuleInit {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    private readonly users: UserStoreService,
    private readonly realtime: RealtimeService,
    private readonly metrics: MetricsService,
    private readonly presence: PresenceEvents,
    private readonly sessions: SessionService,
    private readonly history: HistoryService,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {
    metrics.setRoomsCollector(async () => (await users.listRooms()).length);
  }

  onModuleInit(): void {
    // A socket gone for good leaves its room as by logout.
    this.sessions.onDeparture(async (id) => {
      const user = await this.users.get(id);
      if (user) await this.logout(user, 'disconnect');
    });
  }

  /** Registers the user in the store; throws ALREADY_LOGGED_IN, NAME_TAKEN or ROOM_FULL. */
  async login(id: string, dto: LoginDto, current: User | undefined, auth?: SocketData['auth']): Promise<User> {
    // UNAUTHORIZED when the socket's token (socket.data.auth) does not allow this room or name.
    assertLoginAllowed(auth, dto.name, dto.room);
    if (current) throw new AlreadyLoggedInError(current.room);
    const user: User = { id, name: dto.name, room: dto.room, joinedAt: Date.now() };
    if (typeof dto.publicKey === 'string') user.publicKey = dto.publicKey;
    await this.users.add(user, this.limits.maxRoomUsers);
    await this.history.occupied(user.room);
    this.metrics.users.inc();
    this.logger.log({ event: 'login', socketId: id, room: user.room });
    return user;
  }

  /** Tells the room someone arrived: `join` to the others, then `users` to everyone. */
  async announceJoin(user: User): Promise<void> {
    const members = await this.users.listRoom(user.room);
    const io = this.realtime.server;
    io.to(roomChannel(user.room)).except(user.id).emit('notification', notice('join', user));
    io.to(roomChannel(user.room)).emit('users', members);
    this.presence.joined(user);
  }

  async logout(user: User, reason: 'logout' | 'disconnect'): Promise<void> {
    const removed = await this.users.remove(user.id);
    if (!removed) return;
    this.metrics.users.dec();
    this.logger.log({ event: 'logout', socketId: user.id, room: user.room, reason });
    await this.announceLeave(removed);
  }

  /** `leave` and the new `users` to the members that remain. */
  async announceLeave(user: User): Promise<void> {
    const members = await this.users.listRoom(user.room);
    const io = this.realtime.server;
    io.to(roomChannel(user.room)).except(user.id).emit('notification', notice('leave', user));
    io.to(roomChannel(user.room)).except(user.id).emit('users', members);
    this.presence.left(user);
    if (members.length === 0) await this.history.vacated(user.room);
  }

  /**
   * Relays ciphertext to the sender's room, the sender included, once it has its offset
   * (and is retained). Never looks inside it.
   */
  relay(user: User, message: string): MessageAck | Promise<MessageAck> {
    return this.history.record(user, message, (placed) => {
      this.realtime.server.to(roomChannel(user.room)).emit('roomMessage', placed);
      this.metrics.messages.inc();
    });
  }

  /** The same for the compatibility `send-message`: retained alike, delivered by `deliver`. */
  record(user: User, message: string, deliver: Parameters<HistoryService['record']>[2]): MessageAck | Promise<MessageAck> {
    return this.history.record(user, message, deliver);
  }

  listUsers(room: string): Promise<User[]> {
    return this.users.listRoom(room);
  }
}

function notice(type: 'join' | 'leave', user: User): Notification {
  return type === 'join'
    ? { type, title: "Someone's here", description: `${user.name} just entered the room`, user, at: Date.now() }
    : { type, title: 'Someone left', description: `${user.name} left the room`, user, at: Date.now() };
}
