import { UseFilters, UsePipes } from '@nestjs/common';
import {
  ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { User } from '../common/events.js';
import { NotLoggedInError } from '../common/errors/parley.error.js';
import { WsExceptionsFilter } from '../common/filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { RealtimeService, type ParleyServer } from '../common/realtime/realtime.service.js';
import { ChatService } from './chat.service.js';
import { LoginDto } from './dto/login.dto.js';
import { RoomMessageDto } from './dto/room-message.dto.js';
import { roomChannel } from '../common/realtime/channels.js';

@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
export class ChatGateway implements OnGatewayInit {
  @WebSocketServer() server: ParleyServer;

  constructor(
    private readonly chat: ChatService,
    private readonly realtime: RealtimeService,
  ) {}

  afterInit(server: ParleyServer): void {
    this.realtime.attach(server);
  }

  @SubscribeMessage('login')
  async login(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: LoginDto) {
    const user = await this.chat.login(client.id, dto, client.data.user, client.data.auth);
    if (!client.connected) {
      // Gone while logging in: the disconnect handler saw no user, so undo here (no ghost).
      await this.chat.logout(user, 'disconnect');
      return { user };
    }
    client.data.user = user;
    client.join(roomChannel(user.room));
    await this.chat.announceJoin(user);
    return { user };
  }

  @SubscribeMessage('logout')
  async logout(@ConnectedSocket() client: ParleySocket) {
    const user = loggedIn(client);
    // The store first: when Redis cannot take the change, the socket stays logged in.
    await this.chat.logout(user, 'logout');
    client.data.user = undefined;
    client.leave(roomChannel(user.room));
    return {};
  }

  @SubscribeMessage('roomMessage')
  roomMessage(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: RoomMessageDto) {
    return this.chat.relay(loggedIn(client), dto.message);
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

function loggedIn(client: ParleySocket): User {
  if (!client.data.user) throw new NotLoggedInError();
  return client.data.user;
}
