import type { StoreBinding } from '../common/stores/store.module.js';
import { InMemoryReadPositionStoreService } from './in-memory-read-position-store.service.js';
import { ReadPositionStoreService } from './read-position-store.service.js';
import { RedisReadPositionStoreService } from './redis-read-position-store.service.js';

/** Members' read positions. (Statuses live in the user store.) */
export const PRESENCE_STORES: StoreBinding[] = [
  {
    contract: ReadPositionStoreService,
    memory: InMemoryReadPositionStoreService,
    redis: RedisReadPositionStoreService,
  },
];
