import { Module, type DynamicModule } from '@nestjs/common';
import { NodeLivenessService } from './node-liveness.service.js';
import { REDIS_CLIENT, REDIS_OPTIONS, type RedisModuleOptions } from './redis.constants.js';
import { RedisService } from './redis.service.js';

/**
 * Redis for one node: the client (ready before use) and node liveness (heartbeat,
 * dead-node sweeper, reconnection, graceful shutdown). The features' Redis store backends
 * inject RedisService; `REDIS_CLIENT` is the bare ioredis client for shared counters.
 * Knows no feature: what a departure or a reconnection means is for the features to say,
 * through the domain event bus.
 */
@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        { provide: REDIS_OPTIONS, useValue: options },
        RedisService,
        { provide: REDIS_CLIENT, useFactory: (redis: RedisService) => redis.client, inject: [RedisService] },
        NodeLivenessService,
      ],
      exports: [RedisService, REDIS_CLIENT, NodeLivenessService],
    };
  }
}
