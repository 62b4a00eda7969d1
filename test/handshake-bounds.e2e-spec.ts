/**
 * What a socket keeps of its handshake (issue 24, item 5): `auth` and `query` are cut down
 * to the keys Parley reads, each string bounded, before any middleware runs, so a client
 * cannot make the server hold a frame's worth of `auth` for the socket's life; JWTs and
 * the compatibility handshake login work as before.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { User } from '../src/common/events.js';
import { RealtimeService } from '../src/common/realtime/realtime.service.js';
import { closeAllClients, connect, uniqueRoom, type TestClient } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { hsToken, SECRET } from './helpers/tokens.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and buffers in use after full collections. */
function inUse(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Logged in at connect: the socket's own entry in its room's `users`. */
async function loggedIn(c: TestClient): Promise<User[]> {
  return c.waitFor<User[]>('users', (list) => list.some((u) => u.id === c.id));
}

const SOCKETS = 100;
/** Just under a frame (MAX_MESSAGE_BYTES' default makes it 400 kB). */
const JUNK_CHARS = 380_000;

describe('handshake auth and query', () => {
  let server: TestServer;
  const io = () => server.app.get(RealtimeService).server;
  const serverSocket = (c: TestClient) => io().of('/').sockets.get(c.socket.id!)!;

  beforeAll(async () => {
    server = await startServer({ AUTH_JWT_SECRET: SECRET, RATE_LIMIT_PER_SEC: '0' });
  });
  afterAll(async () => {
    closeAllClients();
    await closeAllServers();
  });

  it(`keeps only the fields Parley reads: ${SOCKETS} sockets sending ~400 kB of auth each hold a small fraction of it`, async () => {
    const token = await hsToken();
    const before = inUse();
    const clients: TestClient[] = [];
    for (let i = 0; i < SOCKETS; i++) {
      // (a room each: the clients' own records of a shared room's `users` would be measured too)
      const room = uniqueRoom('bulky');
      // A function, so the client builds the junk for the packet and does not keep it.
      const auth = (cb: (data: object) => void) =>
        cb({
          token,
          name: `bulky-user-number-${i}`,
          room,
          junk: 'j'.repeat(JUNK_CHARS),
          nested: { deeper: ['k'.repeat(1000)] },
        });
      const c = await connect(server.url, { auth, query: { padding: 'p'.repeat(2000), room } });
      await loggedIn(c);
      // A frame after the big one: the server's WebSocket receiver keeps the last frame's
      // mask, a few bytes of the 64 kB read that brought it, until the next frame comes.
      expect(await c.request('ping')).toBe(c.id);
      clients.push(c);
    }
    const grown = inUse() - before;
    // Without the trimming: over 100 × 380 kB. A connection costs some kB, both ends counted.
    expect(grown).toBeLessThan((SOCKETS * JUNK_CHARS) / 4);
    for (const c of clients) {
      const { auth, query, url } = serverSocket(c).handshake;
      expect(Object.keys(auth).sort()).toEqual(['name', 'room', 'token']);
      expect(auth.token).toBe(token);
      expect(Object.keys(query)).toEqual(['room']);
      expect(url).not.toContain('?');
    }
  });

  it('still logs in at connect from auth and from query, and still refuses what is too long or malformed', async () => {
    const token = await hsToken();
    const room = uniqueRoom('forms');
    const fromAuth = await connect(server.url, { auth: { token, name: 'by-auth', room, extra: 'x'.repeat(5000) } });
    await loggedIn(fromAuth);
    const fromQuery = await connect(server.url, { auth: { token }, query: { username: 'by-query', room } });
    expect((await loggedIn(fromQuery)).map((u) => u.name).sort()).toEqual(['by-auth', 'by-query']);
    expect(serverSocket(fromQuery).handshake.auth).toEqual({ token });

    // Too long: kept one character over the bound, and refused as before.
    const long = await connect(server.url, { auth: { token, name: 'n'.repeat(100_000), room } });
    expect(await long.waitFor('exception')).toMatchObject({ event: 'login', code: 'VALIDATION' });
    expect((serverSocket(long).handshake.auth.name as string).length).toBe(257);
    // Not a string: still there, still refused.
    const odd = await connect(server.url, { auth: { token, name: { huge: 'h'.repeat(10_000) }, room } });
    expect(await odd.waitFor('exception')).toMatchObject({ event: 'login', code: 'VALIDATION' });
    expect(serverSocket(odd).handshake.auth.name).toEqual({});

    // A token over MAX_TOKEN_CHARS is refused, as before.
    const refused = await connect(server.url, { auth: { token: `${token}${'x'.repeat(9000)}`, room } }).then(
      () => undefined,
      (err: Error & { data?: { code?: string } }) => err.data?.code,
    );
    expect(refused).toBe('UNAUTHORIZED');
  });
});
