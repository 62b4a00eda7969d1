import 'reflect-metadata';
import { PayloadTooLargeError, ValidationError } from '../errors/parley.error.js';
import { measureJson } from './json-measure.js';

/** Which configured limit a field is held to, and how its size is measured. */
export type ByteLimitKind = 'message' | 'signal';

export interface ByteLimitRule {
  property: string;
  kind: ByteLimitKind;
}

const BYTE_LIMITS = Symbol('parley:byteLimits');

/**
 * Declares that a field is size-limited by configuration (MAX_MESSAGE_BYTES or
 * MAX_SIGNAL_BYTES). The limit is a runtime setting, so the validation pipe enforces it
 * after the static class-validator rules pass.
 *  - 'message': a string, counted as UTF-8 bytes.
 *  - 'signal': any JSON value, counted as the UTF-8 bytes of its compact JSON.stringify,
 *    and nested at most MAX_OPAQUE_DEPTH levels deep.
 */
export function ByteLimit(kind: ByteLimitKind): PropertyDecorator {
  return (target, property) => {
    const ctor = target.constructor;
    const rules: ByteLimitRule[] = [...(Reflect.getOwnMetadata(BYTE_LIMITS, ctor) ?? [])];
    rules.push({ property: String(property), kind });
    Reflect.defineMetadata(BYTE_LIMITS, rules, ctor);
  };
}

export function byteLimitsOf(ctor: object): ByteLimitRule[] {
  return Reflect.getMetadata(BYTE_LIMITS, ctor) ?? [];
}

/** Opaque values nested deeper than this (a scalar is 0, each array or object adds one) are refused. */
export const MAX_OPAQUE_DEPTH = 32;

/**
 * Checks one size-limited field: a 'message' string against its byte limit, a 'signal'
 * value against its byte limit and the nesting limit, in one bounded walk (json-measure.ts)
 * that stops at the first limit passed. Throws VALIDATION (too deep) or PAYLOAD_TOO_LARGE
 * naming `field`.
 */
export function checkByteLimit(value: unknown, kind: ByteLimitKind, limit: number, field: string): void {
  if (kind === 'message') {
    const size = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0;
    if (size > limit) throw new PayloadTooLargeError(`${field} is ${size} bytes; the limit is ${limit}`);
    return;
  }
  const m = measureJson(value, { maxBytes: limit, maxDepth: MAX_OPAQUE_DEPTH });
  if (m.over === 'depth') {
    throw new ValidationError(`${field} is nested more than ${MAX_OPAQUE_DEPTH} levels deep`);
  }
  if (m.over === 'bytes') {
    throw new PayloadTooLargeError(`${field} is over ${limit} bytes as JSON; the limit is ${limit}`);
  }
}
