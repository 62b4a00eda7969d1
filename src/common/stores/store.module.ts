import { Global, Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { RedisModule } from '../../redis/redis.module.js';
import type { RedisModuleOptions } from '../../redis/redis.constants.js';

/**
 * One state contract and its two backends, as a feature declares them (e.g.
 * `SIGNALING_STORES` in src/signaling/signaling.stores.ts). Features depend only on
 * `contract`; which class stands behind it is decided here, once, from the configuration.
 */
export interface StoreBinding<T = unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  contract: abstract new (...args: any[]) => T;
  memory: Type<T>;
  redis: Type<T>;
}

export type StoreBackend = { kind: 'memory' } | { kind: 'redis'; redis: RedisModuleOptions };

/**
 * The one mechanism that binds every feature's stores: the in-memory classes on one node,
 * the Redis classes (with the Redis module: client, liveness) when REDIS_URL is set. The
 * composition root (AppModule) hands it the features' bindings, so nothing here knows a
 * feature. Global, so any module may inject any store contract.
 */
@Global()
@Module({})
export class StoreModule {
  static register(backend: StoreBackend, bindings: StoreBinding[]): DynamicModule {
    const redis = backend.kind === 'redis';
    const providers: Provider[] = bindings.map((b) => ({ provide: b.contract, useClass: redis ? b.redis : b.memory }));
    const contracts = bindings.map((b) => b.contract);
    if (!redis) return { module: StoreModule, global: true, providers, exports: contracts };
    const redisModule = RedisModule.forRoot(backend.redis);
    return {
      module: StoreModule,
      global: true,
      imports: [redisModule],
      providers,
      exports: [...contracts, redisModule],
    };
  }
}
