import { ParleyError, ValidationError } from '../common/errors/parley.error.js';
import { checkByteLimit } from '../common/validation/byte-limit.decorator.js';
import { codePointLength } from '../common/validation/text.decorators.js';

// Code points below U+0020 and U+007F.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export type PeerMessage = Record<string, unknown>;

/**
 * A peer-channel `message` / `messageOne` payload: a JSON object (not an array, null, a
 * string or binary), at most `limit` bytes as compact JSON. Relayed whole, so it is only
 * measured (size and nesting depth), never stripped or inspected further.
 */
export function checkPeerMessage(data: unknown, limit: number): PeerMessage {
  if (!isPlainObject(data)) throw new ValidationError('The message must be a JSON object');
  checkByteLimit(data, 'signal', limit, 'message');
  return data;
}

/** `messageOne`: the same, plus a `target` peer id (1–128 characters, no control characters). */
export function checkTargetedPeerMessage(data: unknown, limit: number): PeerMessage & { target: string } {
  if (!isPlainObject(data)) throw new ValidationError('The message must be a JSON object');
  const target = data.target;
  if (typeof target !== 'string') throw new ValidationError('target must be a string');
  const len = codePointLength(target);
  if (len < 1 || len > 128) throw new ValidationError('target must be 1 to 128 characters long');
  if (CONTROL_CHARS.test(target)) throw new ValidationError('target must not contain control characters');
  return checkPeerMessage(data, limit) as PeerMessage & { target: string };
}

export class PeerNotFoundError extends ParleyError {
  constructor(peerId: string) {
    super('NOT_FOUND', `No peer is registered under the id "${peerId}"`);
  }
}

function isPlainObject(v: unknown): v is PeerMessage {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
