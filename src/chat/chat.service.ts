import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { MessageAck, Notification, ServerNotification, SocketData, User } from '../common/events.js';
import { HistoryService } from '../history/history.service.js';
import { AlreadyLoggedInError, ForbiddenError, NotRetainedError } from '../common/errors/parley.error.js';
import { REDACTED_BY_SERVER } from '../history/history-store.service.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { DEPARTURE_ORDER, type LeaveReason } from '../common/domain-events/domain-events.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import type { LoginDto } from './dto/login.dto.js';
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
    private readonly bus: DomainEventBus,
    private readonly history: HistoryService,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  onModuleInit(): void {
    this.bus.answer('roomCount', async () => (await this.users.listRooms()).length);
    this.bus.answer('localUserCount', () => Promise.resolve(this.countLocalUsers()));
    // A socket gone for good leaves its room as by logout.
    this.bus.on('socket.departed', ({ id, node }) => this.departed(id, node), { order: DEPARTURE_ORDER.chat });
    // Redis lost data: this node's logged-in sockets are put back, and their rooms told.
    this.bus.on('store.reconnected', () => this.restoreLocalUsers());
    // A kick decided on another node: this node holds the socket and drops its login.
    this.realtime.onForget((socket, room) => {
      if (socket.data.user?.room === room) this.detach(socket);
    });
  }

  /**
   * The whole entry into a room, for `login` and the handshake login alike: the store, the
   * socket's room channel, then `join` and `users`. Throws UNAUTHORIZED, ALREADY_LOGGED_IN,
   * NAME_TAKEN or ROOM_FULL, changing nothing.
   */
  async join(client: ParleySocket, dto: LoginDto): Promise<User> {
    const user = await this.login(client.id, dto, client.data.user, client.data.auth);
    if (!client.connected) {
      // Gone while logging in: the departure saw no user, so undo here (no ghost).
      await this.logout(user, 'disconnect');
      return user;
    }
    client.data.user = user;
    void client.join(roomChannel(user.room));
    await this.announceJoin(user);
    return user;
  }

  /** The socket leaves its room (logout, or a removal): `leave` and `users` to the others. */
  async leave(client: ParleySocket, user: User, reason: LeaveReason): Promise<void> {
    // The store first: when Redis cannot take the change, the socket stays logged in.
    await this.logout(user, reason);
    this.detach(client);
  }

  /** The socket's own side of leaving: no longer logged in, no longer in the room's channel. */
  detach(socket: ParleySocket): void {
    const user = socket.data.user;
    if (!user) return;
    socket.data.user = undefined;
    void socket.leave(roomChannel(user.room));
  }

  /**
   * Removes a member from its room on behalf of the application's backend, wherever its
   * socket is: `kicked` to it, then the same logout as its own. False when it is not a
   * member of `room`.
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

  /** A server notification to every member of the room, on every node; resolves to the member count. */
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
    await this.history.occupied(user.room);
    this.logger.log({ event: 'login', socketId: id, room: user.room });
    return user;
  }

  /** Tells the room someone arrived: `join` to the others, then `users` to everyone. */
  async announceJoin(user: User): Promise<void> {
    const members = await this.users.listRoom(user.room);
    const io = this.realtime.server;
    io.to(roomChannel(user.room)).except(user.id).emit('notification', notice('join', user));
    io.to(roomChannel(user.room)).emit('users', members);
    await this.bus.emit('user.joined', { user });
  }

  /**
   * Takes the user out of its room and tells the others; nothing when it was not in (or,
   * with `owner`, when that node no longer owns the entry).
   */
  async logout(user: User, reason: LeaveReason, owner?: string): Promise<void> {
    const removed = await this.users.remove(user.id, owner);
    if (!removed) return;
    this.logger.log({ event: 'logout', socketId: user.id, room: user.room, reason });
    // What must reach the room before `leave` (a participant leaving the room's call).
    await this.bus.emit('user.leaving', { user: removed, reason });
    await this.announceLeave(removed, reason);
  }

  /** `leave` and the new `users` to the members that remain. */
  async announceLeave(user: User, reason: LeaveReason): Promise<void> {
    const members = await this.users.listRoom(user.room);
    const io = this.realtime.server;
    io.to(roomChannel(user.room)).except(user.id).emit('notification', notice('leave', user));
    io.to(roomChannel(user.room)).except(user.id).emit('users', members);
    if (members.length === 0) await this.history.vacated(user.room);
    await this.bus.emit('user.left', { user, reason });
  }

  private async departed(id: string, owner: string | undefined): Promise<void> {
    const user = await this.users.get(id);
    if (user) await this.logout(user, 'disconnect', owner);
  }

  /** This node's sockets that are logged in (a socket's user is set only where it lives). */
  private countLocalUsers(): number {
    if (!this.realtime.attached) return 0;
    let n = 0;
    for (const socket of this.realtime.server.sockets.sockets.values()) if (socket.data.user) n += 1;
    return n;
  }

  private async restoreLocalUsers(): Promise<void> {
    if (!this.realtime.attached) return;
    const rooms = new Set<string>();
    for (const socket of this.realtime.server.sockets.sockets.values()) {
      const user = socket.data.user;
      if (!user) continue;
      const outcome = await this.users.restore(user);
      if (outcome === 'restored') rooms.add(user.room);
      else if (outcome === 'name-taken')
        this.logger.warn({ event: 'restore-name-taken', socketId: socket.id, room: user.room });
    }
    for (const room of rooms) this.realtime.server.to(roomChannel(room)).emit('users', await this.users.listRoom(room));
    if (rooms.size > 0) this.logger.log({ event: 'users-restored', rooms: rooms.size });
  }

  /**
   * Relays ciphertext to the sender's room, the sender included, once it has its offset
   * (and is retained). Never looks inside it.
   */
  relay(user: User, message: string): MessageAck | Promise<MessageAck> {
    const io = this.realtime.server;
    const acked = this.history.record(
      user,
      message,
      (placed) => io.to(roomChannel(user.room)).emit('roomMessage', placed),
      this.realtime.takesConditions,
    );
    if (!(acked instanceof Promise)) {
      this.metrics.messages.inc();
      return acked;
    }
    return acked.then((a) => {
      this.metrics.messages.inc();
      return a;
    });
  }

  /**
   * Removes the text of a retained message of `room` (v1.2 `redact`; `by` is the caller's
   * socket id, or undefined for the server API): `redacted` to every member, once. Throws
   * NOT_FOUND when it is not retained in that epoch, FORBIDDEN when another socket sent it.
   */
  async redact(room: string, epoch: string | undefined, offset: number, by?: string): Promise<void> {
    const result = await this.history.redact(room, epoch, offset, by ?? REDACTED_BY_SERVER);
    if (result.outcome === 'not-found') throw new NotRetainedError(offset);
    if (result.outcome === 'forbidden') throw new ForbiddenError('You can only redact messages you sent');
    if (result.outcome === 'already') return;
    this.logger.log({ event: 'redact', room, offset, by: by ?? REDACTED_BY_SERVER });
    this.realtime.server.to(roomChannel(room)).emit('redacted', {
      room,
      offset,
      epoch: result.epoch,
      id: result.id,
      by: by ?? REDACTED_BY_SERVER,
      at: Date.now(),
    });
  }

  /** The same for the compatibility `send-message`: retained alike, delivered by `deliver`. */
  record(
    user: User,
    message: string,
    deliver: Parameters<HistoryService['record']>[2],
  ): MessageAck | Promise<MessageAck> {
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
