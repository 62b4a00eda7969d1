import { Injectable } from '@nestjs/common';
import type { CallPeer } from '../common/events.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { AlreadyInRoomCallError, CallFullError } from '../common/errors/parley.error.js';
import { byJoinOrder, RoomCallStateService } from './room-call-state.service.js';

/** Room calls on one node: a map of rooms to their participants. */
@Injectable()
export class InMemoryRoomCallStateService extends RoomCallStateService {
  private readonly calls = new Map<string, Map<string, CallPeer>>();

  constructor(private readonly bus: DomainEventBus) {
    super();
  }

  async join(room: string, peer: CallPeer, max: number): Promise<CallPeer[]> {
    let call = this.calls.get(room);
    if (call?.has(peer.id)) throw new AlreadyInRoomCallError();
    if (call && call.size >= max) throw new CallFullError(max);
    if (!call) this.calls.set(room, (call = new Map()));
    call.set(peer.id, { ...peer });
    if (call.size === 1) await this.bus.emit('room.call.started', { room });
    return listed(call);
  }

  async leave(room: string, id: string): Promise<CallPeer[] | undefined> {
    const call = this.calls.get(room);
    if (!call?.delete(id)) return undefined;
    if (call.size === 0) {
      this.calls.delete(room);
      await this.bus.emit('room.call.ended', { room });
    }
    return listed(call);
  }

  peers(room: string): Promise<CallPeer[]> {
    const call = this.calls.get(room);
    return Promise.resolve(call ? listed(call) : []);
  }

  inCall(room: string, a: string, b: string): [boolean, boolean] {
    const call = this.calls.get(room);
    return [call?.has(a) ?? false, call?.has(b) ?? false];
  }
}

function listed(call: Map<string, CallPeer>): CallPeer[] {
  return [...call.values()].map((p) => ({ ...p })).sort(byJoinOrder);
}
