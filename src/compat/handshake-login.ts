import type { ParleySocket } from '../common/realtime/parley-socket.js';

export interface HandshakeCredentials {
  name: unknown;
  room: unknown;
  publicKey?: unknown;
}

/**
 * The handshake fields read here, with the longest string kept of each (see
 * boundHandshake): above what `login` accepts, so a longer one still fails its validation.
 */
export const HANDSHAKE_LOGIN_FIELDS = { name: 256, username: 256, room: 256, publicKey: 2048 } as const;

const given = (v: unknown) => v !== undefined && v !== null;

/**
 * The login a handshake asks for: from `auth`, else from `query`, whichever holds both a
 * room and a name (`name`, else `username`). Values are returned as sent, for the same
 * validation as `login`; undefined when the handshake asks for no login.
 */
export function handshakeCredentials(
  handshake: Pick<ParleySocket['handshake'], 'auth' | 'query'>,
): HandshakeCredentials | undefined {
  return pick(handshake.auth) ?? pick(handshake.query);
}

function pick(source: unknown): HandshakeCredentials | undefined {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return undefined;
  const s = source as Record<string, unknown>;
  const name = given(s.name) ? s.name : s.username;
  if (!given(s.room) || !given(name)) return undefined;
  return { name, room: s.room, ...(given(s.publicKey) && { publicKey: s.publicKey }) };
}
