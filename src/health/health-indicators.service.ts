import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';

export type Indicator = () => Promise<HealthIndicatorResult>;

/**
 * The checks behind /health: the Socket.IO server, plus whatever the node depends on
 * answering the bus query `health` (Redis, when configured).
 */
@Injectable()
export class HealthIndicators {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly realtime: RealtimeService,
    private readonly bus: DomainEventBus,
  ) {}

  all(): Indicator[] {
    return [() => this.socketIo(), ...this.bus.answerersOf('health')];
  }

  private async socketIo(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('socketio');
    return this.realtime.attached ? check.up() : check.down({ message: 'Socket.IO server not attached' });
  }
}
