import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module.js';
import { CompatGateway } from './compat.gateway.js';
import { CompatService } from './compat.service.js';

/**
 * The compatibility events for clients of older socket.io chat and signaling servers.
 * Optional (COMPAT_EVENTS): without this module none of them exists. Shares the core
 * services and the global stores; owns no state of its own.
 */
@Module({
  imports: [ChatModule],
  providers: [CompatGateway, CompatService],
})
export class CompatModule {}
