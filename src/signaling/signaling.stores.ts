import type { StoreBinding } from '../common/stores/store.module.js';
import { CallStateService } from './call-state.service.js';
import { ConnectionRegistryService } from './connection-registry.service.js';
import { InMemoryCallStateService } from './in-memory-call-state.service.js';
import { InMemoryConnectionRegistryService } from './in-memory-connection-registry.service.js';
import { RedisCallStateService } from './redis-call-state.service.js';
import { RedisConnectionRegistryService } from './redis-connection-registry.service.js';

/** Call state between socket pairs, and which socket ids are connected anywhere. */
export const SIGNALING_STORES: StoreBinding[] = [
  { contract: CallStateService, memory: InMemoryCallStateService, redis: RedisCallStateService },
  {
    contract: ConnectionRegistryService,
    memory: InMemoryConnectionRegistryService,
    redis: RedisConnectionRegistryService,
  },
];
