import { describe, expect, it } from '@jest/globals';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { InMemoryRoomCallStateService } from './in-memory-room-call-state.service.js';

function setup() {
  const bus = new DomainEventBus();
  const events: string[] = [];
  bus.on('room.call.started', ({ room }) => void events.push(`started ${room}`));
  bus.on('room.call.ended', ({ room }) => void events.push(`ended ${room}`));
  return { state: new InMemoryRoomCallStateService(bus), events };
}

const peer = (id: string, joinedAt: number) => ({ id, name: id.toUpperCase(), joinedAt });

describe('InMemoryRoomCallStateService', () => {
  it('lists participants oldest first, ties by id, and announces the first join and the last leave once', async () => {
    const { state, events } = setup();
    await state.join('r', peer('b', 5), 6);
    await state.join('r', peer('a', 5), 6);
    expect((await state.join('r', peer('c', 1), 6)).map((p) => p.id)).toEqual(['c', 'a', 'b']);
    expect(events).toEqual(['started r']);
    expect((await state.leave('r', 'a'))?.map((p) => p.id)).toEqual(['c', 'b']);
    await state.leave('r', 'b');
    expect(await state.leave('r', 'c')).toEqual([]);
    expect(events).toEqual(['started r', 'ended r']);
    expect(await state.peers('r')).toEqual([]);
  });

  it('refuses a second join and one past the limit, changing nothing', async () => {
    const { state } = setup();
    await state.join('r', peer('a', 1), 2);
    await expect(state.join('r', peer('a', 2), 2)).rejects.toMatchObject({ code: 'ALREADY_IN_CALL' });
    await state.join('r', peer('b', 2), 2);
    await expect(state.join('r', peer('c', 3), 2)).rejects.toMatchObject({ code: 'CALL_FULL' });
    expect((await state.peers('r')).map((p) => p.id)).toEqual(['a', 'b']);
    expect(state.inCall('r', 'a', 'c')).toEqual([true, false]);
    expect(await state.leave('r', 'c')).toBeUndefined();
    expect(await state.leave('other', 'a')).toBeUndefined();
  });

  it('hands out copies: a caller cannot change the stored participants', async () => {
    const { state } = setup();
    const [p] = await state.join('r', peer('a', 1), 2);
    p.name = 'changed';
    expect((await state.peers('r'))[0].name).toBe('A');
  });
});
