import { Module, Optional, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { NodeLivenessService } from '../redis/node-liveness.service.js';
import { RedisService } from '../redis/redis.service.js';
import { ConnectionCounter, inMemoryConnectionCounter, RedisConnectionCounter } from './connection-counter.js';
import { SocketGuardService } from './socket-guard.service.js';

/**
 * Authentication, per-address connection limits and per-socket rate limits on the Socket.IO
 * server (see SocketGuardService). HTTP headers and TLS are applied in createApp.
 *
 * The per-address connection count is in memory on one node; with REDIS_URL it lives in
 * Redis, one tally per node (see RedisConnectionCounter), so the limit holds across nodes.
 */
@Module({
  providers: [
    {
      provide: ConnectionCounter,
      inject: [limitsConfig.KEY, { token: RedisService, optional: true }],
      useFactory: (limits: LimitsConfig, redis?: RedisService) =>
        redis
          ? new RedisConnectionCounter(redis, limits.maxConnectionsPerIp)
          : inMemoryConnectionCounter(limits.maxConnectionsPerIp),
    },
    SocketGuardService,
  ],
  exports: [ConnectionCounter],
})
export class SecurityModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly bus: DomainEventBus,
    private readonly counter: ConnectionCounter,
    @Optional() private readonly redis?: RedisService,
    @Optional() private readonly liveness?: NodeLivenessService,
  ) {}

  /**
   * With Redis: the node's tally lives as long as its heartbeat, is rewritten from the
   * node's own connections when Redis answers again, and a dead node's is given back when
   * it is cleaned up.
   */
  onModuleInit(): void {
    const counter = this.counter;
    if (!(counter instanceof RedisConnectionCounter) || !this.redis) return;
    this.liveness?.keepWithHeartbeat(this.redis.keys.connTally(this.redis.nodeId));
    this.liveness?.keepWithHeartbeat(this.redis.keys.connTallyNodes);
    this.bus.on('store.reconnected', () => counter.reconcile());
    this.bus.on('node.gone', ({ node }) => counter.forgetNode(node));
  }

  /** A clean stop leaves nothing counted: the node gives back its whole tally at once. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.counter instanceof RedisConnectionCounter && this.redis?.connected) await this.counter.close();
  }
}
