import { Injectable } from '@nestjs/common';
import { LobbyStoreService } from './lobby-store.service.js';
import { RedisService } from '../../redis/redis.service.js';

/** The compatibility lobby in Redis: socket id → name, each with its owning node. */
@Injectable()
export class RedisLobbyStoreService extends LobbyStoreService {
  constructor(private readonly redis: RedisService) {
    super();
  }

  async register(id: string, name: string): Promise<boolean> {
    const k = this.redis.keys;
    const isNew = await this.redis.script<number>(
      'parleyLobbyRegister',
      [k.lobby, k.lobbyOwner, k.owners],
      [id, name, this.redis.nodeId],
    );
    return isNew === 1;
  }

  async unregister(id: string, owner?: string): Promise<string | undefined> {
    return this.unregisterOwned(id, owner ?? '');
  }

  /** Takes the socket out when `node` owns its entry ('' for any owner). */
  async unregisterOwned(id: string, node: string): Promise<string | undefined> {
    const k = this.redis.keys;
    const name = await this.redis.script<string | null>('parleyLobbyUnregister', [k.lobby, k.lobbyOwner], [id, node]);
    return name ?? undefined;
  }

  async nameOf(id: string): Promise<string | undefined> {
    return (await this.redis.run((c) => c.hget(this.redis.keys.lobby, id))) ?? undefined;
  }

  async list(): Promise<Record<string, string>> {
    return this.redis.run((c) => c.hgetall(this.redis.keys.lobby));
  }
}
