import { Inject, Module, Optional, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { limitsConfig, redisConfig, type LimitsConfig, type RedisConfig } from '../config/configuration.js';
import { REDIS_CLIENT } from '../redis/redis.constants.js';
import { RedisService } from '../redis/redis.service.js';
import {
  ConnectionCounter,
  forgetNodeConnections,
  inMemoryConnectionCounter,
  redisConnectionCounter,
} from './connection-counter.js';
import { SocketGuardService } from './socket-guard.service.js';

/**
 * Authentication, per-address connection limits and per-socket rate limits on the Socket.IO
 * server (see SocketGuardService). HTTP headers and TLS are applied in createApp.
 *
 * The per-address connection count is in memory on one node; with REDIS_URL it lives in
 * Redis (rate-limiter-flexible's Redis store on the store module's client, which is ready
 * before any module initialises), so the limit holds across nodes.
 */
@Module({
  providers: [
    {
      provide: ConnectionCounter,
      inject: [limitsConfig.KEY, { token: REDIS_CLIENT, optional: true }, { token: RedisService, optional: true }],
      useFactory: (limits: LimitsConfig, client?: Redis, redis?: RedisService) =>
        client && redis
          ? redisConnectionCounter(client, limits.maxConnectionsPerIp, redis.keys.prefix, redis.nodeId)
          : inMemoryConnectionCounter(limits.maxConnectionsPerIp),
    },
    SocketGuardService,
  ],
  exports: [ConnectionCounter],
})
export class SecurityModule implements OnModuleInit {
  constructor(
    private readonly bus: DomainEventBus,
    @Inject(redisConfig.KEY) private readonly redis: RedisConfig,
    @Optional() @Inject(REDIS_CLIENT) private readonly client?: Redis,
  ) {}

  /** With Redis, a dead node's counted connections are given back when it is cleaned up. */
  onModuleInit(): void {
    const client = this.client;
    if (!client) return;
    this.bus.on('node.gone', ({ node }) => forgetNodeConnections(client, this.redis.keyPrefix, node));
  }
}
