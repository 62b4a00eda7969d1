import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
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

  attach(server: ParleyServer): void {
    this.io = server;
  }

  get server(): ParleyServer {
    if (!this.io) throw new Error('The Socket.IO server is not attached yet');
    return this.io;
  }

  get attached(): boolean {
    return this.io !== undefined;
  }
}
