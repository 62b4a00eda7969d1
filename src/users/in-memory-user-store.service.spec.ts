import { describe, expect, it } from '@jest/globals';
import type { User } from '../common/events.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { InMemoryUserStoreService } from './in-memory-user-store.service.js';

const user = (id: string, name: string, room = 'r', joinedAt = Date.now()): User => ({ id, name, room, joinedAt });

describe('InMemoryUserStoreService', () => {
  it('refuses a name taken in the same room, case-insensitively', async () => {
    const store = new InMemoryUserStoreService(new DomainEventBus());
    await store.add(user('a', 'Alice'), 10);
    await expect(store.add(user('b', 'ALICE'), 10)).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    await expect(store.add(user('c', 'alice', 'other'), 10)).resolves.toBeUndefined();
  });

  it('frees the name when its user leaves', async () => {
    const store = new InMemoryUserStoreService(new DomainEventBus());
    await store.add(user('a', 'alice'), 10);
    await store.remove('a');
    await expect(store.add(user('b', 'Alice'), 10)).resolves.toBeUndefined();
  });

  it('refuses a socket that is already logged in', async () => {
    const store = new InMemoryUserStoreService(new DomainEventBus());
    await store.add(user('a', 'alice'), 10);
    await expect(store.add(user('a', 'bob', 'elsewhere'), 10)).rejects.toMatchObject({ code: 'ALREADY_LOGGED_IN' });
  });

  it('refuses a user when the room is full', async () => {
    const store = new InMemoryUserStoreService(new DomainEventBus());
    await store.add(user('a', 'a'), 2);
    await store.add(user('b', 'b'), 2);
    await expect(store.add(user('c', 'c'), 2)).rejects.toMatchObject({ code: 'ROOM_FULL' });
    expect(await store.listRoom('r')).toHaveLength(2);
  });

  it('lists a room oldest first and rooms with their member counts', async () => {
    const store = new InMemoryUserStoreService(new DomainEventBus());
    await store.add(user('a', 'a', 'r', 1), 10);
    await store.add(user('b', 'b', 'r', 2), 10);
    await store.add(user('c', 'c', 'q', 3), 10);
    expect((await store.listRoom('r')).map((u) => u.id)).toEqual(['a', 'b']);
    expect(await store.listRooms()).toEqual([
      { room: 'r', users: 2 },
      { room: 'q', users: 1 },
    ]);
    await store.remove('c');
    expect(await store.listRooms()).toEqual([{ room: 'r', users: 2 }]);
  });

  it('resolves undefined when removing an unknown id', async () => {
    const store = new InMemoryUserStoreService(new DomainEventBus());
    expect(await store.remove('nobody')).toBeUndefined();
    expect(await store.get('nobody')).toBeUndefined();
  });

  it('publishes room.occupied on its first member and room.vacated on its last, once each', async () => {
    const bus = new DomainEventBus();
    const store = new InMemoryUserStoreService(bus);
    const seen: string[] = [];
    bus.on('room.occupied', ({ room }) => void seen.push(`${room}:occupied`));
    bus.on('room.vacated', ({ room }) => void seen.push(`${room}:vacated`));
    await store.add(user('a', 'a'), 10);
    await store.add(user('b', 'b'), 10);
    await expect(store.add(user('c', 'a'), 10)).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    await store.remove('a');
    await store.remove('b');
    await store.remove('b');
    await store.add(user('c', 'c'), 10);
    expect(seen).toEqual(['r:occupied', 'r:vacated', 'r:occupied']);
  });
});
