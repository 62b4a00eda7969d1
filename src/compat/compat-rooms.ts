/**
 * Socket.IO rooms of the compatibility events. Room names a client can choose (chat rooms)
 * never contain control characters, so these can never collide with one.
 */
export const LOBBY_ROOM = '\u0000parley:lobby';
export const PEERS_ROOM = '\u0000parley:peers';
