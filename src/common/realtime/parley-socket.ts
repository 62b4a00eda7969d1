import type { Socket } from 'socket.io';
import { NotLoggedInError } from '../errors/parley.error.js';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData, User } from '../events.js';

export type ParleySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** The socket's user; NOT_LOGGED_IN when it is in no room (every gateway's login check). */
export function loggedIn(client: ParleySocket): User {
  if (!client.data.user) throw new NotLoggedInError();
  return client.data.user;
}
