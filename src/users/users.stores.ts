import type { StoreBinding } from '../common/stores/store.module.js';
import { InMemoryUserStoreService } from './in-memory-user-store.service.js';
import { RedisUserStoreService } from './redis-user-store.service.js';
import { UserStoreService } from './user-store.service.js';

/** Who is logged in where (chat, the compatibility chat, the admin routes). */
export const USER_STORES: StoreBinding[] = [
  { contract: UserStoreService, memory: InMemoryUserStoreService, redis: RedisUserStoreService },
];
