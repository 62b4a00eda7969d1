import { UseFilters, UsePipes } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { WsExceptionsFilter } from '../common/filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import { loggedIn, type ParleySocket } from '../common/realtime/parley-socket.js';
import { RealtimeService, type ParleyServer } from '../common/realtime/realtime.service.js';
import { ChatService } from './chat.service.js';
import { DirectService } from './direct.service.js';
import { DirectDto } from './dto/direct.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { RoomMessageDto } from './dto/room-message.dto.js';
import { HistoryDto } from './dto/history.dto.js';
import { RedactDto } from './dto/redact.dto.js';
import { HistoryService } from '../history/history.service.js';

@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
export class ChatGateway implements OnGatewayInit {
  @WebSocketServer() server: ParleyServer;

  constructor(
    private readonly chat: ChatService,
    private readonly realtime: RealtimeService,
    private readonly history: HistoryService,
    private readonly direct: DirectService,
  ) {}

  afterInit(server: ParleyServer): void {
    this.realtime.attach(server);
  }

  @SubscribeMessage('login')
  async login(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: LoginDto) {
    return { user: await this.chat.join(client, dto) };
  }

  @SubscribeMessage('logout')
  async logout(@ConnectedSocket() client: ParleySocket) {
    await this.chat.leave(client, loggedIn(client), 'logout');
    return {};
  }

  @SubscribeMessage('roomMessage')
  roomMessage(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: RoomMessageDto) {
    return this.chat.relay(loggedIn(client), dto.message);
  }

  @SubscribeMessage('history')
  roomHistory(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: HistoryDto) {
    return this.history.read(loggedIn(client).room, dto);
  }

  @SubscribeMessage('redact')
  async redact(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: RedactDto) {
    const user = loggedIn(client);
    await this.chat.redact(user.room, dto.epoch, dto.offset, user.id);
    return {};
  }

  @SubscribeMessage('direct')
  sendDirect(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: DirectDto) {
    // The service checks bounds before login, as the protocol orders the errors.
    return this.direct.send(client.id, client.data.user, dto.items);
  }

  @SubscribeMessage('listUsers')
  async listUsers(@ConnectedSocket() client: ParleySocket) {
    return { users: await this.chat.listUsers(loggedIn(client).room) };
  }

  @SubscribeMessage('ping')
  ping(@ConnectedSocket() client: ParleySocket): string {
    return client.id;
  }
}
