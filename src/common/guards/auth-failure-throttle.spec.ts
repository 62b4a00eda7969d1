import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AuthFailureThrottle } from './auth-failure-throttle.js';

function throttle(options = {}) {
  let now = 1_000_000;
  const t = new AuthFailureThrottle({ free: 3, baseMs: 1000, maxMs: 8000, forgetMs: 60_000, ...options }, () => now);
  return { t, advance: (ms: number) => (now += ms) };
}

describe('AuthFailureThrottle', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('lets the free failures through, then makes the address wait, doubling up to the cap', () => {
    const { t, advance } = throttle();
    expect([t.failed('a', 'x'), t.failed('a', 'x'), t.failed('a', 'x')]).toEqual([0, 0, 0]);
    expect(t.waitMs('a')).toBe(0);
    expect(t.failed('a', 'x')).toBe(1000);
    expect(t.waitMs('a')).toBe(1000);
    advance(1000);
    expect(t.waitMs('a')).toBe(0);
    expect(t.failed('a', 'x')).toBe(2000);
    expect(t.failed('a', 'x')).toBe(4000);
    expect(t.failed('a', 'x')).toBe(8000);
    expect(t.failed('a', 'x')).toBe(8000);
    // Another address is not affected.
    expect(t.waitMs('b')).toBe(0);
  });

  it('clears an address on success, and forgets it after a quiet period', () => {
    const { t, advance } = throttle();
    for (let i = 0; i < 4; i += 1) t.failed('a', 'x');
    expect(t.waitMs('a')).toBeGreaterThan(0);
    t.succeeded('a');
    expect(t.waitMs('a')).toBe(0);
    for (let i = 0; i < 4; i += 1) t.failed('b', 'x');
    advance(61_000);
    expect(t.waitMs('b')).toBe(0);
    expect(t.failed('b', 'x')).toBe(0);
  });

  it('remembers a bounded number of addresses, forgetting the stalest first', () => {
    const { t } = throttle({ free: 0, maxEntries: 2 });
    t.failed('a', 'x');
    t.failed('b', 'x');
    t.failed('c', 'x');
    expect(t.waitMs('a')).toBe(0);
    expect(t.waitMs('b')).toBeGreaterThan(0);
    expect(t.waitMs('c')).toBeGreaterThan(0);
  });
});
