import { Injectable } from '@nestjs/common';
import type { User, UserStatus } from '../common/events.js';
import { AlreadyLoggedInError, NameTakenError, RoomFullError } from '../common/errors/parley.error.js';
import { nameKey, UserStoreService, restoreWith, type RestoreOutcome, type RoomSummary } from './user-store.service.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { RedisService } from '../redis/redis.service.js';

/**
 * The user store in Redis. `add` checks already-logged-in, the name (case-insensitive,
 * per room) and the room's capacity and writes in one Lua script, so of two concurrent
 * logins with one name on two nodes exactly one wins. Rooms list their users from a
 * sorted set scored by joinedAt (ties in join order).
 */
@Injectable()
export class RedisUserStoreService extends UserStoreService {
  constructor(
    private readonly redis: RedisService,
    private readonly bus: DomainEventBus,
  ) {
    super();
  }

  async add(user: User, maxRoomUsers: number): Promise<void> {
    await this.insert(user, maxRoomUsers, true);
  }

  private async insert(user: User, maxRoomUsers: number, announce: boolean): Promise<void> {
    const k = this.redis.keys;
    const [outcome, detail] = await this.redis.script<[string, string?]>(
      'parleyUserAdd',
      [k.user(user.id), k.roomUsers(user.room), k.roomNames(user.room), k.rooms, k.owners, k.seq],
      [user.id, user.room, nameKey(user.name), JSON.stringify(user), user.joinedAt, maxRoomUsers, this.redis.nodeId],
    );
    if (outcome === 'ALREADY') throw new AlreadyLoggedInError(detail ?? user.room);
    if (outcome === 'TAKEN') throw new NameTakenError(user.name, user.room);
    if (outcome === 'FULL') throw new RoomFullError(user.room, maxRoomUsers);
    if (announce && detail === '1') this.bus.publish('room.occupied', { room: user.room });
  }

  /**
   * Puts a user back after Redis lost it (a restart without persistence), ignoring the
   * room's capacity. Resolves to what happened.
   */
  async restore(user: User): Promise<RestoreOutcome> {
    // Not a new arrival: the room was occupied before Redis lost it.
    return restoreWith(() => this.insert(user, Number.MAX_SAFE_INTEGER, false));
  }

  async remove(id: string, owner?: string): Promise<User | undefined> {
    return this.removeOwned(id, owner ?? '');
  }

  /** Removes the user only when `node` owns it ('' for any owner). */
  async removeOwned(id: string, node: string): Promise<User | undefined> {
    const removed = await this.redis.script<[string, string] | null>(
      'parleyUserRemove',
      [this.redis.keys.user(id)],
      [id, node],
    );
    if (!removed) return undefined;
    const user = parseUser(removed[0]);
    if (removed[1] === '1') this.bus.publish('room.vacated', { room: user.room });
    return user;
  }

  async get(id: string): Promise<User | undefined> {
    const json = await this.redis.run((c) => c.hget(this.redis.keys.user(id), 'json'));
    return json ? parseUser(json) : undefined;
  }

  async listRoom(room: string): Promise<User[]> {
    const flat = await this.redis.script<string[]>('parleyRoomList', [this.redis.keys.roomUsers(room)], []);
    const rows: Array<{ user: User; seq: number }> = [];
    for (let i = 0; i < flat.length; i += 2) rows.push({ user: parseUser(flat[i]), seq: Number(flat[i + 1]) });
    rows.sort((a, b) => a.user.joinedAt - b.user.joinedAt || a.seq - b.seq);
    return rows.map((r) => r.user);
  }

  async setStatus(id: string, status: UserStatus): Promise<{ user: User; changed: boolean } | undefined> {
    const out = await this.redis.script<[string, string] | null>(
      'parleyUserSetStatus',
      [this.redis.keys.user(id)],
      [status],
    );
    if (!out) return undefined;
    return { user: parseUser(out[0]), changed: out[1] === '1' };
  }

  async listRooms(): Promise<RoomSummary[]> {
    const flat = await this.redis.script<Array<string | number>>('parleyRoomsList', [this.redis.keys.rooms], []);
    const out: RoomSummary[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ room: String(flat[i]), users: Number(flat[i + 1]) });
    return out;
  }
}

/** A stored User: exactly the protocol's keys (publicKey only when present). */
function parseUser(json: string): User {
  const u = JSON.parse(json) as User;
  const user: User = { id: u.id, name: u.name, room: u.room, joinedAt: u.joinedAt };
  if (typeof u.publicKey === 'string') user.publicKey = u.publicKey;
  if (u.status === 'away' || u.status === 'busy') user.status = u.status;
  return user;
}
