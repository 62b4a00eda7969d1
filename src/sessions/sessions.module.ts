import { Global, Module } from '@nestjs/common';
import { InMemorySessionStoreService } from './in-memory-session-store.service.js';
import { SessionStoreService } from './session-store.service.js';
import { SessionGateway } from './session.gateway.js';
import { SessionService } from './session.service.js';

@Global()
@Module({
  providers: [SessionService, SessionGateway, { provide: SessionStoreService, useClass: InMemorySessionStoreService }],
  exports: [SessionService],
})
export class SessionsModule {}
