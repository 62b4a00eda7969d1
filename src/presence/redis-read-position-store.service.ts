import { Injectable } from '@nestjs/common';
import type { ReadReceipt } from '../common/events.js';
import { RedisService } from '../redis/redis.service.js';
import { ReadPositionStoreService } from './read-position-store.service.js';

/**
 * Read positions in Redis: `room:{<room>}:reads`, a hash of member id → `<epoch>|<offset>|<at>`,
 * under the room's hash tag. Moving forward is one Lua script, so two nodes moving one
 * member's position at once keep the larger.
 */
@Injectable()
export class RedisReadPositionStoreService extends ReadPositionStoreService {
  constructor(private readonly redis: RedisService) {
    super();
  }

  async advance(room: string, receipt: ReadReceipt): Promise<{ position: ReadReceipt; moved: boolean }> {
    const [value, moved] = await this.redis.script<[string, string]>(
      'parleyReadAdvance',
      [this.redis.keys.roomReads(room)],
      [receipt.id, receipt.epoch, receipt.offset, receipt.at],
    );
    return { position: parsed(receipt.id, value), moved: moved === '1' };
  }

  async list(room: string, epoch: string): Promise<ReadReceipt[]> {
    const all = await this.redis.run((c) => c.hgetall(this.redis.keys.roomReads(room)));
    return Object.entries(all)
      .map(([id, value]) => parsed(id, value))
      .filter((p) => p.epoch === epoch);
  }

  async forget(room: string, id: string): Promise<void> {
    await this.redis.run((c) => c.hdel(this.redis.keys.roomReads(room), id));
  }
}

function parsed(id: string, value: string): ReadReceipt {
  // The epoch never holds a '|' (12 base64url characters), so the last two fields are numbers.
  const [epoch, offset, at] = value.split('|');
  return { id, epoch, offset: Number(offset), at: Number(at) };
}
