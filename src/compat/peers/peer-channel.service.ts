import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DomainEventBus } from '../../common/domain-events/domain-event-bus.service.js';
import { DEPARTURE_ORDER } from '../../common/domain-events/domain-events.js';
import { ValidationError } from '../../common/errors/parley.error.js';
import type { Empty, ErrorReply, PeerConnectionInfo } from '../../common/events.js';
import type { ParleySocket } from '../../common/realtime/parley-socket.js';
import { RealtimeService } from '../../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../../config/configuration.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { PEERS_ROOM } from '../compat-rooms.js';
import { compatFault } from '../compat-fault.js';
import { checkPeerMessage, checkTargetedPeerMessage, PeerNotFoundError } from '../peer-message.js';
import { PeerRegistryService } from './peer-registry.service.js';

/**
 * The peer channel: `ready(peerId, peerType?)` with its `open` announcements, `message` to
 * every other socket, `messageOne` to one peer, and `close` when a peer is gone. Peer
 * messages are relayed whole, never logged or inspected beyond size.
 */
@Injectable()
export class PeerChannelService implements OnModuleInit {
  private readonly logger = new Logger('PeerChannel');
  /** Registrations and departures of this node, one at a time (see `serial`). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly peers: PeerRegistryService,
    private readonly realtime: RealtimeService,
    private readonly metrics: MetricsService,
    private readonly bus: DomainEventBus,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  onModuleInit(): void {
    this.bus.on(
      'socket.departed',
      ({ id, node }) =>
        this.serial(() => this.leave(id, node)).catch((err: unknown) => void compatFault('peer-leave', id, err)),
      { order: DEPARTURE_ORDER.compat },
    );
    this.bus.on('store.reconnected', () => this.restoreLocal());
  }

  /**
   * Registers the peer id and announces it. Resolves to undefined on success; when the id
   * is taken, emits `uniquenessError` and resolves to the refusal (the gateway acks it and
   * disconnects the socket).
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
      void client.join(PEERS_ROOM);
      // Each pair learns of each other exactly once, on any number of nodes: the newer peer
      // from its `connections`, the older one from an `open` sent to it alone. The
      // registry's order (cluster-wide, atomic with the registration) says which is which.
      const all = (await this.peers.list()).map(peerInfo);
      const earlier = all.slice(
        0,
        Math.max(
          0,
          all.findIndex((p) => p.socketId === client.id),
        ),
      );
      client.emit('message', {
        from: 'all',
        target: peerId,
        payload: { action: 'open', connections: earlier, bePolite: false },
      });
      for (const other of earlier) {
        this.realtime.emitTo(other.socketId, 'message', {
          from: peerId,
          target: 'all',
          payload: { action: 'open', connections: [self], bePolite: true },
        });
      }
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

  /** Gone for good (with `owner`: only if that node still owns the entry). */
  private async leave(id: string, owner?: string): Promise<void> {
    const peer = await this.peers.unregister(id, owner);
    if (!peer) return;
    this.realtime.server
      .to(PEERS_ROOM)
      .except(id)
      .emit('message', {
        from: peer.peerId,
        target: 'all',
        payload: { action: 'close', message: `Peer "${peer.peerId}" disconnected` },
      });
    this.logger.log({ event: 'peer-close', socketId: id, peerId: peer.peerId });
  }

  /** The store lost data: this node's peer ids go back in (idempotent). */
  private async restoreLocal(): Promise<void> {
    if (!this.realtime.attached) return;
    for (const socket of this.realtime.server.sockets.sockets.values()) {
      const { peerId, peerType } = socket.data;
      if (peerId !== undefined)
        await this.peers.register({ socketId: socket.id, peerId, ...(peerType !== undefined && { peerType }) });
    }
  }

  /**
   * Runs registrations and departures of this node one after another, so a new peer's
   * `connections` and the `open`/`close` broadcasts never cross (no peer is announced twice
   * or after its `close`). The queue survives a failed task.
   */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
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
