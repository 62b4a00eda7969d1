import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { NoCallError, NotFoundError, SelfCallError, UnavailableError } from '../common/errors/parley.error.js';
import { PublishRefusal } from '../common/realtime/publish-condition.js';
import type { ServerToClientEvents } from '../common/events.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { DEPARTURE_ORDER } from '../common/domain-events/domain-events.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ConnectionRegistryService } from './connection-registry.service.js';
import { CallStateService, type CallStatus } from './call-state.service.js';
import type { AnswerDto } from './dto/answer.dto.js';
import type { CallDto } from './dto/call.dto.js';

type RelayEvent = 'offer' | 'candidate' | 'signal';
type RelayPayload<E extends RelayEvent> = Parameters<ServerToClientEvents[E]>[0];

const given = (v: unknown) => v !== undefined && v !== null;

/** A conditional publish's outcome as the domain error the same checks give on one node. */
function refusedAs(err: unknown, to: string): Error {
  if (err instanceof PublishRefusal) return err.code === 'NOT_FOUND' ? new NotFoundError(to) : new NoCallError(to);
  return err instanceof UnavailableError ? err : new UnavailableError();
}

/**
 * 1:1 call signaling between sockets. Signals are opaque: relayed whole, never logged or
 * inspected beyond the size check the DTO pipe already made. Call state changes are
 * counted in metrics and logged at debug level: a busy server makes many per second.
 */
@Injectable()
export class SignalingService implements OnModuleInit {
  private readonly logger = new Logger(SignalingService.name);

  constructor(
    private readonly calls: CallStateService,
    private readonly connections: ConnectionRegistryService,
    private readonly realtime: RealtimeService,
    private readonly metrics: MetricsService,
    private readonly bus: DomainEventBus,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  onModuleInit(): void {
    this.bus.on('socket.departed', ({ id, node }) => this.disconnected(id, node), { order: DEPARTURE_ORDER.signaling });
    // Redis lost data: this node's sockets are connected again as far as call targets go.
    this.bus.on('store.reconnected', async () => {
      if (!this.realtime.attached) return;
      for (const id of this.realtime.server.sockets.sockets.keys()) await this.connections.add(id);
    });
    this.bus.on('call.ringTimeout', ({ callerId, calleeId }) => {
      this.metrics.callsEnded.inc({ reason: 'timeout' });
      this.logger.debug({ event: 'call-ended', reason: 'timeout', callerId, calleeId });
      this.realtime.emitTo(callerId, 'ended', { from: calleeId, reason: 'timeout' });
      this.realtime.emitTo(calleeId, 'ended', { from: callerId, reason: 'timeout' });
    });
  }

  async connected(id: string): Promise<void> {
    await this.connections.add(id);
  }

  async call(callerId: string, dto: CallDto, callerName: string | undefined): Promise<void> {
    const to = dto.userToCall;
    if (to === callerId) throw new SelfCallError();
    if (!(await this.isConnected(to))) throw new NotFoundError(to);
    await this.calls.start(callerId, to, this.limits.ringTimeoutMs);
    const name = dto.name ?? callerName;
    this.realtime.emitTo(to, 'call', {
      from: callerId,
      ...(name !== undefined && { name }),
      ...(given(dto.signal) && { signal: dto.signal }),
    });
    this.metrics.signals.inc();
    this.metrics.callsStarted.inc();
    this.logger.debug({ event: 'call-pending', callerId, calleeId: to });
  }

  async answer(fromId: string, dto: AnswerDto): Promise<void> {
    if (!(await this.calls.accept(fromId, dto.to))) throw new NoCallError(dto.to);
    if (given(dto.signal)) this.realtime.emitTo(dto.to, 'accepted', dto.signal);
    else this.realtime.emitTo(dto.to, 'answer', { sdp: dto.sdp, socketId: fromId, from: fromId });
    this.metrics.signals.inc();
    this.metrics.callsAnswered.inc();
    this.logger.debug({ event: 'call-active', answererId: fromId, peerId: dto.to });
  }

  /**
   * offer / candidate / signal between the two peers of a pending or active call. Most of a
   * call's signaling is this, so when the peer is on this node and the call state answers
   * without I/O, it all happens synchronously (no promise at all).
   */
  relay<E extends RelayEvent>(event: E, fromId: string, to: string, payload: RelayPayload<E>): void | Promise<void> {
    if (!this.realtime.isLocal(to)) return this.relayToOtherNode(event, fromId, to, payload);
    const status = this.calls.status(fromId, to);
    if (status instanceof Promise) return status.then((s) => this.deliver(event, fromId, to, payload, s));
    this.deliver(event, fromId, to, payload, status);
  }

  private async relayToOtherNode<E extends RelayEvent>(
    event: E,
    fromId: string,
    to: string,
    payload: RelayPayload<E>,
  ): Promise<void> {
    // With Redis: the checks ride on the publish, one command instead of three.
    const condition = this.calls.relayCondition?.(fromId, to);
    const published =
      condition &&
      (
        this.realtime.emitToIf as (
          id: string,
          c: typeof condition,
          e: E,
          p: RelayPayload<E>,
        ) => Promise<void> | undefined
      ).call(this.realtime, to, condition, event, payload);
    if (published) {
      await published.catch((err: unknown) => {
        throw refusedAs(err, to);
      });
      this.metrics.signals.inc();
      return;
    }
    if (!(await this.connections.has(to))) throw new NotFoundError(to);
    this.deliver(event, fromId, to, payload, await this.calls.status(fromId, to));
  }

  private deliver<E extends RelayEvent>(
    event: E,
    fromId: string,
    to: string,
    payload: RelayPayload<E>,
    status: CallStatus | undefined,
  ): void {
    if (!status) throw new NoCallError(to);
    (this.realtime.emitTo as (id: string, e: E, p: RelayPayload<E>) => void).call(this.realtime, to, event, payload);
    this.metrics.signals.inc();
  }

  /** Connected anywhere: on this node (no I/O), else per the cluster-wide registry. */
  private async isConnected(id: string): Promise<boolean> {
    return this.realtime.isLocal(id) || this.connections.has(id);
  }

  async hangup(fromId: string, to: string): Promise<void> {
    if (!(await this.calls.end(fromId, to))) throw new NoCallError(to);
    this.realtime.emitTo(to, 'ended', { from: fromId, reason: 'hangup' });
    this.metrics.callsEnded.inc({ reason: 'hangup' });
    this.logger.debug({ event: 'call-ended', reason: 'hangup', from: fromId, to });
  }

  /**
   * The socket is gone: its call peers, and only they, hear `ended`. With `owner` (cleaning
   * up after a node), nothing when the socket's connection moved to another node meanwhile.
   */
  async disconnected(id: string, owner?: string): Promise<void> {
    const held = await this.connections.remove(id, owner);
    if (owner !== undefined && !held) return;
    const peers = await this.calls.endAll(id);
    for (const peer of peers) {
      this.realtime.emitTo(peer, 'ended', { from: id, reason: 'disconnected' });
      this.metrics.callsEnded.inc({ reason: 'disconnected' });
      this.logger.debug({ event: 'call-ended', reason: 'disconnected', from: id, to: peer });
    }
  }
}
