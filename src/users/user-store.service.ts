import type { User } from '../common/events.js';

export interface RoomSummary {
  room: string;
  users: number;
}

/** A room got its first member, or lost its last one. */
export type RoomTransition = 'occupied' | 'vacated';
export type RoomTransitionListener = (room: string, transition: RoomTransition) => void;

/**
 * Who is logged in where. The DI token and contract for every backend (in-memory, Redis):
 * asynchronous, free of transport types, and the single authority on name uniqueness.
 */
export abstract class UserStoreService {
  private readonly transitionListeners: RoomTransitionListener[] = [];

  /**
   * Called on the node whose add or remove made a room occupied (0 → 1 member) or vacated
   * (1 → 0). The backend decides it in the same atomic step as the change, so across every
   * node the two alternate for a room, each once per change.
   */
  onRoomTransition(listener: RoomTransitionListener): void {
    this.transitionListeners.push(listener);
  }

  protected roomTransition(room: string, transition: RoomTransition): void {
    for (const listener of this.transitionListeners) listener(room, transition);
  }

  /**
   * Adds a user to its room. Throws NameTakenError when another user of the room has the
   * same name (case-insensitive) and RoomFullError when the room holds maxRoomUsers users.
   * Throws AlreadyLoggedInError when the socket id is already logged in anywhere.
   * Atomic: of two concurrent adds with one name, exactly one succeeds.
   */
  abstract add(user: User, maxRoomUsers: number): Promise<void>;
  /** Removes the user with this socket id; resolves to it, or undefined when absent. */
  abstract remove(id: string): Promise<User | undefined>;
  abstract get(id: string): Promise<User | undefined>;
  /** The room's users, oldest joinedAt first. */
  abstract listRoom(room: string): Promise<User[]>;
  /** Every room with at least one user. */
  abstract listRooms(): Promise<RoomSummary[]>;
}
