import type { StoreBinding } from '../common/stores/store.module.js';
import { InMemoryRoomCallStateService } from './in-memory-room-call-state.service.js';
import { RedisRoomCallStateService } from './redis-room-call-state.service.js';
import { RoomCallStateService } from './room-call-state.service.js';

/** Who is in each room's call. */
export const ROOM_CALL_STORES: StoreBinding[] = [
  { contract: RoomCallStateService, memory: InMemoryRoomCallStateService, redis: RedisRoomCallStateService },
];
