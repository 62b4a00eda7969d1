import { describe, expect, it } from '@jest/globals';
import { randomBase64url, randomHex } from './pooled-random.js';

describe('pooled random ids', () => {
  it('gives hex and base64url strings of the asked number of bytes', () => {
    expect(randomHex(8)).toMatch(/^[0-9a-f]{16}$/);
    expect(randomBase64url(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('never hands out the same bytes twice, across several refills of the pool', () => {
    // 9-byte ids do not divide the 4 KiB pool: takes straddle each refill.
    const ids = Array.from({ length: 3000 }, (_, i) => (i % 2 ? randomHex(9) : randomBase64url(9)));
    const asHex = ids.map((id, i) => (i % 2 ? id : Buffer.from(id, 'base64url').toString('hex')));
    expect(new Set(asHex).size).toBe(ids.length);
  });

  it('refuses more than one pool at a time', () => {
    expect(() => randomHex(5000)).toThrow(RangeError);
  });
});
