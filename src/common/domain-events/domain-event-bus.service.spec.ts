import { describe, expect, it } from '@jest/globals';
import { DomainEventBus } from './domain-event-bus.service.js';

describe('DomainEventBus', () => {
  it('awaits handlers one after another, by order, then by subscription', async () => {
    const bus = new DomainEventBus();
    const seen: string[] = [];
    const slow = (label: string, ms: number) => async () => {
      seen.push(`${label} start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      seen.push(`${label} end`);
    };
    bus.on('socket.departed', slow('late', 1), { order: 30 });
    bus.on('socket.departed', slow('first', 20), { order: 10 });
    bus.on('socket.departed', slow('second', 1), { order: 10 });
    await bus.emit('socket.departed', { id: 'a', reason: 'test' });
    expect(seen).toEqual(['first start', 'first end', 'second start', 'second end', 'late start', 'late end']);
  });

  it('runs the other handlers when one throws, and never rejects', async () => {
    const bus = new DomainEventBus();
    const seen: string[] = [];
    bus.on('user.left', () => {
      throw new Error('boom');
    });
    bus.on('user.left', ({ reason }) => void seen.push(reason));
    const user = { id: 'a', name: 'A', room: 'r', joinedAt: 1 };
    await expect(bus.emit('user.left', { user, reason: 'kicked' })).resolves.toBeUndefined();
    expect(seen).toEqual(['kicked']);
  });

  it('stops calling a handler once unsubscribed', async () => {
    const bus = new DomainEventBus();
    let calls = 0;
    const off = bus.on('node.gone', () => void (calls += 1));
    await bus.emit('node.gone', { node: 'n1' });
    off();
    await bus.emit('node.gone', { node: 'n1' });
    expect(calls).toBe(1);
    expect(bus.listeners('node.gone')).toBe(0);
  });

  it('hands out every answerer of a query', async () => {
    const bus = new DomainEventBus();
    bus.answer('health', async () => ({ a: { status: 'up' } }));
    bus.answer('health', async () => ({ b: { status: 'down' } }));
    const results = await Promise.all(bus.answerersOf('health').map((fn) => fn()));
    expect(results).toEqual([{ a: { status: 'up' } }, { b: { status: 'down' } }]);
    expect(bus.answerersOf('roomCount')).toEqual([]);
  });
});
