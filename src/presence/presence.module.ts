import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { PresenceGateway } from './presence.gateway.js';
import { PresenceService } from './presence.service.js';

/** Presence, typing and read receipts (v1.2). */
@Module({ imports: [HistoryModule], providers: [PresenceGateway, PresenceService] })
export class PresenceModule {}
