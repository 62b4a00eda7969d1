/**
 * What the page says instead of a message it cannot show as text, by the library's reason,
 * in one wording whichever mode the room is in.
 */
import type { RoomMode } from '../../../client/react/index.js';

export function failureText(reason: string | undefined, mode: RoomMode): string {
  switch (reason) {
    case 'undecryptable':
      return mode === 'passphrase'
        ? 'Could not decrypt this message (different passphrase?)'
        : 'Could not decrypt this message';
    case 'unsupported-version':
      return 'Encrypted for another room mode or a newer client';
    case 'malformed':
      return 'Not an encrypted Parley message (hidden)';
    case 'before-join':
      return 'Sent before you joined — cannot decrypt (new members get only the keys in use from their arrival on)';
    case 'no-key':
      return "Cannot decrypt: the sender's key never reached this device";
    case 'unverified':
      return "Unverified: the signature does not match the sender's published key (not shown)";
    case 'replay':
      return 'Refused: a copy of a message already received (a replay), not shown again';
    case 'unknown-sender':
      return 'Cannot verify: the sender published no key for this mode';
    default:
      return 'Could not decrypt this message';
  }
}

/** A warning sign for what may be forged or not Parley's; a lock for what is merely locked. */
export function failureIcon(reason: string | undefined): 'warning' | 'lock' {
  return reason === 'unverified' || reason === 'malformed' || reason === 'replay' ? 'warning' : 'lock';
}
