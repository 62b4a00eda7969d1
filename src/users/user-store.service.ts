import type { User } from '../common/events.js';

export interface RoomSummary {
  room: string;
  users: number;
}

/**
 * Who is logged in where. The DI token and contract for every backend (in-memory, Redis):
 * asynchronous, free of transport types, and the single authority on name uniqueness.
 */
export abstract class UserStoreService {
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
