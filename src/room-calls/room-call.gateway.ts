import { UseFilters, UsePipes } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { WsExceptionsFilter } from '../common/filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import { loggedIn, type ParleySocket } from '../common/realtime/parley-socket.js';
import { CallSignalDto } from './dto/call-signal.dto.js';
import { RoomCallService } from './room-call.service.js';

/** `joinCall`, `leaveCall`, `callSignal`: parse, check the login, delegate, ack. */
@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
export class RoomCallGateway {
  constructor(private readonly calls: RoomCallService) {}

  @SubscribeMessage('joinCall')
  joinCall(@ConnectedSocket() client: ParleySocket) {
    return this.calls.join(loggedIn(client));
  }

  @SubscribeMessage('leaveCall')
  leaveCall(@ConnectedSocket() client: ParleySocket) {
    return this.calls.leave(loggedIn(client));
  }

  @SubscribeMessage('callSignal')
  callSignal(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: CallSignalDto) {
    return this.calls.signal(loggedIn(client), dto.to, dto.data);
  }
}
