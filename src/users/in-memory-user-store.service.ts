import { Injectable } from '@nestjs/common';
import type { User, UserStatus } from '../common/events.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { AlreadyLoggedInError, NameTakenError, RoomFullError } from '../common/errors/parley.error.js';
import { nameKey, UserStoreService, restoreWith, type RestoreOutcome, type RoomSummary } from './user-store.service.js';

interface Room {
  // Insertion order is join order, so listing needs no sort.
  members: Map<string, User>;
  names: Set<string>;
}

/** The single-node user store: plain maps, no I/O. */
@Injectable()
export class InMemoryUserStoreService extends UserStoreService {
  private readonly users = new Map<string, User>();
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly bus: DomainEventBus) {
    super();
  }

  async add(user: User, maxRoomUsers: number): Promise<void> {
    const existing = this.users.get(user.id);
    if (existing) throw new AlreadyLoggedInError(existing.room);
    let room = this.rooms.get(user.room);
    const key = nameKey(user.name);
    if (room?.names.has(key)) throw new NameTakenError(user.name, user.room);
    if (room && room.members.size >= maxRoomUsers) throw new RoomFullError(user.room, maxRoomUsers);
    const occupied = !room;
    if (!room) {
      room = { members: new Map(), names: new Set() };
      this.rooms.set(user.room, room);
    }
    room.members.set(user.id, user);
    room.names.add(key);
    this.users.set(user.id, user);
    if (occupied) this.bus.publish('room.occupied', { room: user.room });
  }

  async restore(user: User): Promise<RestoreOutcome> {
    return restoreWith(() => this.add(user, Number.MAX_SAFE_INTEGER));
  }

  /** One node owns everything here, so `owner` needs no check. */
  async remove(id: string, _owner?: string): Promise<User | undefined> {
    const user = this.users.get(id);
    if (!user) return undefined;
    this.users.delete(id);
    const room = this.rooms.get(user.room);
    if (room) {
      room.members.delete(id);
      room.names.delete(nameKey(user.name));
      if (room.members.size === 0) {
        this.rooms.delete(user.room);
        this.bus.publish('room.vacated', { room: user.room });
      }
    }
    return user;
  }

  async get(id: string): Promise<User | undefined> {
    return this.users.get(id);
  }

  async listRoom(room: string): Promise<User[]> {
    return [...(this.rooms.get(room)?.members.values() ?? [])];
  }

  async listRooms(): Promise<RoomSummary[]> {
    return [...this.rooms].map(([room, r]) => ({ room, users: r.members.size }));
  }

  async setStatus(id: string, status: UserStatus): Promise<{ user: User; changed: boolean } | undefined> {
    const user = this.users.get(id);
    if (!user) return undefined;
    const next = status === 'online' ? undefined : status;
    if (user.status === next) return { user, changed: false };
    // The stored object is the one listed in the room, so one change shows everywhere.
    if (next) user.status = next;
    else delete user.status;
    return { user, changed: true };
  }
}
