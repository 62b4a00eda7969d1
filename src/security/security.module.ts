import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { limitsConfig, redisConfig, type LimitsConfig, type RedisConfig } from '../config/configuration.js';
import { NodeLivenessService } from '../redis/node-liveness.service.js';
import { REDIS_CLIENT } from '../redis/redis.constants.js';
import { RedisService } from '../redis/redis.service.js';
import {
  ConnectionCounter, forgetNodeConnections, inMemoryConnectionCounter, LazyConnectionCounter, redisConnectionCounter,
} from './connection-counter.js';
import { SocketGuardService } from './socket-guard.service.js';

/**
 * Authentication, per-address connection limits and per-socket rate limits on the Socket.IO
 * server (see SocketGuardService). HTTP headers and TLS are applied in createApp.
 *
 * The per-address connection count is in memory on one node; with REDIS_URL it lives in
 * Redis (rate-limiter-flexible's Redis store on the Redis module's client), so the limit
 * holds across nodes. The client is looked up when the first connection is counted: the
 * Redis module does not export it to this module.
 */
@Module({
  providers: [
    {
      provide: ConnectionCounter,
      inject: [ModuleRef, limitsConfig.KEY, redisConfig.KEY],
      useFactory: (moduleRef: ModuleRef, limits: LimitsConfig, redis: RedisConfig) =>
        redis.url
          ? new LazyConnectionCounter(() =>
              redisConnectionCounter(
                moduleRef.get(REDIS_CLIENT, { strict: false }),
                limits.maxConnectionsPerIp,
                redis.keyPrefix,
                moduleRef.get(RedisService, { strict: false }).nodeId,
              ),
            )
          : inMemoryConnectionCounter(limits.maxConnectionsPerIp),
    },
    SocketGuardService,
  ],
  exports: [ConnectionCounter],
})
export class SecurityModule implements OnApplicationBootstrap {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(redisConfig.KEY) private readonly redis: RedisConfig,
  ) {}

  /** With Redis, a dead node's counted connections are given back when it is cleaned up. */
  onApplicationBootstrap(): void {
    if (!this.redis.url) return;
    const liveness = this.moduleRef.get(NodeLivenessService, { strict: false });
    const client = this.moduleRef.get(REDIS_CLIENT, { strict: false });
    liveness.onNodeGone((node) => forgetNodeConnections(client, this.redis.keyPrefix, node));
  }
}
