import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module.js';
import { CompatGateway } from './compat.gateway.js';
import { HandshakeLoginService } from './handshake-login.service.js';
import { LegacyChatService } from './legacy-chat.service.js';
import { LobbyService } from './lobby/lobby.service.js';
import { PeerChannelService } from './peers/peer-channel.service.js';

/**
 * The compatibility events for clients of older socket.io chat and signaling servers.
 * Optional (COMPAT_EVENTS): without this module none of them exists. Shares the core
 * chat service and the global stores (its lobby and peer stores are bound with the
 * others, see compat.stores.ts).
 */
@Module({
  imports: [ChatModule],
  providers: [CompatGateway, HandshakeLoginService, LegacyChatService, LobbyService, PeerChannelService],
})
export class CompatModule {}
