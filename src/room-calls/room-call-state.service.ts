import type { CallPeer } from '../common/events.js';

/**
 * Who is in each room's call (v1.2 room calls): at most one call per room, participants
 * oldest first. Asynchronous and transport-free so a Redis backend can replace it. A
 * backend decides "first participant" and "last one left" in the same atomic step as the
 * change and publishes `room.call.started` / `room.call.ended` on the bus, so across every
 * node the two alternate for a room, once per change.
 */
export abstract class RoomCallStateService {
  /**
   * Adds `peer` to `room`'s call; resolves to every participant after the change, oldest
   * first. Throws ALREADY_IN_CALL when it is one already, CALL_FULL when the call holds
   * `max`; nothing changes then.
   */
  abstract join(room: string, peer: CallPeer, max: number): Promise<CallPeer[]>;
  /** Removes `id` from `room`'s call; the participants that remain, or undefined when it was not one. */
  abstract leave(room: string, id: string): Promise<CallPeer[] | undefined>;
  /** The participants of `room`'s call, oldest first (empty when there is none). */
  abstract peers(room: string): Promise<CallPeer[]>;
  /**
   * Whether `a` and `b` are participants of `room`'s call, in one look. A backend that knows
   * without I/O answers synchronously (the in-memory one does), so a signal is relayed in the
   * tick it arrived, as a 1:1 call's is.
   */
  abstract inCall(room: string, a: string, b: string): [boolean, boolean] | Promise<[boolean, boolean]>;
}

/** Oldest first; ties (the same millisecond) by id, so every node lists them alike. */
export function byJoinOrder(x: CallPeer, y: CallPeer): number {
  return x.joinedAt - y.joinedAt || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}
