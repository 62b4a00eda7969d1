import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { InMemoryCallStateService } from './in-memory-call-state.service.js';

describe('InMemoryCallStateService', () => {
  let calls: InMemoryCallStateService;
  beforeEach(() => {
    jest.useFakeTimers();
    calls = new InMemoryCallStateService();
  });
  afterEach(() => {
    calls.onModuleDestroy();
    jest.useRealTimers();
  });

  it('moves a pair from pending to active to gone', async () => {
    await calls.start('a', 'b', 1000);
    expect(await calls.status('b', 'a')).toBe('pending');
    expect(await calls.accept('b', 'a')).toBe(true);
    expect(await calls.status('a', 'b')).toBe('active');
    expect(await calls.end('a', 'b')).toBe(true);
    expect(await calls.status('a', 'b')).toBeUndefined();
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
    calls.onRingTimeout((caller, callee) => rung.push([caller, callee]));
    await calls.start('a', 'b', 1000);
    jest.advanceTimersByTime(999);
    expect(rung).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(rung).toEqual([['a', 'b']]);
    expect(await calls.status('a', 'b')).toBeUndefined();
    jest.advanceTimersByTime(5000);
    expect(rung).toHaveLength(1);
  });

  it('does not ring out an answered or ended call', async () => {
    const rung: string[] = [];
    calls.onRingTimeout((caller) => rung.push(caller));
    await calls.start('a', 'b', 1000);
    await calls.start('c', 'd', 1000);
    await calls.accept('a', 'b');
    await calls.end('c', 'd');
    jest.advanceTimersByTime(2000);
    expect(rung).toEqual([]);
    expect(await calls.status('a', 'b')).toBe('active');
  });

  it('endAll ends every call of a socket and names its peers', async () => {
    await calls.start('a', 'b', 1000);
    await calls.start('c', 'a', 1000);
    await calls.start('c', 'd', 1000);
    expect((await calls.endAll('a')).sort()).toEqual(['b', 'c']);
    expect(await calls.status('a', 'b')).toBeUndefined();
    expect(await calls.status('c', 'd')).toBe('pending');
    expect(await calls.endAll('a')).toEqual([]);
  });

  it('reports a call started once when answered, and ended once with its reason', async () => {
    const seen: string[] = [];
    calls.onLifecycle({
      started: (caller, callee) => seen.push(`started ${caller}->${callee}`),
      ended: (caller, callee, reason) => seen.push(`ended ${caller}->${callee} ${reason}`),
    });
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
      'started a->b', 'ended a->b hangup', 'ended c->d timeout', 'ended e->f disconnected', 'ended g->e disconnected',
    ]);
  });
});

