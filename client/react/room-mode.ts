/**
 * The two ways a Parley room can be encrypted, and which one a message was sealed in. Pages
 * in different modes share a room but cannot read each other: knowing the mode of what
 * arrives lets the page say so instead of showing a row of unreadable messages.
 */
import { CHAIN_MESSAGE_VERSION, ENVELOPE_VERSION, MESSAGE_VERSION } from '../index.js';

/** "keys": per-member sender keys (the default); "passphrase": one key from a shared passphrase. */
export type RoomMode = 'keys' | 'passphrase';

/** The mode an envelope belongs to, judged by its version prefix; undefined for anything else. */
export function envelopeMode(envelope: unknown): RoomMode | undefined {
  if (typeof envelope !== 'string') return undefined;
  const version = envelope.slice(0, envelope.indexOf('.'));
  // s2: the sender chains' messages; s1: the earlier sender keys'.
  if (version === CHAIN_MESSAGE_VERSION || version === MESSAGE_VERSION) return 'keys';
  if (version === ENVELOPE_VERSION) return 'passphrase';
  return undefined;
}
