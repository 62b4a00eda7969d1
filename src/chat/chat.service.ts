import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Notification, ServerNotification, SocketData, User } from '../common/events.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { AlreadyLoggedInError } from '../common/errors/parley.error.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import { PresenceEvents, type LeaveReason } from '../users/presence-events.service.js';
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
    // A kick decided on another node: this node holds the socket and drops its login.
    this.realtime.onForget((socket, room) => {
      if (socket.data.user?.room === room) this.detach(socket);
    });
  }

  /**
   * The socket's side of a logout: it is no longer logged in and no longer receives the
   * room's broadcasts. Resolves to the user it was, if any.
   */
  detach(socket: ParleySocket): User | undefined {
    const user = socket.data.user;
    if (!user) return undefined;
    socket.data.user = undefined;
    socket.leave(roomChannel(user.room));
    return user;
  }

  /**
   * Removes a member from its room on behalf of the application's backend: `kicked` to
   * that socket, then the same logout as its own. False when it is not a member of `room`.
   */
  async kick(room: string, id: string, reason: string): Promise<boolean> {
    const user = await this.users.get(id);
    if (!user || user.room !== room) return false;
    // Dropped first, so a socket reacting to `kicked` can log in again at once.
    this.realtime.forget(id, room);
    this.realtime.emitTo(id, 'kicked', { room, reason });
    await this.logout(user, 'kicked');
    return true;
  }

  /** Sends a server notification to every member of the room, on every node; resolves to the member count. */
  async announce(room: string, title: string, description: string): Promise<number> {
    const members = await this.users.listRoom(room);
    if (members.length === 0) return 0;
    const notice: ServerNotification = { type: 'server', title, description, at: Date.now() };
    this.realtime.server.to(roomChannel(room)).emit('notification', notice);
    this.logger.log({ event: 'announce', room, members: members.length });
    return members.length;
  }

  /** Registers the user in the store; throws ALREADY_LOGGED_IN, NAME_TAKEN or ROOM_FULL. */
  async login(id: string, dto: LoginDto, current: User | undefined, auth?: SocketData['auth']): Promise<User> {
    // UNAUTHORIZED when the socket's token (socket.data.auth) does not allow this room or name.
    assertLoginAllowed(auth, dto.name, dto.room);
    if (current) throw new AlreadyLoggedInError(current.room);
    const user: User = { id, name: dto.name, room: dto.room, joinedAt: Date.now() };
    if (typeof dto.publicKey === 'string') user.publicKey = dto.publicKey;
    await this.users.add(user, this.limits.maxRoomUsers);
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

  async logout(user: User, reason: LeaveReason): Promise<void> {
    const removed = await this.users.remove(user.id);
    if (!removed) return;
    this.metrics.users.dec();
    this.logger.log({ event: 'logout', socketId: user.id, room: user.room, reason });
    await this.announceLeave(removed, reason);
  }

  /** `leave` and the new `users` to the members that remain. */
  async announceLeave(user: User, reason: LeaveReason): Promise<void> {
    const members = await this.users.listRoom(user.room);
    const io = this.realtime.server;
    io.to(roomChannel(user.room)).except(user.id).emit('notification', notice('leave', user));
    io.to(roomChannel(user.room)).except(user.id).emit('users', members);
    this.presence.left(user, reason);
  }

  /** Relays ciphertext to the sender's room, the sender included. Never looks inside it. */
  relay(user: User, message: string): { id: string; at: number } {
    const id = randomUUID();
    const at = Date.now();
    this.realtime.server.to(roomChannel(user.room)).emit('roomMessage', { id, room: user.room, message, from: user.name, fromId: user.id, at });
    this.metrics.messages.inc();
    return { id, at };
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
