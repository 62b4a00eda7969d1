import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DomainEventBus } from '../../common/domain-events/domain-event-bus.service.js';
import { DEPARTURE_ORDER } from '../../common/domain-events/domain-events.js';
import type { Empty } from '../../common/events.js';
import type { ParleySocket } from '../../common/realtime/parley-socket.js';
import { RealtimeService } from '../../common/realtime/realtime.service.js';
import { LOBBY_ROOM } from '../compat-rooms.js';
import { compatFault } from '../compat-fault.js';
import { LobbyStoreService } from './lobby-store.service.js';

/** Lobby presence for one-page call apps: `register`, `getOnlineUsers`, `userDisconnected`. */
@Injectable()
export class LobbyService implements OnModuleInit {
  private readonly logger = new Logger('Lobby');

  constructor(
    private readonly lobby: LobbyStoreService,
    private readonly realtime: RealtimeService,
    private readonly bus: DomainEventBus,
  ) {}

  onModuleInit(): void {
    this.bus.on(
      'socket.departed',
      ({ id, node }) => this.leave(id, node).catch((err: unknown) => void compatFault('lobby-leave', id, err)),
      { order: DEPARTURE_ORDER.compat },
    );
    this.bus.on('store.reconnected', () => this.restoreLocal());
  }

  /** Into the lobby (or renamed); the other lobby sockets hear `userConnected`. */
  async register(client: ParleySocket, name: string): Promise<Empty> {
    const previous = client.data.lobbyName;
    await this.lobby.register(client.id, name);
    if (!client.connected) {
      await this.lobby.unregister(client.id);
      return {};
    }
    client.data.lobbyName = name;
    void client.join(LOBBY_ROOM);
    if (previous !== name) {
      this.realtime.server.to(LOBBY_ROOM).except(client.id).emit('userConnected', { id: client.id, name });
      this.logger.log({ event: 'lobby-register', socketId: client.id });
    }
    return {};
  }

  /** The event `onlineUsers` (lobby socket id → name) to the caller. */
  async onlineUsers(client: ParleySocket): Promise<Empty> {
    client.emit('onlineUsers', { ...(await this.lobby.list()) });
    return {};
  }

  /** Gone for good (with `owner`: only if that node still owns the entry). */
  private async leave(id: string, owner?: string): Promise<void> {
    if ((await this.lobby.unregister(id, owner)) === undefined) return;
    this.realtime.server.to(LOBBY_ROOM).except(id).emit('userDisconnected', id);
    this.logger.log({ event: 'lobby-leave', socketId: id });
  }

  /** The store lost data: this node's lobby names go back in (idempotent). */
  private async restoreLocal(): Promise<void> {
    if (!this.realtime.attached) return;
    for (const socket of this.realtime.server.sockets.sockets.values()) {
      if (socket.data.lobbyName !== undefined) await this.lobby.register(socket.id, socket.data.lobbyName);
    }
  }
}
