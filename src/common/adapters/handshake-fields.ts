import type { Namespace, Socket } from 'socket.io';

/** Keys a handshake may keep, each with the longest string kept for it (in characters). */
export type FieldBounds = Readonly<Record<string, number>>;

/** What one namespace's sockets keep of their handshake's `auth` and `query`. */
export interface HandshakeFields {
  auth: FieldBounds;
  query: FieldBounds;
}

/**
 * Per namespace, the handshake fields its readers need; the '/' entry also serves any
 * namespace without one of its own.
 */
export type HandshakeFieldsByNamespace = Readonly<Record<string, HandshakeFields>>;

/**
 * Socket.IO keeps `handshake.auth` and `handshake.query` for as long as the socket lives,
 * whatever the client put there: an `auth` object as large as a frame (some 400 kB) was
 * held per connection for hours. This middleware, run before any other, replaces both with
 * new objects holding only the keys listed for the namespace:
 * - a string within its bound, a number, a boolean or null is kept as it is;
 * - a longer string is cut to one character over the bound, so the code that reads it
 *   still refuses it as too long (each bound is at least what its reader accepts);
 * - any other value (an object, an array: a repeated query key) becomes an empty object, so
 *   the reader still refuses it as malformed rather than taking it for absent;
 * - every other key goes.
 * Kept values are copied: a string parsed out of the handshake's packet can be a slice that
 * holds the whole packet alive. `handshake.url` loses its query string, a copy of the query.
 *
 * An `auth` too large is trimmed, not refused: by the time any middleware runs, Socket.IO
 * has already read and parsed it (the frame limit bounds that), so refusing would save
 * nothing, and clients that add keys of their own keep working.
 */
export function boundHandshake(fields: HandshakeFieldsByNamespace): (socket: Socket, next: () => void) => void {
  return (socket, next) => {
    const bounds = fields[socket.nsp.name] ?? fields['/'];
    const handshake = socket.handshake;
    handshake.auth = keep(handshake.auth, bounds?.auth);
    handshake.query = keep(handshake.query, bounds?.query) as Socket['handshake']['query'];
    const url = handshake.url as string | undefined;
    const q = typeof url === 'string' ? url.indexOf('?') : -1;
    if (q >= 0) handshake.url = copy(url!.slice(0, q));
    next();
  };
}

/** Runs `middleware` first on `namespace`, before those already added. */
export function useFirst(namespace: Namespace, middleware: (socket: Socket, next: () => void) => void): void {
  namespace.use(middleware);
  // (Socket.IO 4 runs a namespace's middlewares from its `_fns`, in order)
  const fns = (namespace as unknown as { _fns?: unknown[] })._fns;
  if (Array.isArray(fns) && fns.at(-1) === middleware) fns.unshift(fns.pop());
}

function keep(source: unknown, bounds: FieldBounds | undefined): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  if (bounds === undefined || source === null || typeof source !== 'object') return kept;
  for (const key in bounds) {
    if (!Object.hasOwn(source, key)) continue;
    const value = (source as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value === 'string')
      kept[key] = copy(value.length > bounds[key] ? value.slice(0, bounds[key] + 1) : value);
    else if (value === null || typeof value === 'number' || typeof value === 'boolean') kept[key] = value;
    else kept[key] = {};
  }
  return kept;
}

/** A string of its own, not a slice of a larger one. */
function copy(value: string): string {
  return structuredClone(value);
}
