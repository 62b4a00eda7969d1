/**
 * Assertions shared by the e2e specs.
 */
import { expect } from '@jest/globals';
import type { ErrorCode, User } from '../../src/common/events.js';

/** The protocol's error codes (INTERNAL is a server fault, never an expected reply). */
export type ErrorCodeName = Exclude<ErrorCode, 'INTERNAL'>;

/**
 * The ack is exactly `{ error: string, code }`; when `mentions` is given, the human sentence
 * must name it (the protocol: "`error` is a human sentence that names the offending field
 * or state").
 */
export function expectError(reply: unknown, code: ErrorCodeName, mentions?: RegExp): void {
  expect(reply).toEqual({ error: expect.any(String), code });
  const { error } = reply as { error: string };
  expect(error.trim().length).toBeGreaterThan(0);
  if (mentions) expect(error).toMatch(mentions);
}

/** A success ack: an object without an `error` key. */
export function expectOk(reply: unknown): void {
  expect(typeof reply).toBe('object');
  expect(reply).not.toBeNull();
  expect(reply).not.toHaveProperty('error');
}

const USER_KEYS = new Set(['id', 'name', 'room', 'publicKey', 'joinedAt', 'status']);

/** A User object: exactly the protocol's keys, no extras, no nulls. */
export function expectUserShape(user: unknown): void {
  expect(typeof user).toBe('object');
  expect(user).not.toBeNull();
  const u = user as Record<string, unknown>;
  for (const key of Object.keys(u)) expect(USER_KEYS.has(key) ? key : `unexpected key ${key}`).toBe(key);
  expect(typeof u.id).toBe('string');
  expect(typeof u.name).toBe('string');
  expect(typeof u.room).toBe('string');
  expect(typeof u.joinedAt).toBe('number');
  if ('publicKey' in u) expect(typeof u.publicKey).toBe('string');
}

export function ids(users: User[]): string[] {
  return users.map((u) => u.id);
}
