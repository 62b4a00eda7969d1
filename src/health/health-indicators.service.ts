import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RealtimeService } from '../common/realtime/realtime.service.js';

export type Indicator = () => Promise<HealthIndicatorResult>;

/**
 * The checks behind /health. Backends that the node depends on (Redis) register theirs;
 * the Socket.IO server is always checked.
 */
@Injectable()
export class HealthIndicators {
  private readonly extra: Indicator[] = [];

  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly realtime: RealtimeService,
  ) {}

  register(check: Indicator): void {
    this.extra.push(check);
  }

  all(): Indicator[] {
    return [() => this.socketIo(), ...this.extra];
  }

  private async socketIo(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('socketio');
    return this.realtime.attached ? check.up() : check.down({ message: 'Socket.IO server not attached' });
  }
}
