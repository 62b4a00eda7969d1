import { Module, type DynamicModule } from '@nestjs/common';
import { NodeLivenessService } from './node-liveness.service.js';
import { RedisCallStateService } from './redis-call-state.service.js';
import { RedisConnectionRegistryService } from './redis-connection-registry.service.js';
import { RedisHistoryStoreService } from './redis-history-store.service.js';
import { RedisLobbyStoreService } from './redis-lobby-store.service.js';
import { RedisPeerRegistryService } from './redis-peer-registry.service.js';
import { RedisSessionStoreService } from './redis-session-store.service.js';
import { RedisUserStoreService } from './redis-user-store.service.js';
import { REDIS_CLIENT, REDIS_OPTIONS, type RedisModuleOptions } from './redis.constants.js';
import { RedisService } from './redis.service.js';

/**
 * Redis for one node: the client (ready before use), the Redis stores, and node liveness
 * (heartbeat, dead-node sweeper, reconnection, graceful shutdown). StoreModule binds the
 * abstract store tokens to these classes when REDIS_URL is set; `REDIS_CLIENT` is the
 * ioredis client for other features that keep shared counters.
 */
@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    const stores = [
      RedisUserStoreService,
      RedisConnectionRegistryService,
      RedisCallStateService,
      RedisLobbyStoreService,
      RedisPeerRegistryService,
      RedisSessionStoreService,
      RedisHistoryStoreService,
    ];
    return {
      module: RedisModule,
      providers: [
        { provide: REDIS_OPTIONS, useValue: options },
        RedisService,
        { provide: REDIS_CLIENT, useFactory: (redis: RedisService) => redis.client, inject: [RedisService] },
        ...stores,
        NodeLivenessService,
      ],
      exports: [RedisService, REDIS_CLIENT, ...stores, NodeLivenessService],
    };
  }
}
