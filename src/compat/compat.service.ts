import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ChatService } from '../chat/chat.service.js';
import { LoginDto } from '../chat/dto/login.dto.js';
import type { Empty, ErrorReply, PeerConnectionInfo, User } from '../common/events.js';
import { NotLoggedInError, ParleyError, UnavailableError, ValidationError } from '../common/errors/parley.error.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionService } from '../sessions/session.service.js';
import { LobbyStoreService } from '../users/lobby-store.service.js';
import { PeerRegistryService } from '../users/peer-registry.service.js';
import { PresenceEvents } from '../users/presence-events.service.js';
import { LOBBY_ROOM, PEERS_ROOM } from './compat-rooms.js';
import { handshakeCredentials, type HandshakeCredentials } from './handshake-login.js';
import { checkPeerMessage, checkTargetedPeerMessage, PeerNotFoundError } from './peer-message.js';
import { roomChannel } from '../common/realtime/channels.js';

/**
 * The compatibility events (docs/PROTOCOL.md, "Compatibility events") over the core
 * services and stores: one user store, one call state, one lobby, one peer registry.
 * Every emit goes through the shared Socket.IO server, so rooms span every node.
 * Message bodies and peer messages are relayed, never logged or inspected beyond size.
 */
@Injectable()
export class CompatService implements OnModuleInit {
  private readonly logger = new Logger(CompatService.name);
  /** Handshake logins still running, so a `send-message` sent right after connect waits for it. */
  private readonly pendingLogins = new WeakMap<ParleySocket, Promise<void>>();
  /** Peer registrations and departures on this node, one at a time (see `serial`). */
  private peerQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly chat: ChatService,
    private readonly lobby: LobbyStoreService,
    private readonly peers: PeerRegistryService,
    private readonly presence: PresenceEvents,
    private readonly realtime: RealtimeService,
    private readonly metrics: MetricsService,
    private readonly sessions: SessionService,
    private readonly validation: WsValidationPipe,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  onModuleInit(): void {
    // Every join and leave (login or handshake, logout or disconnect) also reaches the
    // room's other members in the older chat servers' shape.
    this.presence.subscribe({
      joined: (user) => this.toOthersInRoom(user, 'user-connected', `${user.name} joined the room`),
      left: (user) => this.toOthersInRoom(user, 'user-disconnected', `${user.name} left the room`),
    });
    // A socket gone for good (at once, or when its recovery window ends) leaves the lobby
    // and the peer channel.
    this.sessions.onDeparture((id) => this.disconnected({ id }));
  }

  // ---- connection lifecycle -------------------------------------------------------

  /** Starts the handshake login, when the handshake asks for one. */
  connected(client: ParleySocket): void {
    // A recovered session keeps its login, lobby name and peer id.
    if (client.recovered || client.data.user) return;
    const credentials = handshakeCredentials(client.handshake);
    if (!credentials) return;
    const pending = this.handshakeLogin(client, credentials).finally(() => this.pendingLogins.delete(client));
    this.pendingLogins.set(client, pending);
  }

  /**
   * The socket is gone for good: it leaves the lobby and the peer channel, and the other
   * lobby sockets and peers hear of it. Needs only the id (SessionService's departure, the
   * Redis sweeper for sockets of a dead node). Never rejects; a second call does nothing.
   */
  async disconnected(client: Pick<ParleySocket, 'id'>): Promise<void> {
    const id = client.id;
    await Promise.all([
      this.leaveLobby(id).catch((err: unknown) => this.fault('lobby-leave', id, err)),
      this.serial(() => this.leavePeers(id)).catch((err: unknown) => this.fault('peer-leave', id, err)),
    ]);
  }

  // ---- chat: handshake login, send-message ----------------------------------------

  /** As by `login`: the same validation, store, room join and announcements. Never rejects. */
  private async handshakeLogin(client: ParleySocket, credentials: HandshakeCredentials): Promise<void> {
    try {
      const dto = (await this.validation.transform(credentials, { type: 'body', metatype: LoginDto })) as LoginDto;
      // The token's claims (when authentication is on) bind it as they bind `login`.
      const user = await this.chat.login(client.id, dto, client.data.user, client.data.auth);
      if (!client.connected) {
        // Gone while logging in: the core's disconnect handler saw no user, so undo here.
        await this.chat.logout(user, 'disconnect');
        return;
      }
      client.data.user = user;
      client.join(roomChannel(user.room));
      await this.chat.announceJoin(user);
    } catch (err) {
      const reply = this.toReply(err, 'login');
      this.metrics.reject(reply.code);
      if (client.connected) client.emit('exception', { event: 'login', ...reply });
    }
  }

  /** `send-message`: to every member of the sender's room, the sender included, as `new-message`. */
  async sendMessage(client: ParleySocket, message: string): Promise<{ id: string; at: number }> {
    const pending = this.pendingLogins.get(client);
    if (pending) await pending;
    const user = client.data.user;
    if (!user) throw new NotLoggedInError();
    const id = randomUUID();
    const at = Date.now();
    this.realtime.server.to(roomChannel(user.room)).emit('new-message', { msg: message, from: user.name, fromId: user.id, id, at });
    this.metrics.messages.inc();
    return { id, at };
  }

  private toOthersInRoom(user: User, event: 'user-connected' | 'user-disconnected', message: string): void {
    if (!this.realtime.attached) return;
    this.realtime.server.to(roomChannel(user.room)).except(user.id).emit(event, { message, user });
  }

  // ---- lobby ----------------------------------------------------------------------

  /** `register(name)`: into the lobby (or renamed); the other lobby sockets hear `userConnected`. */
  async register(client: ParleySocket, name: string): Promise<Empty> {
    const previous = client.data.lobbyName;
    await this.lobby.register(client.id, name);
    if (!client.connected) {
      await this.lobby.unregister(client.id);
      return {};
    }
    client.data.lobbyName = name;
    client.join(LOBBY_ROOM);
    if (previous !== name) {
      this.realtime.server.to(LOBBY_ROOM).except(client.id).emit('userConnected', { id: client.id, name });
      this.logger.log({ event: 'lobby-register', socketId: client.id });
    }
    return {};
  }

  /** `getOnlineUsers`: the event `onlineUsers` (lobby socket id → name) to the caller. */
  async onlineUsers(client: ParleySocket): Promise<Empty> {
    client.emit('onlineUsers', { ...(await this.lobby.list()) });
    return {};
  }

  private async leaveLobby(id: string): Promise<void> {
    if ((await this.lobby.unregister(id)) === undefined) return;
    this.realtime.server.to(LOBBY_ROOM).except(id).emit('userDisconnected', id);
    this.logger.log({ event: 'lobby-leave', socketId: id });
  }

  // ---- peer channel ---------------------------------------------------------------

  /**
   * `ready(peerId, peerType?)`: registers the peer id and announces it. Resolves to
   * undefined on success; when the id is taken, emits `uniquenessError` and resolves to the
   * refusal (the gateway acks it and disconnects the socket).
   */
  ready(client: ParleySocket, peerId: string, peerType: string | undefined): Promise<ErrorReply | undefined> {
    return this.serial(async () => {
      if (!client.connected) return undefined;
      const current = client.data.peerId;
      if (current !== undefined) {
        if (current !== peerId) throw new ValidationError(`This connection is already registered as peer "${current}"`);
        // The same id again: repeat this socket's own `open`, announce nothing.
        await this.openToSelf(client, current);
        return undefined;
      }
      const self: PeerConnectionInfo = { socketId: client.id, peerId, ...(peerType !== undefined && { peerType }) };
      if (!(await this.peers.register(self))) {
        const sentence = `The peer id "${peerId}" is already in use`;
        client.emit('uniquenessError', { message: sentence, error: sentence });
        this.metrics.reject('NAME_TAKEN');
        return { error: sentence, code: 'NAME_TAKEN' };
      }
      if (!client.connected) {
        await this.peers.unregister(client.id);
        return undefined;
      }
      client.data.peerId = peerId;
      if (peerType !== undefined) client.data.peerType = peerType;
      client.join(PEERS_ROOM);
      await this.openToSelf(client, peerId);
      this.realtime.server.to(PEERS_ROOM).except(client.id).emit('message', {
        from: peerId,
        target: 'all',
        payload: { action: 'open', connections: [self], bePolite: true },
      });
      this.logger.log({ event: 'peer-ready', socketId: client.id, peerId });
      return undefined;
    });
  }

  /** `message`: relayed whole to every other socket, `from` stamped by the server. */
  relay(client: ParleySocket, data: unknown): Empty {
    const message = checkPeerMessage(data, this.limits.maxSignalBytes);
    this.realtime.server.except(client.id).emit('message', { ...message, from: senderOf(client) });
    this.metrics.signals.inc();
    return {};
  }

  /** `messageOne { target, … }`: relayed whole to the peer registered under `target`. */
  async relayOne(client: ParleySocket, data: unknown): Promise<Empty> {
    const message = checkTargetedPeerMessage(data, this.limits.maxSignalBytes);
    const from = senderOf(client);
    const peer = await this.peers.byPeerId(message.target);
    if (!peer) throw new PeerNotFoundError(message.target);
    this.realtime.server.to(peer.socketId).emit('message', { ...message, from });
    this.metrics.signals.inc();
    return {};
  }

  private async openToSelf(client: ParleySocket, peerId: string): Promise<void> {
    const connections = (await this.peers.list()).filter((p) => p.socketId !== client.id).map(peerInfo);
    client.emit('message', { from: 'all', target: peerId, payload: { action: 'open', connections, bePolite: false } });
  }

  private async leavePeers(id: string): Promise<void> {
    const peer = await this.peers.unregister(id);
    if (!peer) return;
    this.realtime.server.to(PEERS_ROOM).except(id).emit('message', {
      from: peer.peerId,
      target: 'all',
      payload: { action: 'close', message: `Peer "${peer.peerId}" disconnected` },
    });
    this.logger.log({ event: 'peer-close', socketId: id, peerId: peer.peerId });
  }

  /**
   * Runs peer registrations and departures of this node one after another, so a new peer's
   * `connections` and the `open`/`close` broadcasts never cross (no peer is announced twice
   * or after its `close`). The queue survives a failed task.
   */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.peerQueue.then(task);
    this.peerQueue = run.catch(() => undefined);
    return run;
  }

  // ---- errors ---------------------------------------------------------------------

  private toReply(err: unknown, event: string): ErrorReply {
    if (err instanceof ParleyError) return err.toReply();
    this.fault(event, undefined, err);
    return { error: 'Internal server error', code: 'INTERNAL' };
  }

  /** Logs an unexpected failure: ids and the error only, never a payload. */
  private fault(event: string, socketId: string | undefined, err: unknown): void {
    if (err instanceof UnavailableError) {
      this.logger.warn({ msg: 'Redis not answering in a compatibility event', event, socketId });
      return;
    }
    this.logger.error({ msg: 'unexpected error in a compatibility event', event, socketId, err: String(err) });
  }
}

/** The peer id once `ready`, the socket id before. */
function senderOf(client: ParleySocket): string {
  return client.data.peerId ?? client.id;
}

/** `{ socketId, peerId, peerType? }` exactly, whatever a backend returns. */
function peerInfo(p: PeerConnectionInfo): PeerConnectionInfo {
  return { socketId: p.socketId, peerId: p.peerId, ...(typeof p.peerType === 'string' && { peerType: p.peerType }) };
}
