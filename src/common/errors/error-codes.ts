/**
 * The one table of user-facing error codes. Everything else derives from it: the event
 * map's `ErrorCode` type, the server's error classes (parley.error.ts), the gateway filter's
 * check of what may reach a client, the metrics label, and the client library's error.
 * Kept free of imports so browser code can use it too.
 */
export const ERROR_CODES = {
  VALIDATION: 'a payload field is missing, has the wrong type, or is out of bounds',
  NOT_LOGGED_IN: 'the event needs a logged-in socket',
  ALREADY_LOGGED_IN: '`login` on a socket that is already in a room',
  NAME_TAKEN: 'another user in that room already has this name (case-insensitive)',
  ROOM_FULL: 'the room holds the configured maximum number of users',
  NOT_FOUND: 'the target socket of a call event is not connected',
  NO_CALL:
    "a call event targets a peer with no pending or active call with the sender; a room-call event from a socket that is not in its room's call",
  ALREADY_IN_CALL:
    "`call` to a peer that already has a pending or active call with the sender; `joinCall` by a participant of its room's call",
  SELF_CALL: '`call` whose target is the caller itself',
  PAYLOAD_TOO_LARGE: 'a message or signal is over the configured byte limit',
  RATE_LIMITED: 'the socket sent more events than its rate limit allows',
  UNAUTHORIZED: 'authentication is enabled and the handshake token is missing, invalid, or does not allow that room',
  UNAVAILABLE: 'a service the request needs (Redis) is down or not answering; nothing changed; retry later',
  INTERNAL: 'an unexpected fault in the server (a bug); nothing changed',
  CALL_FULL: "`joinCall` when the room's call already has `MAX_CALL_PEERS` participants",
  FORBIDDEN: "the caller may not do this to this target (redacting another member's message)",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The messages of a `connect_error` the server refuses a handshake with. */
export const CONNECT_ERROR_CODES = {
  UNAUTHORIZED: ERROR_CODES.UNAUTHORIZED,
  TOO_MANY_CONNECTIONS: 'the client address holds MAX_CONNECTIONS_PER_IP connections already',
  UNAVAILABLE: ERROR_CODES.UNAVAILABLE,
} as const;

export type ConnectErrorCode = keyof typeof CONNECT_ERROR_CODES;

/** Codes only the client library produces: no ack in time, or no connection at all. */
export const CLIENT_ONLY_CODES = {
  TIMEOUT: 'no acknowledgement arrived within the client timeout',
  DISCONNECTED: 'the client could not connect, or the connection closed before the reply',
} as const;

export type ClientErrorCode = ErrorCode | ConnectErrorCode | keyof typeof CLIENT_ONLY_CODES;

const KNOWN = new Set<string>(Object.keys(ERROR_CODES));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}
