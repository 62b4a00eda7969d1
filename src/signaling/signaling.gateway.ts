import { UseFilters, UsePipes } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import { UnavailableError } from '../common/errors/parley.error.js';
import { WsExceptionsFilter } from '../common/filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AnswerDto } from './dto/answer.dto.js';
import { CallDto } from './dto/call.dto.js';
import { CandidateDto, HangupDto, OfferDto, SignalDto } from './dto/relay.dto.js';
import { IceService } from './ice.service.js';
import { SignalingService } from './signaling.service.js';

@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
export class SignalingGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly signaling: SignalingService,
    private readonly ice: IceService,
    private readonly metrics: MetricsService,
  ) {}

  async handleConnection(client: ParleySocket): Promise<void> {
    this.metrics.connections.inc();
    // Registered before `me`, so the id is callable as soon as anyone can know it. While
    // Redis is not answering the socket still gets `me` (it is callable on this node), and
    // the node registers it once Redis answers again (NodeLivenessService reconciles).
    await this.signaling.connected(client.id).catch((err: unknown) => {
      if (!(err instanceof UnavailableError)) throw err;
    });
    client.emit('me', client.id);
  }

  async handleDisconnect(_client: ParleySocket): Promise<void> {
    this.metrics.connections.dec();
  }

  @SubscribeMessage('call')
  async call(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: CallDto) {
    await this.signaling.call(client.id, dto, client.data.user?.name ?? client.data.lobbyName);
    return {};
  }

  @SubscribeMessage('answer')
  async answer(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: AnswerDto) {
    await this.signaling.answer(client.id, dto);
    return {};
  }

  @SubscribeMessage('offer')
  offer(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: OfferDto) {
    return acked(
      this.signaling.relay('offer', client.id, dto.to, { sdp: dto.sdp, socketId: client.id, from: client.id }),
    );
  }

  @SubscribeMessage('candidate')
  candidate(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: CandidateDto) {
    return acked(this.signaling.relay('candidate', client.id, dto.to, { candidate: dto.candidate, from: client.id }));
  }

  @SubscribeMessage('signal')
  signal(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: SignalDto) {
    return acked(this.signaling.relay('signal', client.id, dto.to, { signal: dto.signal, from: client.id }));
  }

  @SubscribeMessage('hangup')
  async hangup(@ConnectedSocket() client: ParleySocket, @MessageBody() dto: HangupDto) {
    await this.signaling.hangup(client.id, dto.to);
    return {};
  }

  @SubscribeMessage('iceServers')
  iceServers(@ConnectedSocket() client: ParleySocket) {
    return { iceServers: this.ice.serversFor(client.id) };
  }
}

/** The empty ack, shared: it is only ever serialised. */
const EMPTY_ACK = Object.freeze({});

/** The empty ack once `done` has (at once when it finished synchronously). */
function acked(done: void | Promise<void>): object | Promise<object> {
  return done instanceof Promise ? done.then(() => EMPTY_ACK) : EMPTY_ACK;
}
