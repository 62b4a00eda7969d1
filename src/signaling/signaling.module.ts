import { Module } from '@nestjs/common';
import { SignalingGateway } from './signaling.gateway.js';
import { SignalingService } from './signaling.service.js';
import { IceService } from './ice.service.js';

@Module({
  providers: [SignalingGateway, SignalingService, IceService],
  exports: [SignalingService],
})
export class SignalingModule {}
