import { AlreadyLoggedInError, NameTakenError } from '../common/errors/parley.error.js';
import type { User, UserStatus } from '../common/events.js';

export interface RoomSummary {
  room: string;
  users: number;
}

/** What `restore` did: put the user back, found it still there, or found its name taken. */
export type RestoreOutcome = 'restored' | 'present' | 'name-taken';

/** Runs a backend's add for a restore and names its outcome: a refusal that is an answer. */
export async function restoreWith(add: () => Promise<void>): Promise<RestoreOutcome> {
  try {
    await add();
    return 'restored';
  } catch (err) {
    if (err instanceof AlreadyLoggedInError) return 'present';
    if (err instanceof NameTakenError) return 'name-taken';
    throw err;
  }
}

/** Names compare case-insensitively within a room. */
export function nameKey(name: string): string {
  return name.toLocaleLowerCase('en-US');
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
   * Atomic: of two concurrent adds with one name, exactly one succeeds. The first member of
   * a room publishes `room.occupied`, and `remove` of the last one `room.vacated`, decided
   * in the same atomic step as the change.
   */
  abstract add(user: User, maxRoomUsers: number): Promise<void>;
  /**
   * Removes the user with this socket id; resolves to it, or undefined when absent. With
   * `owner`, only when that node still owns the entry (cleaning up after a node).
   */
  abstract remove(id: string, owner?: string): Promise<User | undefined>;
  /**
   * Puts back a live socket's user after the store lost it (idempotent, no capacity check):
   * `present` when it is still there, `name-taken` when someone else took the name since.
   */
  abstract restore(user: User): Promise<RestoreOutcome>;
  abstract get(id: string): Promise<User | undefined>;
  /** The room's users, oldest joinedAt first. */
  abstract listRoom(room: string): Promise<User[]>;
  /** Every room with at least one user. */
  abstract listRooms(): Promise<RoomSummary[]>;
  /**
   * Sets a logged-in user's status (`online` removes the field); resolves to the user after
   * the change and whether it changed, or undefined when the user is not logged in.
   */
  abstract setStatus(id: string, status: UserStatus): Promise<{ user: User; changed: boolean } | undefined>;
}
