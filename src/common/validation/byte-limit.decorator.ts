import 'reflect-metadata';

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
 *  - 'signal': any JSON value, counted as the UTF-8 bytes of its compact JSON.stringify.
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

export function measureBytes(value: unknown, kind: ByteLimitKind): number {
  if (kind === 'message') return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0;
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
}
