import { Injectable } from '@nestjs/common';
import type { CallPeer } from '../common/events.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { AlreadyInRoomCallError, CallFullError } from '../common/errors/parley.error.js';
import { RedisService } from '../redis/redis.service.js';
import { byJoinOrder, RoomCallStateService } from './room-call-state.service.js';

/**
 * Room calls in Redis: `room:{<room>}:call`, a hash of socket id → participant, under the
 * room's hash tag. Joining and leaving are Lua scripts, so the MAX_CALL_PEERS check and the
 * write are one step on every node (two nodes racing for the last place admit exactly one),
 * and the node whose script made the first join or the last leave publishes
 * `room.call.started` / `room.call.ended`.
 */
@Injectable()
export class RedisRoomCallStateService extends RoomCallStateService {
  constructor(
    private readonly redis: RedisService,
    private readonly bus: DomainEventBus,
  ) {
    super();
  }

  async join(room: string, peer: CallPeer, max: number): Promise<CallPeer[]> {
    const [status, ...peers] = await this.redis.script<string[]>(
      'parleyRoomCallJoin',
      [this.redis.keys.roomCall(room)],
      [peer.id, JSON.stringify(peer), max],
    );
    if (status === 'ALREADY') throw new AlreadyInRoomCallError();
    if (status === 'FULL') throw new CallFullError(max);
    if (status === 'STARTED') await this.bus.emit('room.call.started', { room });
    return parsed(peers);
  }

  async leave(room: string, id: string): Promise<CallPeer[] | undefined> {
    const out = await this.redis.script<string[] | null>('parleyRoomCallLeave', [this.redis.keys.roomCall(room)], [id]);
    if (!out) return undefined;
    const [status, ...peers] = out;
    if (status === 'ENDED') await this.bus.emit('room.call.ended', { room });
    return parsed(peers);
  }

  async peers(room: string): Promise<CallPeer[]> {
    return parsed(await this.redis.run((c) => c.hvals(this.redis.keys.roomCall(room))));
  }

  async inCall(room: string, a: string, b: string): Promise<[boolean, boolean]> {
    const [x, y] = await this.redis.run((c) => c.hmget(this.redis.keys.roomCall(room), a, b));
    return [x !== null, y !== null];
  }
}

function parsed(values: string[]): CallPeer[] {
  return values.map((v) => JSON.parse(v) as CallPeer).sort(byJoinOrder);
}
