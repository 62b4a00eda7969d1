import { Inject, Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { limitsConfig, type LimitsConfig } from '../../config/configuration.js';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from '../events.js';

export type ParleyServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * The Socket.IO server, for services that must reach clients outside a request (ring
 * timeouts, disconnects, another node's cleanup). Gateways attach it in afterInit; with the
 * Redis adapter its rooms span every node.
 */
@Injectable()
export class RealtimeService {
  private io?: ParleyServer;

  constructor(@Inject(limitsConfig.KEY) private readonly limits: LimitsConfig) {}

  attach(server: ParleyServer): void {
    this.io = server;
  }

  get server(): ParleyServer {
    if (!this.io) throw new Error('The Socket.IO server is not attached yet');
    return this.io;
  }

  /**
   * Emits to one socket, wherever it is. A socket on this node gets it directly, which
   * skips the broadcast machinery (and, with Redis, a round trip through the stream).
   * With a recovery window every emit goes through the adapter instead, because only
   * broadcasts are kept for replay to a socket that recovers after a drop.
   */
  emitTo<E extends keyof ServerToClientEvents>(id: string, event: E, ...args: Parameters<ServerToClientEvents[E]>): void {
    const io = this.server;
    const local = this.limits.recoveryWindowMs > 0 ? undefined : io.sockets.sockets.get(id);
    if (local) local.emit(event, ...args);
    else io.to(id).emit(event, ...args);
  }

  /** Whether the socket is connected to this node (a cheap, synchronous check). */
  isLocal(id: string): boolean {
    return this.io?.sockets.sockets.has(id) ?? false;
  }

  get attached(): boolean {
    return this.io !== undefined;
  }
}
