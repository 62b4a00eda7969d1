import { UseFilters, UsePipes } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import { RoomMessageDto } from '../chat/dto/room-message.dto.js';
import { WsExceptionsFilter } from '../common/filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { HandshakeLoginService } from './handshake-login.service.js';
import { LegacyChatService } from './legacy-chat.service.js';
import { LobbyService } from './lobby/lobby.service.js';
import { PeerChannelService } from './peers/peer-channel.service.js';
import { ReadyDto } from './dto/ready.dto.js';
import { RegisterDto } from './dto/register.dto.js';

/**
 * The compatibility events on the default namespace, beside the core gateways. Thin:
 * validation is the DTO pipe's, the rest is one service per concern (handshake login,
 * legacy chat, lobby, peer channel). Departures reach those services as the domain event
 * `socket.departed` (after the recovery window, when there is one), not a disconnect hook.
 */
@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
export class CompatGateway implements OnGatewayConnection {
  constructor(
    private readonly handshake: HandshakeLoginService,
    private readonly chat: LegacyChatService,
    private readonly lobby: LobbyService,
    private readonly peers: PeerChannelService,
  ) {}

  handleConnection(client: ParleySocket): void {
    this.handshake.connected(client);
  }

  @SubscribeMessage('send-message')
  sendMessage(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: RoomMessageDto) {
    return this.chat.sendMessage(client, dto.message);
  }

  @SubscribeMessage('register')
  register(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: RegisterDto) {
    return this.lobby.register(client, dto.name);
  }

  @SubscribeMessage('getOnlineUsers')
  getOnlineUsers(@ConnectedSocket() client: ParleySocket) {
    return this.lobby.onlineUsers(client);
  }

  /** Acked by hand: a taken id gets its refusal acked before the socket is disconnected. */
  @SubscribeMessage('ready')
  async ready(
    @ConnectedSocket() client: ParleySocket,
    @MessageBody() dto: ReadyDto,
    @Ack() ack?: (reply: unknown) => void,
  ): Promise<void> {
    const refusal = await this.peers.ready(client, dto.peerId, dto.peerType ?? undefined);
    if (typeof ack === 'function') ack(refusal ?? {});
    if (refusal) client.disconnect();
  }

  @SubscribeMessage('message')
  message(@ConnectedSocket() client: ParleySocket, @MessageBody() data: unknown) {
    return this.peers.relay(client, data);
  }

  @SubscribeMessage('messageOne')
  messageOne(@ConnectedSocket() client: ParleySocket, @MessageBody() data: unknown) {
    return this.peers.relayOne(client, data);
  }
}
