import { Global, Module } from '@nestjs/common';
import { SessionGateway } from './session.gateway.js';
import { SessionService } from './session.service.js';

/** Connection ends and recoveries. The SessionStoreService backend comes from StoreModule. */
@Global()
@Module({
  providers: [SessionService, SessionGateway],
  exports: [SessionService],
})
export class SessionsModule {}
