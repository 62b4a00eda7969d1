import { UnauthorizedError } from '../common/errors/parley.error.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';

/** setTimeout's longest delay; a later expiry is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Where a socket keeps its expiry timer. */
const TIMER = Symbol('parley.tokenExpiry');
type ExpiringSocket = ParleySocket & { [TIMER]?: NodeJS.Timeout };

/**
 * A socket's rights end with its token: from `exp` on, every event it sends is refused
 * UNAUTHORIZED (ack, else `exception`), `login` included, and at `exp` the server
 * disconnects it (a client that wants to stay gets a fresh token and reconnects; a
 * recovered session is checked again with the new handshake's token). Sockets whose token
 * has no `exp` (AUTH_JWT_ALLOW_NO_EXP) are left alone.
 */
export function enforceTokenExpiry(socket: ParleySocket): void {
  const exp = socket.data.auth?.exp;
  if (exp === undefined) return;
  const expiresAt = exp * 1000;
  socket.use((packet, next) => {
    if (Date.now() < expiresAt) return next();
    const reply = new UnauthorizedError('Your authentication token has expired; reconnect with a new one').toReply();
    const ack = packet[packet.length - 1];
    if (packet.length > 1 && typeof ack === 'function') (ack as (r: unknown) => void)(reply);
    else socket.emit('exception', { event: String(packet[0]), ...reply });
  });
  schedule(socket as ExpiringSocket, expiresAt);
  socket.once('disconnect', () => clearTimeout((socket as ExpiringSocket)[TIMER]));
}

function schedule(socket: ExpiringSocket, expiresAt: number): void {
  const delay = Math.max(0, Math.min(expiresAt - Date.now(), MAX_DELAY_MS));
  const timer = setTimeout(() => {
    if (Date.now() < expiresAt) return schedule(socket, expiresAt);
    socket.disconnect(true);
  }, delay);
  timer.unref();
  socket[TIMER] = timer;
}
