import { UseFilters, UsePipes } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { WsExceptionsFilter } from '../common/filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import { loggedIn, type ParleySocket } from '../common/realtime/parley-socket.js';
import { ReadDto, SetStatusDto, TypingDto } from './dto/presence.dto.js';
import { PresenceService } from './presence.service.js';

/** `setStatus`, `typing`, `read`, `receipts`: parse, check the login, delegate, ack. */
@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
export class PresenceGateway {
  constructor(private readonly presence: PresenceService) {}

  @SubscribeMessage('setStatus')
  setStatus(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: SetStatusDto) {
    loggedIn(client);
    return this.presence.setStatus(client, dto.status);
  }

  @SubscribeMessage('typing')
  typing(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: TypingDto) {
    return this.presence.typing(loggedIn(client), dto.active);
  }

  @SubscribeMessage('read')
  read(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: ReadDto) {
    return this.presence.read(loggedIn(client), dto.offset, dto.epoch);
  }

  @SubscribeMessage('receipts')
  receipts(@ConnectedSocket() client: ParleySocket) {
    return this.presence.receipts(loggedIn(client));
  }
}
