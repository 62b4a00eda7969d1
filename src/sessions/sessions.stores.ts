import type { StoreBinding } from '../common/stores/store.module.js';
import { InMemorySessionStoreService } from './in-memory-session-store.service.js';
import { RedisSessionStoreService } from './redis-session-store.service.js';
import { SessionStoreService } from './session-store.service.js';

/** Sockets held for the recovery window. */
export const SESSION_STORES: StoreBinding[] = [
  { contract: SessionStoreService, memory: InMemorySessionStoreService, redis: RedisSessionStoreService },
];
