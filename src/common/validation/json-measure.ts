/**
 * The size and depth of a value as compact JSON, in one iterative walk that never
 * recurses on client data and stops as soon as a limit is passed (so a value nested
 * 150,000 levels deep, or a huge array, costs only as much as the walk up to the limit).
 *
 * `bytes` is exactly `Buffer.byteLength(JSON.stringify(value))` (0 when JSON.stringify gives
 * undefined), computed without building the string: escapes as JSON.stringify writes them
 * (`\"`, `\\`, `\n`…, `\u00XX` for other control characters, `\uDXXX` for a lone surrogate),
 * numbers as their shortest round-trip text, non-finite numbers as `null`, `undefined`,
 * functions and symbols as JSON.stringify treats them (omitted in objects, `null` in arrays),
 * and `toJSON` honoured (a Buffer, a binary attachment, measures as `{"type":"Buffer",
 * "data":[…]}`). `depth`: a scalar is 0, each enclosing array or object adds one.
 *
 * When a limit is passed, `over` says which, and `bytes`/`depth` are what was counted up to
 * then (lower bounds).
 */
export interface JsonMeasure {
  bytes: number;
  depth: number;
  over?: 'bytes' | 'depth';
}

export interface JsonLimits {
  /** Stop once the size is over this many bytes. */
  maxBytes?: number;
  /** Stop once the nesting is deeper than this. */
  maxDepth?: number;
}

interface Frame {
  /** The array being walked, or the object's own keys (with `object`). */
  items: unknown[];
  object?: Record<string, unknown>;
  next: number;
  /** Members written so far (an object skips members whose value JSON leaves out). */
  written: number;
}

export function measureJson(value: unknown, limits: JsonLimits = {}): JsonMeasure {
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const maxDepth = limits.maxDepth ?? Number.POSITIVE_INFINITY;
  let bytes = 0;
  let depth = 0;
  const stack: Frame[] = [];

  // The top level: JSON.stringify(undefined | function | symbol) is undefined.
  let current = jsonValue(value, '');
  if (isOmitted(current)) return { bytes: 0, depth: 0 };

  for (;;) {
    // Write `current` (a value JSON keeps): a scalar in full, a container's opening.
    if (current !== null && typeof current === 'object') {
      if (stack.length + 1 > depth) depth = stack.length + 1;
      if (depth > maxDepth) return { bytes, depth, over: 'depth' };
      bytes += 1; // '[' or '{'
      if (Array.isArray(current)) stack.push({ items: current, next: 0, written: 0 });
      else {
        const object = current as Record<string, unknown>;
        stack.push({ items: Object.keys(object), object, next: 0, written: 0 });
      }
    } else {
      bytes += scalarBytes(current, maxBytes - bytes);
    }
    if (bytes > maxBytes) return { bytes, depth, over: 'bytes' };

    // Find the next value to write, closing the containers that are done.
    let found = false;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame.object === undefined) {
        if (frame.next < frame.items.length) {
          const i = frame.next++;
          let item = jsonValue(frame.items[i], String(i));
          if (isOmitted(item)) item = null; // an array writes null in its place
          if (frame.written++ > 0) bytes += 1; // ','
          current = item;
          found = true;
          break;
        }
      } else {
        let wrote = false;
        while (frame.next < frame.items.length) {
          const key = frame.items[frame.next++] as string;
          const item = jsonValue(frame.object[key], key);
          if (isOmitted(item)) continue;
          if (frame.written++ > 0) bytes += 1; // ','
          bytes += stringBytes(key, maxBytes - bytes) + 1; // "key":
          current = item;
          wrote = true;
          break;
        }
        if (wrote) {
          found = true;
          break;
        }
      }
      bytes += 1; // ']' or '}'
      stack.pop();
    }
    if (bytes > maxBytes) return { bytes, depth, over: 'bytes' };
    if (!found) return { bytes, depth };
  }
}

/** What JSON.stringify writes for `value` under `key`: toJSON applied, boxed primitives unwrapped. */
function jsonValue(value: unknown, key: string): unknown {
  let v = value;
  if (v !== null && (typeof v === 'object' || typeof v === 'bigint')) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') v = (toJSON as (k: string) => unknown).call(v, key);
  }
  if (v instanceof Number) return Number(v);
  if (v instanceof String) return String(v);
  if (v instanceof Boolean) return v.valueOf();
  return v;
}

function isOmitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function scalarBytes(v: unknown, budget: number): number {
  switch (typeof v) {
    case 'string':
      return stringBytes(v, budget);
    case 'number':
      return Number.isFinite(v) ? String(v).length : 4; // null
    case 'boolean':
      return v ? 4 : 5;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    default:
      return 4; // null
  }
}

/** Printable ASCII but the quote and the backslash (DEL included: JSON does not escape it). */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7f]*$/;

/**
 * The UTF-8 bytes of a string as a JSON string literal, quotes included. Stops counting
 * once past `budget` (the result is then only known to be over it).
 */
function stringBytes(s: string, budget: number): number {
  // Most strings (SDP, candidates, base64 ciphertext) are printable ASCII with nothing to
  // escape: one native regex pass instead of a loop per character.
  if (PLAIN_ASCII.test(s)) return s.length + 2;
  let n = 2;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0x22 || c === 0x5c) n += 2;
      else if (c >= 0x20)
        n += 1; // DEL (0x7f) included: JSON does not escape it
      else if (c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) n += 2;
      else n += 6;
    } else if (c < 0x800) {
      n += 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else {
        n += 6; // a lone high surrogate: \udXXX
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      n += 6; // a lone low surrogate
    } else {
      n += 3;
    }
    if (n > budget) return n;
  }
  return n;
}
