import { Inject, Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { limitsConfig, redisConfig, type LimitsConfig, type RedisConfig } from '../../config/configuration.js';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from '../events.js';
import type { ParleySocket } from './parley-socket.js';
import { emitWithCondition, takesConditions, type PublishCondition } from './publish-condition.js';

/** Runs on the node that holds the socket, for a socket that must leave its room. */
export type ForgetHandler = (socket: ParleySocket, room: string) => void;

export type ParleyServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * The Socket.IO server, for services that must reach clients outside a request (ring
 * timeouts, disconnects, another node's cleanup). Gateways attach it in afterInit; with the
 * Redis adapter its rooms span every node.
 */
@Injectable()
export class RealtimeService {
  private io?: ParleyServer;
  private conditional = false;
  private readonly forgetHandlers: ForgetHandler[] = [];

  constructor(
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    @Inject(redisConfig.KEY) private readonly redis: RedisConfig,
  ) {}

  attach(server: ParleyServer): void {
    if (this.io === server) return;
    this.io = server;
    this.conditional = takesConditions(server.of('/').adapter);
    // Another node asks the node holding a socket to drop its local login state.
    server.on('parley:forget', (id, room) => this.forgetLocal(id, room));
  }

  /** Registers what "leaving a room without being told" means for a socket on this node. */
  onForget(handler: ForgetHandler): void {
    this.forgetHandlers.push(handler);
  }

  /**
   * The socket `id` leaves `room` on whichever node holds it: here directly, elsewhere
   * through the adapter (serverSideEmit). With the Redis adapter the request goes through
   * the same stream as the broadcasts published after it, so the node holding the socket
   * drops the socket's state before it delivers any later event to it.
   */
  forget(id: string, room: string): void {
    if (this.forgetLocal(id, room)) return;
    if (this.redis.url) this.server.serverSideEmit('parley:forget', id, room);
  }

  private forgetLocal(id: string, room: string): boolean {
    const socket = this.io?.sockets.sockets.get(id);
    if (!socket) return false;
    for (const handler of this.forgetHandlers) handler(socket, room);
    return true;
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
  emitTo<E extends keyof ServerToClientEvents>(
    id: string,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    const io = this.server;
    const local = this.limits.recoveryWindowMs > 0 ? undefined : io.sockets.sockets.get(id);
    if (local) local.emit(event, ...args);
    else io.to(id).emit(event, ...args);
  }

  /**
   * Emits to a socket on another node, published only if `condition` holds, checked by the
   * cluster adapter in the same command as the publish. Settles as the publish does (a
   * PublishRefusal when the condition did not hold); undefined when no cluster adapter took
   * the condition, and then the emit reached no socket of this node's, so the caller checks
   * and emits by itself.
   */
  emitToIf<E extends keyof ServerToClientEvents>(
    id: string,
    condition: PublishCondition,
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): Promise<void> | undefined {
    if (this.isLocal(id)) return undefined;
    const io = this.server;
    return emitWithCondition(condition, () => io.to(id).emit(event, ...args)) ? condition.outcome : undefined;
  }

  /** Whether broadcasts are published with conditions (see PublishCondition): with the Redis adapter. */
  get takesConditions(): boolean {
    return this.conditional;
  }

  /** Whether the socket is connected to this node (a cheap, synchronous check). */
  isLocal(id: string): boolean {
    return this.io?.sockets.sockets.has(id) ?? false;
  }

  get attached(): boolean {
    return this.io !== undefined;
  }
}
