import { Global, Module } from '@nestjs/common';
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

/**
 * The state backends, bound to their abstract tokens. Gateways and services depend only on
 * the abstract classes, so another backend swaps in here without touching them.
 */
@Global()
@Module({
  providers: [
    PresenceEvents,
    { provide: UserStoreService, useClass: InMemoryUserStoreService },
    { provide: ConnectionRegistryService, useClass: InMemoryConnectionRegistryService },
    { provide: CallStateService, useClass: InMemoryCallStateService },
    { provide: PeerRegistryService, useClass: InMemoryPeerRegistryService },
    { provide: LobbyStoreService, useClass: InMemoryLobbyStoreService },
  ],
  exports: [PresenceEvents, UserStoreService, ConnectionRegistryService, CallStateService, PeerRegistryService, LobbyStoreService],
})
export class StoreModule {}
