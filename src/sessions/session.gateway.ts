import { WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { SessionService } from './session.service.js';

/** Feeds connection ends and recoveries to the SessionService. */
@WebSocketGateway()
export class SessionGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(private readonly sessions: SessionService) {}

  async handleConnection(client: ParleySocket): Promise<void> {
    if (client.recovered) await this.sessions.recovered(client.id);
  }

  async handleDisconnect(client: ParleySocket, reason: string): Promise<void> {
    await this.sessions.disconnected(client.id, reason);
  }
}
