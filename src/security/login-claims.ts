import { UnauthorizedError } from '../common/errors/parley.error.js';
import type { AuthClaims } from './jwt-auth.js';

/**
 * The token's `rooms` and `name` claims applied to a login (by `login` and by the
 * compatibility handshake login alike). `auth` is the socket's `data.auth`: undefined when
 * authentication is off, and then every login is allowed. `name` and `room` are the
 * validated (trimmed) values. Throws UNAUTHORIZED naming the field.
 */
export function assertLoginAllowed(auth: AuthClaims | undefined, name: string, room: string): void {
  if (!auth) return;
  if (auth.rooms !== undefined && !auth.rooms.includes(room)) {
    throw new UnauthorizedError(`Your token does not allow room "${room}"`);
  }
  if (auth.name !== undefined && auth.name !== name) {
    throw new UnauthorizedError(`Your token only allows the name "${auth.name}"`);
  }
}
