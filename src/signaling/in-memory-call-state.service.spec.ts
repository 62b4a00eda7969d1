import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { InMemoryCallStateService } from './in-memory-call-state.service.js';

describe('InMemoryCallStateService', () => {
  let calls: InMemoryCallStateService;
  let bus: DomainEventBus;
  beforeEach(() => {
    jest.useFakeTimers();
    bus = new DomainEventBus();
    calls = new InMemoryCallStateService(bus);
  });
  afterEach(() => {
    calls.onModuleDestroy();
    jest.useRealTimers();
  });

  it('moves a pair from pending to active to gone', async () => {
    await calls.start('a', 'b', 1000);
    expect(calls.status('b', 'a')).toBe('pending');
    expect(await calls.accept('b', 'a')).toBe(true);
    expect(calls.status('a', 'b')).toBe('active');
    expect(await calls.end('a', 'b')).toBe(true);
    expect(calls.status('a', 'b')).toBeUndefined();
    expect(await calls.end('a', 'b')).toBe(false);
  });

  it('refuses a second call on the same pair, in either direction', async () => {
    await calls.start('a', 'b', 1000);
    await expect(calls.start('a', 'b', 1000)).rejects.toMatchObject({ code: 'ALREADY_IN_CALL' });
    await expect(calls.start('b', 'a', 1000)).rejects.toMatchObject({ code: 'ALREADY_IN_CALL' });
    await expect(calls.start('a', 'c', 1000)).resolves.toBeUndefined();
  });

  it('accept answers false when there is no call', async () => {
    expect(await calls.accept('a', 'b')).toBe(false);
  });

  it('rings out a pending call once, after the timeout and not before', async () => {
    const rung: Array<[string, string]> = [];
    bus.on('call.ringTimeout', ({ callerId, calleeId }) => void rung.push([callerId, calleeId]));
    await calls.start('a', 'b', 1000);
    jest.advanceTimersByTime(999);
    expect(rung).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(rung).toEqual([['a', 'b']]);
    expect(calls.status('a', 'b')).toBeUndefined();
    jest.advanceTimersByTime(5000);
    expect(rung).toHaveLength(1);
  });

  it('does not ring out an answered or ended call', async () => {
    const rung: string[] = [];
    bus.on('call.ringTimeout', ({ callerId }) => void rung.push(callerId));
    await calls.start('a', 'b', 1000);
    await calls.start('c', 'd', 1000);
    await calls.accept('a', 'b');
    await calls.end('c', 'd');
    jest.advanceTimersByTime(2000);
    expect(rung).toEqual([]);
    expect(calls.status('a', 'b')).toBe('active');
  });

  it('endAll ends every call of a socket and names its peers', async () => {
    await calls.start('a', 'b', 1000);
    await calls.start('c', 'a', 1000);
    await calls.start('c', 'd', 1000);
    expect((await calls.endAll('a')).sort()).toEqual(['b', 'c']);
    expect(calls.status('a', 'b')).toBeUndefined();
    expect(calls.status('c', 'd')).toBe('pending');
    expect(await calls.endAll('a')).toEqual([]);
  });

  it('publishes call.started once when answered, and call.ended once with its reason', async () => {
    const seen: string[] = [];
    bus.on('call.started', ({ callerId, calleeId }) => void seen.push(`started ${callerId}->${calleeId}`));
    bus.on(
      'call.ended',
      ({ callerId, calleeId, reason }) => void seen.push(`ended ${callerId}->${calleeId} ${reason}`),
    );
    await calls.start('a', 'b', 1000);
    await calls.accept('b', 'a');
    await calls.accept('a', 'b'); // already active: no second start
    await calls.end('b', 'a');
    await calls.end('b', 'a');
    await calls.start('c', 'd', 1000);
    jest.advanceTimersByTime(1000);
    await calls.start('e', 'f', 1000);
    await calls.start('g', 'e', 1000);
    await calls.endAll('e');
    expect(seen).toEqual([
      'started a->b',
      'ended a->b hangup',
      'ended c->d timeout',
      'ended e->f disconnected',
      'ended g->e disconnected',
    ]);
  });
});
