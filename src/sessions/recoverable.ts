/**
 * Disconnect reasons after which Socket.IO keeps the session for recovery. The client's
 * own disconnect() and the server's socket.disconnect() are not among them: those depart
 * at once. The one definition for every feature that holds something for a dropped socket.
 */
export const RECOVERABLE_REASONS: ReadonlySet<string> = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
]);

/** Whether a socket that disconnected for `reason` is held for a window of `windowMs`. */
export function isHeld(windowMs: number, reason: string): boolean {
  return windowMs > 0 && RECOVERABLE_REASONS.has(reason);
}
