import type { EndReason, User } from '../events.js';

/** Why a user left its room, as features and webhooks report it. */
export type LeaveReason = 'logout' | 'disconnect' | 'kicked';

/**
 * What happened, as the domain event bus carries it. Infrastructure (the Redis backends,
 * node liveness, the Socket.IO adapters, sessions) emits; features subscribe and do their
 * own work. Adding an event: add it here, emit it where it happens, subscribe where it is
 * handled; nothing in between needs to change.
 */
export interface DomainEvents {
  /**
   * A socket is gone for good: disconnected without a recovery window, its window ended,
   * or its node died or shut down. Every feature forgets it. With `node`, another node
   * (or this one, at shutdown) is cleaning up after `node`: a handler must only remove an
   * entry that `node` still owns, since a recovered session may have moved it elsewhere.
   * Handlers run one after another in `DEPARTURE_ORDER`.
   */
  'socket.departed': { id: string; reason: string; node?: string };
  /** A user entered a room (after `users` went out). */
  'user.joined': { user: User };
  /**
   * A user is out of its room in the store, and the room has not been told yet: what must
   * reach the others before `leave` (the room call's `roomCall`) is sent here. Awaited.
   */
  'user.leaving': { user: User; reason: LeaveReason };
  /** A user left its room (after `leave` and `users` went out). */
  'user.left': { user: User; reason: LeaveReason };
  /**
   * A room got its first member / lost its last one. The user store decides it in the same
   * atomic step as the change and publishes it on that node, so across every node the two
   * alternate for a room, once per change.
   */
  'room.occupied': { room: string };
  'room.vacated': { room: string };
  /** A pending call was answered (once per call, on the node that saw it pending). */
  'call.started': { callerId: string; calleeId: string };
  /** A room's call got its first participant / lost its last one; decided atomically, once per change. */
  'room.call.started': { room: string };
  'room.call.ended': { room: string };
  /** A call ended, answered or not: a hangup, a peer's departure, or a ring-out. Once per call. */
  'call.ended': { callerId: string; calleeId: string; reason: EndReason };
  /** A pending call rang out; its state is already gone. Fired once per call, cluster-wide. */
  'call.ringTimeout': { callerId: string; calleeId: string };
  /**
   * The shared store answers again after an outage (it may have lost data). Each feature
   * puts back what it knows of this node's live sockets, idempotently.
   */
  'store.reconnected': Record<string, never>;
  /** A dead node's sockets have departed (on the one node that cleaned it up). */
  'node.gone': { node: string };
}

export type DomainEventName = keyof DomainEvents;

/** The order in which features handle a departure: the room first, then calls, then the rest. */
export const DEPARTURE_ORDER = { chat: 10, signaling: 20, compat: 30, security: 40 } as const;
