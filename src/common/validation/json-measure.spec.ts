import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { measureJson } from './json-measure.js';

/** The reference: what the protocol defines, computed the obvious (recursive) way. */
function stringifiedBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
}

function referenceDepth(value: unknown): number {
  // The parsed form of the JSON, so toJSON, omitted members and boxed values count as JSON sees them.
  const json = JSON.stringify(value);
  if (json === undefined) return 0;
  const walk = (v: unknown): number => {
    if (v === null || typeof v !== 'object') return 0;
    const children = Array.isArray(v) ? v : Object.values(v as object);
    return 1 + children.reduce<number>((m, c) => Math.max(m, walk(c)), 0);
  };
  return walk(JSON.parse(json));
}

/** Strings with every kind of code unit: escapes, control characters, lone surrogates. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\u2028', '\ud800', '\udc00x', '😀'),
);

const values = fc.oneof(
  fc.jsonValue(),
  fc.anything({
    key: anyString,
    values: [anyString, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined)],
    withBoxedValues: true,
    withDate: false,
    withMap: true,
    withSet: true,
    withSparseArray: true,
    withTypedArray: true,
    withNullPrototype: true,
    maxDepth: 6,
  }),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.array(fc.oneof(fc.constant(undefined), fc.func(fc.integer()), fc.constant(Symbol('s')), fc.integer()), {
    maxLength: 6,
  }),
  fc.dictionary(anyString, fc.oneof(fc.constant(undefined), fc.func(fc.integer()), anyString, fc.double())),
);

describe('measureJson', () => {
  it('counts exactly the UTF-8 bytes of JSON.stringify, and the depth, of random values', () => {
    fc.assert(
      fc.property(values, (v) => {
        const m = measureJson(v);
        expect(m.over).toBeUndefined();
        expect(m.bytes).toBe(stringifiedBytes(v));
        expect(m.depth).toBe(referenceDepth(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('says over a byte limit exactly when the JSON is longer than it', () => {
    fc.assert(
      fc.property(values, fc.nat({ max: 400 }), (v, limit) => {
        const m = measureJson(v, { maxBytes: limit });
        const bytes = stringifiedBytes(v);
        expect(m.over === 'bytes').toBe(bytes > limit);
        if (!m.over) expect(m.bytes).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('says over a depth limit exactly when the value is nested deeper than it', () => {
    fc.assert(
      fc.property(values, fc.nat({ max: 6 }), (v, limit) => {
        const m = measureJson(v, { maxDepth: limit });
        expect(m.over === 'depth').toBe(referenceDepth(v) > limit);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts scalars and a few known shapes as JSON does', () => {
    expect(measureJson(undefined)).toEqual({ bytes: 0, depth: 0 });
    expect(measureJson(() => 1)).toEqual({ bytes: 0, depth: 0 });
    expect(measureJson(-0).bytes).toBe(1);
    expect(measureJson(Number.NaN).bytes).toBe(4);
    expect(measureJson(1e21).bytes).toBe('1e+21'.length);
    expect(measureJson('é😀\ud800').bytes).toBe(Buffer.byteLength(JSON.stringify('é😀\ud800')));
    expect(measureJson([[], {}])).toEqual({ bytes: 7, depth: 2 });
    expect(measureJson({ a: undefined, b: [undefined] })).toEqual({
      bytes: Buffer.byteLength('{"b":[null]}'),
      depth: 2,
    });
    expect(() => measureJson({ n: BigInt(1) })).toThrow(TypeError);
  });

  it('walks 150,000 levels without recursion, and stops at the depth limit at once', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 150_000; i++) deep = i % 2 ? [deep] : { k: deep };
    const full = measureJson(deep);
    expect(full.depth).toBe(150_000);
    expect(full.bytes).toBe(75_000 * ('{"k":'.length + 1) + 75_000 * 2 + 3);
    expect(measureJson(deep, { maxDepth: 32 })).toEqual({ bytes: expect.any(Number), depth: 33, over: 'depth' });
  });

  it('stops early on a huge array once the byte limit is passed', () => {
    const huge = new Array(1_000_000).fill(12345);
    const m = measureJson(huge, { maxBytes: 1000 });
    expect(m.over).toBe('bytes');
    expect(m.bytes).toBeLessThan(1010);
  });
});
