import { Injectable } from '@nestjs/common';
import type { ReadReceipt } from '../common/events.js';
import { ReadPositionStoreService } from './read-position-store.service.js';

/** Read positions on one node: room → member id → position. */
@Injectable()
export class InMemoryReadPositionStoreService extends ReadPositionStoreService {
  private readonly rooms = new Map<string, Map<string, ReadReceipt>>();

  advance(room: string, receipt: ReadReceipt): Promise<{ position: ReadReceipt; moved: boolean }> {
    let positions = this.rooms.get(room);
    const current = positions?.get(receipt.id);
    if (current && current.epoch === receipt.epoch && current.offset >= receipt.offset)
      return Promise.resolve({ position: { ...current }, moved: false });
    if (!positions) this.rooms.set(room, (positions = new Map()));
    positions.set(receipt.id, { ...receipt });
    return Promise.resolve({ position: { ...receipt }, moved: true });
  }

  list(room: string, epoch: string): Promise<ReadReceipt[]> {
    const positions = this.rooms.get(room);
    return Promise.resolve([...(positions?.values() ?? [])].filter((p) => p.epoch === epoch).map((p) => ({ ...p })));
  }

  forget(room: string, id: string): Promise<void> {
    const positions = this.rooms.get(room);
    if (positions?.delete(id) && positions.size === 0) this.rooms.delete(room);
    return Promise.resolve();
  }
}
