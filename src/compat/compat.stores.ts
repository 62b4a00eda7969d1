import type { StoreBinding } from '../common/stores/store.module.js';
import { InMemoryLobbyStoreService } from './lobby/in-memory-lobby-store.service.js';
import { LobbyStoreService } from './lobby/lobby-store.service.js';
import { RedisLobbyStoreService } from './lobby/redis-lobby-store.service.js';
import { InMemoryPeerRegistryService } from './peers/in-memory-peer-registry.service.js';
import { PeerRegistryService } from './peers/peer-registry.service.js';
import { RedisPeerRegistryService } from './peers/redis-peer-registry.service.js';

/**
 * The lobby and the peer channel. Bound even with COMPAT_EVENTS=false: GET /connections
 * reads the peer registry, and an empty one is the right answer then.
 */
export const COMPAT_STORES: StoreBinding[] = [
  { contract: LobbyStoreService, memory: InMemoryLobbyStoreService, redis: RedisLobbyStoreService },
  { contract: PeerRegistryService, memory: InMemoryPeerRegistryService, redis: RedisPeerRegistryService },
];
