import { Module } from '@nestjs/common';
import { RoomCallGateway } from './room-call.gateway.js';
import { RoomCallService } from './room-call.service.js';

/** Calls of a whole room (v1.2): a WebRTC mesh whose signals the server relays. */
@Module({ providers: [RoomCallGateway, RoomCallService] })
export class RoomCallsModule {}
