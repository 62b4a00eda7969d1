/**
 * Socket.IO room names. Every socket is also in a room named by its own id, so a chat room
 * used as is could be named after another socket and receive its private events (calls,
 * signals). Chat rooms get a prefix that a socket id (base64url) can never contain.
 */
export function roomChannel(room: string): string {
  return `room:${room}`;
}
