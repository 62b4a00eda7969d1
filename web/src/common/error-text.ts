import { KeyChangeBlockedError, ParleyError } from '../../../client/index.js';

/** A sentence for the user from whatever the library rejected with. */
export function errorText(err: unknown): string {
  if (err instanceof ParleyError) {
    if (err.code === 'DISCONNECTED' || err.code === 'TIMEOUT')
      return 'Cannot reach the server right now. Try again in a moment.';
    if (err.code === 'UNAUTHORIZED') return 'This server requires an access token.';
    if (err.code === 'TOO_MANY_CONNECTIONS') return 'Too many connections from your network.';
    if (err.code === 'RATE_LIMITED') return 'Slow down a little and try again.';
    return err.message;
  }
  if (err instanceof KeyChangeBlockedError) {
    return `The verified key of ${err.members.join(', ')} changed. Compare safety numbers, then accept the new key to send again.`;
  }
  return err instanceof Error ? err.message : String(err);
}
