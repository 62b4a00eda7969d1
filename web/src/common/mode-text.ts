/** How the page names and explains the two room modes, in one place. */
import type { RoomMode } from '../../../client/react/index.js';

export const MODE_LABEL: Record<RoomMode, string> = {
  keys: 'Member keys',
  passphrase: 'Shared passphrase',
};

/** Shown under the mode choice on the login form. */
export const MODE_HINT: Record<RoomMode, string> = {
  keys:
    'Each member has its own key, shared only with the people in the room right now and replaced whenever someone leaves. ' +
    'You cannot read what was sent before you joined.',
  passphrase:
    'One key derived from a passphrase everyone shares. Anyone who knows it, now or later, can read every message; ' +
    'for rooms with older clients.',
};

/** Shown under the people in the room: what to check, in this room's mode. */
export const TRUST_HINT: Record<RoomMode, string> = {
  keys:
    "Each message is signed with its sender's device key. This page remembers the key it first saw for each name " +
    '(marked “new”) and holds a changed one until you accept it, but the first one comes from the server: use Verify ' +
    'to compare safety numbers with the people you talk to (in person or over another channel) to know the keys are ' +
    'really theirs.',
  passphrase:
    'Everyone who knows the passphrase can read every message in this room and write under any name: nothing is ' +
    'signed, so the fingerprints here do not vouch for who wrote what. Share the passphrase only with people you ' +
    'trust, over another channel.',
};
