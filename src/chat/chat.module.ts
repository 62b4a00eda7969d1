import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { ChatGateway } from './chat.gateway.js';
import { ChatService } from './chat.service.js';
import { DirectService } from './direct.service.js';

@Module({
  imports: [HistoryModule],
  providers: [ChatGateway, ChatService, DirectService],
  exports: [ChatService],
})
export class ChatModule {}
