import { Injectable } from '@nestjs/common';
import { ConnectionRegistryService } from './connection-registry.service.js';
import { RedisService } from '../redis/redis.service.js';

/**
 * Connected socket ids across the cluster, each with the node that holds it. `remove` only
 * removes an id this node holds: when a session was recovered on another node, the old
 * node's late departure must not unregister the socket that lives on.
 */
@Injectable()
export class RedisConnectionRegistryService extends ConnectionRegistryService {
  constructor(private readonly redis: RedisService) {
    super();
  }

  async add(id: string): Promise<void> {
    const k = this.redis.keys;
    await this.redis.script('parleyConnAdd', [k.conn(id), k.owners], [id, this.redis.nodeId]);
  }

  async remove(id: string, owner?: string): Promise<boolean> {
    return this.removeOwned(id, owner ?? this.redis.nodeId);
  }

  /** Removes the id when `node` holds it; resolves to whether it did. */
  async removeOwned(id: string, node: string): Promise<boolean> {
    const held = await this.redis.script<string | null>('parleyConnRemove', [this.redis.keys.conn(id)], [id, node]);
    return held !== null;
  }

  async has(id: string): Promise<boolean> {
    return (await this.redis.run((c) => c.exists(this.redis.keys.conn(id)))) === 1;
  }
}
