import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { CallPeer, User } from '../common/events.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { NotACallPeerError, NotInRoomCallError, ValidationError } from '../common/errors/parley.error.js';
import { roomChannel } from '../common/realtime/channels.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RoomCallStateService } from './room-call-state.service.js';
import { Counter } from 'prom-client';

/**
 * Room calls (protocol v1.2): who is in a room's call, and the relay of signals between its
 * participants. The media never pass through the server, and it never reads a signal. Every
 * change of the participants goes to every member of the room as `roomCall`; a member that
 * arrives hears of an ongoing call after its `users`; a participant that leaves the room
 * leaves the call first, so the others hear `roomCall` before `leave`.
 */
/** The one empty ack of a relayed signal (never mutated). */
const EMPTY: Record<string, never> = Object.freeze({}) as Record<string, never>;

@Injectable()
export class RoomCallService implements OnModuleInit {
  private readonly logger = new Logger('RoomCalls');
  private readonly joins: Counter;
  private readonly signals: Counter;

  constructor(
    private readonly calls: RoomCallStateService,
    private readonly realtime: RealtimeService,
    private readonly bus: DomainEventBus,
    metrics: MetricsService,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {
    this.joins = new Counter({
      name: 'parley_room_call_joins_total',
      help: 'Participants that joined a room call',
      registers: [metrics.registry],
    });
    this.signals = new Counter({
      name: 'parley_room_call_signals_total',
      help: 'Signals relayed between room-call participants',
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    // After its `users`, before its login ack: a newcomer hears of the room's call.
    this.bus.on('user.joined', ({ user }) => this.tellNewcomer(user));
    // Out of the room (logout, kick, departure): out of the call first, before `leave`.
    this.bus.on('user.leaving', ({ user }) => this.leftRoom(user));
  }

  async join(user: User): Promise<{ peers: CallPeer[] }> {
    const peer: CallPeer = { id: user.id, name: user.name, joinedAt: Date.now() };
    const peers = await this.calls.join(user.room, peer, this.limits.maxCallPeers);
    this.joins.inc();
    this.logger.log({ event: 'room-call-join', socketId: user.id, room: user.room, participants: peers.length });
    this.realtime.server.to(roomChannel(user.room)).emit('roomCall', { room: user.room, peers });
    return { peers: peers.filter((p) => p.id !== user.id) };
  }

  async leave(user: User): Promise<Record<string, never>> {
    const peers = await this.calls.leave(user.room, user.id);
    if (!peers) throw new NotInRoomCallError();
    this.logger.log({ event: 'room-call-leave', socketId: user.id, room: user.room, participants: peers.length });
    this.realtime.server.to(roomChannel(user.room)).emit('roomCall', { room: user.room, peers });
    return {};
  }

  signal(user: User, to: string, data: unknown): Record<string, never> | Promise<Record<string, never>> {
    if (to === user.id) throw new ValidationError('to: a signal goes to another participant, not to yourself');
    const found = this.calls.inCall(user.room, user.id, to);
    if (found instanceof Promise) return found.then((f) => this.relay(user, to, data, f));
    return this.relay(user, to, data, found);
  }

  private relay(user: User, to: string, data: unknown, [self, target]: [boolean, boolean]): Record<string, never> {
    if (!self) throw new NotInRoomCallError();
    if (!target) throw new NotACallPeerError(to);
    this.signals.inc();
    this.realtime.emitTo(to, 'callSignal', { from: user.id, data });
    return EMPTY;
  }

  private async tellNewcomer(user: User): Promise<void> {
    const peers = await this.calls.peers(user.room);
    // Through the adapter, as `users` went: with Redis a direct emit would overtake it.
    if (peers.length > 0) this.realtime.server.to(user.id).emit('roomCall', { room: user.room, peers });
  }

  private async leftRoom(user: User): Promise<void> {
    const peers = await this.calls.leave(user.room, user.id);
    if (!peers) return;
    this.logger.log({ event: 'room-call-leave', socketId: user.id, room: user.room, participants: peers.length });
    this.realtime.server.to(roomChannel(user.room)).except(user.id).emit('roomCall', { room: user.room, peers });
  }
}
