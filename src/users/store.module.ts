import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { Env } from '../config/env.schema.js';
import { HistoryStoreService } from '../history/history-store.service.js';
import { InMemoryHistoryStoreService } from '../history/in-memory-history-store.service.js';
import { RedisHistoryStoreService } from '../redis/redis-history-store.service.js';
import { RedisCallStateService } from '../redis/redis-call-state.service.js';
import { RedisConnectionRegistryService } from '../redis/redis-connection-registry.service.js';
import { RedisLobbyStoreService } from '../redis/redis-lobby-store.service.js';
import { RedisPeerRegistryService } from '../redis/redis-peer-registry.service.js';
import { RedisSessionStoreService } from '../redis/redis-session-store.service.js';
import { RedisUserStoreService } from '../redis/redis-user-store.service.js';
import { RedisModule } from '../redis/redis.module.js';
import { InMemorySessionStoreService } from '../sessions/in-memory-session-store.service.js';
import { SessionStoreService } from '../sessions/session-store.service.js';
import { CallStateService } from '../signaling/call-state.service.js';
import { InMemoryCallStateService } from '../signaling/in-memory-call-state.service.js';
import { ConnectionRegistryService } from './connection-registry.service.js';
import { InMemoryConnectionRegistryService } from './in-memory-connection-registry.service.js';
import { InMemoryUserStoreService } from './in-memory-user-store.service.js';
import { InMemoryPeerRegistryService } from './in-memory-peer-registry.service.js';
import { PeerRegistryService } from './peer-registry.service.js';
import { InMemoryLobbyStoreService } from './in-memory-lobby-store.service.js';
import { LobbyStoreService } from './lobby-store.service.js';
import { PresenceEvents } from './presence-events.service.js';
import { UserStoreService } from './user-store.service.js';

const EXPORTS = [
  PresenceEvents, UserStoreService, ConnectionRegistryService, CallStateService, PeerRegistryService, LobbyStoreService,
  SessionStoreService, HistoryStoreService,
];

const IN_MEMORY: Provider[] = [
  { provide: UserStoreService, useClass: InMemoryUserStoreService },
  { provide: ConnectionRegistryService, useClass: InMemoryConnectionRegistryService },
  { provide: CallStateService, useClass: InMemoryCallStateService },
  { provide: PeerRegistryService, useClass: InMemoryPeerRegistryService },
  { provide: LobbyStoreService, useClass: InMemoryLobbyStoreService },
  { provide: SessionStoreService, useClass: InMemorySessionStoreService },
  { provide: HistoryStoreService, useClass: InMemoryHistoryStoreService },
];

const REDIS: Provider[] = [
  { provide: UserStoreService, useExisting: RedisUserStoreService },
  { provide: ConnectionRegistryService, useExisting: RedisConnectionRegistryService },
  { provide: CallStateService, useExisting: RedisCallStateService },
  { provide: PeerRegistryService, useExisting: RedisPeerRegistryService },
  { provide: LobbyStoreService, useExisting: RedisLobbyStoreService },
  { provide: SessionStoreService, useExisting: RedisSessionStoreService },
  { provide: HistoryStoreService, useExisting: RedisHistoryStoreService },
];

/**
 * The state backends, bound to their abstract tokens. Gateways and services depend only on
 * the abstract classes, so another backend swaps in here without touching them:
 * `StoreModule.register(env)` binds them to Redis when REDIS_URL is set (several nodes),
 * to the in-memory classes otherwise (one node).
 */
@Global()
@Module({})
export class StoreModule {
  static register(env: Pick<Env, 'REDIS_URL' | 'REDIS_KEY_PREFIX'>): DynamicModule {
    if (!env.REDIS_URL) return StoreModule.inMemory();
    return {
      module: StoreModule,
      global: true,
      imports: [RedisModule.forRoot({ url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX })],
      providers: [PresenceEvents, ...REDIS],
      exports: EXPORTS,
    };
  }

  static inMemory(): DynamicModule {
    return { module: StoreModule, global: true, providers: [PresenceEvents, ...IN_MEMORY], exports: EXPORTS };
  }
}
