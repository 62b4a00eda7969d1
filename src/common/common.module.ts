import { Global, Module } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { AuthFailureThrottle } from './guards/auth-failure-throttle.js';
import { DomainEventBus } from './domain-events/domain-event-bus.service.js';
import { LogFlushService } from './logging/log-flush.service.js';
import { RealtimeService } from './realtime/realtime.service.js';
import { WsExceptionsFilter } from './filters/ws-exceptions.filter.js';
import { WsValidationPipe } from './pipes/ws-validation.pipe.js';

/** App-wide services every feature module uses. */
@Global()
@Module({
  providers: [
    LogFlushService,
    DomainEventBus,
    MetricsService,
    RealtimeService,
    WsExceptionsFilter,
    WsValidationPipe,
    // One per app: the admin token guard and the admin UI share it.
    { provide: AuthFailureThrottle, useFactory: () => new AuthFailureThrottle() },
  ],
  exports: [DomainEventBus, MetricsService, RealtimeService, WsExceptionsFilter, WsValidationPipe, AuthFailureThrottle],
})
export class CommonModule {}
