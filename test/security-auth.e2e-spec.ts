/**
 * Optional JWT authentication (docs: "Authentication"): HS256 `auth.token` verified before
 * the connection is accepted; `rooms` and `name` claims enforced at login.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  closeAllClients,
  connect,
  expectNothing,
  login,
  mark,
  sleep,
  uniqueRoom,
  type TestClient,
} from './helpers/client.js';
import { expectError } from './helpers/assert.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { hsToken, noneToken, rsToken, SECRET, tamperedToken } from './helpers/tokens.js';

afterEach(() => closeAllClients());
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

async function refusal(server: TestServer, auth?: Record<string, unknown>): Promise<Error & { data?: unknown }> {
  try {
    const c = await connect(server.url, auth === undefined ? {} : { auth });
    c.close();
  } catch (err) {
    return err as Error & { data?: unknown };
  }
  throw new Error('the connection was accepted');
}

describe('AUTH_JWT_SECRET set', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ AUTH_JWT_SECRET: SECRET, RATE_LIMIT_PER_SEC: '0' });
  });

  it('accepts a valid HS256 token with exp', async () => {
    const a = await connect(server.url, { auth: { token: await hsToken({}, { expiresIn: 60 }) } });
    expect(await a.request('ping')).toBe(a.id);
    const b = await connect(server.url, { auth: { token: await hsToken({ sub: 'x' }) } });
    expect(await b.request('ping')).toBe(b.id);
  });

  const refusedCases: Array<[string, () => Promise<Record<string, unknown> | undefined>]> = [
    ['no auth at all', async () => undefined],
    ['no token', async () => ({})],
    ['an empty token', async () => ({ token: '' })],
    ['a token that is not a string', async () => ({ token: 12345 })],
    ['an object token', async () => ({ token: { alg: 'HS256' } })],
    ['garbage', async () => ({ token: 'not.a.jwt' })],
    ['a bad signature (another secret)', async () => ({ token: await hsToken({}, { secret: 'some-other-secret' }) })],
    ['a tampered payload', async () => ({ token: await tamperedToken({ rooms: ['anything'] }) })],
    ['an expired token', async () => ({ token: await hsToken({}, { expiresIn: -5 }) })],
    ['a token without exp (it would never expire)', async () => ({ token: await hsToken({}, { expiresIn: null }) })],
    ['a token not valid yet (nbf)', async () => ({ token: await hsToken({}, { notBeforeIn: 300 }) })],
    ['alg: none', async () => ({ token: noneToken() })],
    ['HS512 with the right secret', async () => ({ token: await hsToken({}, { alg: 'HS512' }) })],
    ['HS384 with the right secret', async () => ({ token: await hsToken({}, { alg: 'HS384' }) })],
    ['RS256', async () => ({ token: await rsToken() })],
    ['a malformed rooms claim (a string)', async () => ({ token: await hsToken({ rooms: 'lobby' }) })],
    ['a malformed rooms claim (numbers)', async () => ({ token: await hsToken({ rooms: [1, 2] }) })],
    ['a malformed name claim', async () => ({ token: await hsToken({ name: 42 }) })],
    ['a huge token', async () => ({ token: 'a'.repeat(20_000) })],
  ];

  it.each(refusedCases)('refuses %s with connect_error UNAUTHORIZED', async (_label, make) => {
    const err = await refusal(server, await make());
    expect(err.message).toBe('UNAUTHORIZED');
    expect(err.data).toEqual({ code: 'UNAUTHORIZED', error: expect.any(String) });
  });

  it('a refused handshake disturbs nobody', async () => {
    const a = await connect(server.url, { auth: { token: await hsToken() } });
    const since = mark();
    await refusal(server, {});
    await sleep(100);
    expect(a.eventsSince(since)).toEqual([]);
    expect(await a.request('ping')).toBe(a.id);
  });

  it('also refuses over the polling transport', async () => {
    const err = await (async () => {
      try {
        await connect(server.url, { transports: ['polling'], auth: { token: await hsToken({}, { secret: 'wrong' }) } });
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(err.message).toBe('UNAUTHORIZED');
    const ok = await connect(server.url, { transports: ['polling'], auth: { token: await hsToken() } });
    expect(await ok.request('ping')).toBe(ok.id);
  });

  describe('a token that expires while the socket is connected', () => {
    it('ends the socket at expiry, and from then on nothing it sends is carried out', async () => {
      const room = uniqueRoom('expiring');
      const watcher = await connect(server.url, { auth: { token: await hsToken() } });
      await login(watcher, 'watcher', room);
      const a = await connect(server.url, { auth: { token: await hsToken({}, { expiresIn: 2 }) } });
      await login(a, 'alice', room);
      const disconnected = new Promise<string>((resolve) => a.socket.once('disconnect', resolve));
      // The server's disconnect, not the client's: 'io server disconnect'.
      expect(await disconnected).toBe('io server disconnect');
      // The room hears that alice left, and she is no longer listed.
      await watcher.waitFor('users', (list: Array<{ name: string }>) => !list.some((u) => u.name === 'alice'));
    });

    it('refuses login and every event with UNAUTHORIZED once exp has passed', async () => {
      // jose allows no clock tolerance here, so a token with exp one second ahead is
      // accepted and is expired a second later; the disconnect timer may lose the race
      // with our next event, which must then be refused rather than carried out.
      const room = uniqueRoom('late');
      const watcher = await connect(server.url, { auth: { token: await hsToken() } });
      await login(watcher, 'watcher', room);
      const a = await connect(server.url, { auth: { token: await hsToken({}, { expiresIn: 1 }) } });
      const since = mark();
      await sleep(1050);
      // Either the refusal, or (the timer won) no answer because the socket is gone.
      const reply = await a.request('login', { name: 'alice', room }).catch(() => undefined);
      if (reply !== undefined) expectError(reply, 'UNAUTHORIZED');
      await expectNothing([watcher], ['join', 'users'], since);
    });
  });

  describe('claims at login', () => {
    it('rooms: login to a listed room works, to any other gets UNAUTHORIZED', async () => {
      const allowed = uniqueRoom('allowed');
      const other = uniqueRoom('other');
      const a = await connect(server.url, { auth: { token: await hsToken({ rooms: [allowed, uniqueRoom()] }) } });
      const reply = await a.request('login', { name: 'alice', room: other });
      expectError(reply, 'UNAUTHORIZED', new RegExp(other));
      expect(a.connected).toBe(true);
      expectError(await a.request('listUsers'), 'NOT_LOGGED_IN');
      // Room names are case-sensitive.
      expectError(await a.request('login', { name: 'alice', room: allowed.toUpperCase() }), 'UNAUTHORIZED');
      // Trimmed like the login itself.
      const user = await login(a, 'alice', `  ${allowed} `);
      expect(user.room).toBe(allowed);
    });

    it('rooms: an empty list allows no room', async () => {
      const a = await connect(server.url, { auth: { token: await hsToken({ rooms: [] }) } });
      expectError(await a.request('login', { name: 'alice', room: uniqueRoom() }), 'UNAUTHORIZED');
    });

    it('name: only that name may log in', async () => {
      const room = uniqueRoom();
      const a = await connect(server.url, { auth: { token: await hsToken({ name: 'alice' }) } });
      expectError(await a.request('login', { name: 'mallory', room }), 'UNAUTHORIZED', /name/);
      expectError(await a.request('login', { name: 'Alice', room }), 'UNAUTHORIZED');
      const user = await login(a, 'alice', room);
      expect(user.name).toBe('alice');
    });

    it('rooms and name together', async () => {
      const room = uniqueRoom();
      const a = await connect(server.url, { auth: { token: await hsToken({ name: 'bob', rooms: [room] }) } });
      expectError(await a.request('login', { name: 'bob', room: uniqueRoom() }), 'UNAUTHORIZED');
      expectError(await a.request('login', { name: 'eve', room }), 'UNAUTHORIZED');
      await login(a, 'bob', room);
    });

    it('a refused login changes nothing and reaches nobody', async () => {
      const room = uniqueRoom();
      const b = await connect(server.url, { auth: { token: await hsToken() } });
      await login(b, 'bob', room);
      const since = mark();
      const a = await connect(server.url, { auth: { token: await hsToken({ rooms: ['elsewhere'] }) } });
      expectError(await a.request('login', { name: 'alice', room }), 'UNAUTHORIZED');
      a.send('login', { name: 'alice', room });
      expect(await a.waitFor('exception')).toEqual({ event: 'login', error: expect.any(String), code: 'UNAUTHORIZED' });
      await b.barrier();
      await sleep(150);
      expect(b.eventsSince(since)).toEqual([]);
      expect((await b.request<{ users: unknown[] }>('listUsers')).users).toHaveLength(1);
    });

    it('VALIDATION still comes first', async () => {
      const a = await connect(server.url, { auth: { token: await hsToken({ rooms: ['x'] }) } });
      expectError(await a.request('login', { name: '', room: 'y' }), 'VALIDATION');
    });

    it('a token without claims allows any room and name', async () => {
      const a = await connect(server.url, { auth: { token: await hsToken() } });
      await login(a, 'anyone', uniqueRoom());
    });

    it('the compatibility handshake login honours the claims too', async () => {
      const room = uniqueRoom();
      const a = await connect(server.url, {
        auth: { token: await hsToken({ rooms: ['elsewhere'] }), name: 'alice', room },
      });
      expect(await a.waitFor('exception')).toEqual({ event: 'login', error: expect.any(String), code: 'UNAUTHORIZED' });
      expectError(await a.request('listUsers'), 'NOT_LOGGED_IN');
      const b = await connect(server.url, {
        auth: { token: await hsToken({ rooms: [room], name: 'bob' }), name: 'bob', room },
      });
      await b.waitFor('users', (list) => list.some((u) => u.id === b.id));
    });
  });
});

describe('AUTH_JWT_ALLOW_NO_EXP=true', () => {
  it('accepts a token without exp, and keeps its socket', async () => {
    const server = await startServer({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_ALLOW_NO_EXP: 'true' });
    const a = await connect(server.url, { auth: { token: await hsToken({}, { expiresIn: null }) } });
    expect(await a.request('ping')).toBe(a.id);
    // An expired token is still refused.
    await expect(refusal(server, { token: await hsToken({}, { expiresIn: -5 }) })).resolves.toMatchObject({
      message: 'UNAUTHORIZED',
    });
  });
});

describe('authentication off (default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '0' });
  });

  it('accepts handshakes without a token, and ignores any token given', async () => {
    const a: TestClient = await connect(server.url);
    expect(await a.request('ping')).toBe(a.id);
    const b = await connect(server.url, { auth: { token: 'garbage' } });
    // No claims are applied when authentication is off.
    await login(b, 'bob', uniqueRoom());
    const c = await connect(server.url, { auth: { token: await hsToken({ rooms: ['only-here'], name: 'carol' }) } });
    await login(c, 'dave', uniqueRoom());
  });
});
