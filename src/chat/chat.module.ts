import { Module } from '@nestjs/common';
import { ChatGateway } from './chat.gateway.js';
import { ChatService } from './chat.service.js';
import { DirectService } from './direct.service.js';

@Module({
  providers: [ChatGateway, ChatService, DirectService],
  exports: [ChatService],
})
export class ChatModule {}
