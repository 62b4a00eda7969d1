import type { StoreBinding } from '../common/stores/store.module.js';
import { HistoryStoreService } from './history-store.service.js';
import { InMemoryHistoryStoreService } from './in-memory-history-store.service.js';
import { RedisHistoryStoreService } from './redis-history-store.service.js';

/** Each room's offsets, epoch and retained messages (chat, the compatibility chat). */
export const HISTORY_STORES: StoreBinding[] = [
  { contract: HistoryStoreService, memory: InMemoryHistoryStoreService, redis: RedisHistoryStoreService },
];
