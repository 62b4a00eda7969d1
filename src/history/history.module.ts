import { Module } from '@nestjs/common';
import { HistoryService } from './history.service.js';

/** Offsets, epochs and retained messages over the HistoryStoreService bound by StoreModule. */
@Module({
  providers: [HistoryService],
  exports: [HistoryService],
})
export class HistoryModule {}
