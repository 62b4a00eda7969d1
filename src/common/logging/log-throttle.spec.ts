import { describe, expect, it } from '@jest/globals';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  it('writes one line per kind per interval and reports what it left out', () => {
    let now = 1_000;
    const throttle = new LogThrottle(10_000, () => now);
    const lines: Array<[string, { suppressedSince?: number }]> = [];
    const log = (kind: string) => throttle.run(kind, (extra) => lines.push([kind, extra]));
    log('a');
    log('a');
    log('b');
    now += 9_999;
    log('a');
    now += 1;
    log('a');
    expect(lines).toEqual([
      ['a', {}],
      ['b', {}],
      ['a', { suppressedSince: 2 }],
    ]);
  });
});
