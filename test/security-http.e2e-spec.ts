/**
 * HTTP hardening (helmet headers, CORS never `*`, admin token) and the transport frame
 * limit (maxHttpBufferSize: every legal payload passes, an oversized frame is refused).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createApp } from '../src/app.js';
import { frameLimit } from '../src/common/adapters/parley-io.adapter.js';
import { closeAllClients, connect, isErrorReply, login, sleep, uniqueRoom, waitDisconnect } from './helpers/client.js';
import { expectError } from './helpers/assert.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

afterEach(() => closeAllClients());
afterAll(async () => {
  closeAllClients();
  await sleep(100);
  await closeAllServers();
});

describe('security headers (helmet)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '0' });
  });

  it('are on every HTTP response', async () => {
    for (const path of ['/health', '/metrics', '/rooms', '/no-such-path']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'self'");
      // Plain HTTP here: no upgrade-insecure-requests, or a LAN deployment would break its own page.
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
  });

  it('leave the Socket.IO endpoint working (polling and websocket)', async () => {
    const a = await connect(server.url, { transports: ['polling'] });
    const b = await connect(server.url);
    expect(await a.request('ping')).toBe(a.id);
    expect(await b.request('ping')).toBe(b.id);
  });
});

describe('CORS is never `*`', () => {
  it('echoes an allowed origin and never another one', async () => {
    const server = await startServer({ CORS_ORIGIN: 'https://chat.example' });
    const ok = await fetch(`${server.url}/health`, { headers: { Origin: 'https://chat.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://chat.example');
    const other = await fetch(`${server.url}/health`, { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // The Socket.IO handshake follows the same rule.
    const hs = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(hs.headers.get('access-control-allow-origin')).not.toBe('*');
    expect(hs.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });

  it('`*` outside production matches no origin (it is never echoed)', async () => {
    const server = await startServer({ CORS_ORIGIN: '*' });
    const res = await fetch(`${server.url}/health`, { headers: { Origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).not.toBe('*');
    expect(res.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });

  it('production refuses to start with CORS_ORIGIN `*` or without CORS_ORIGIN', async () => {
    await expect(createApp({ env: { NODE_ENV: 'production', CORS_ORIGIN: '*' }, logger: false })).rejects.toThrow(
      /CORS_ORIGIN/,
    );
    await expect(createApp({ env: { NODE_ENV: 'production', CORS_ORIGIN: undefined }, logger: false })).rejects.toThrow(
      /CORS_ORIGIN/,
    );
  });
});

describe('admin token', () => {
  it('is required, compared whole (a prefix or a longer token is refused)', async () => {
    const server = await startServer({ ADMIN_TOKEN: 'correct-horse-battery-staple' });
    const get = (auth?: string) =>
      fetch(`${server.url}/rooms`, { headers: auth ? { Authorization: auth } : {} }).then((r) => r.status);
    expect(await get()).toBe(401);
    expect(await get('Bearer correct-horse')).toBe(401);
    expect(await get('Bearer correct-horse-battery-staple-and-more')).toBe(401);
    expect(await get('Bearer CORRECT-HORSE-BATTERY-STAPLE')).toBe(401);
    expect(await get('correct-horse-battery-staple')).toBe(401);
    expect(await get('Bearer correct-horse-battery-staple')).toBe(200);
  });

  it('is checked before the body is read: no token and a bad body is 401, not 400', async () => {
    const server = await startServer({ ADMIN_TOKEN: 'correct-horse-battery-staple' });
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/rooms/lobby/notifications`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body,
      });
    for (const body of ['{not json', '"a string"', 'x'.repeat(300_000)]) {
      const res = await post(body);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: expect.any(String), code: 'UNAUTHORIZED' });
    }
    const good = { Authorization: 'Bearer correct-horse-battery-staple' };
    const unreadable = await post('{not json', good);
    expect([unreadable.status, await unreadable.json()]).toEqual([
      400,
      { error: expect.any(String), code: 'VALIDATION' },
    ]);
    const huge = await post(JSON.stringify({ title: 'x'.repeat(300_000), description: 'y' }), good);
    expect([huge.status, await huge.json()]).toEqual([413, { error: expect.any(String), code: 'PAYLOAD_TOO_LARGE' }]);
  });

  it('logs failed attempts at warn with the address, never the token', async () => {
    const logger = new CaptureLogger();
    const server = await startServer({ ADMIN_TOKEN: 'correct-horse-battery-staple' }, { logger });
    for (let i = 0; i < 8; i += 1) {
      await fetch(`${server.url}/rooms`, { headers: { Authorization: `Bearer secret-guess-${i}` } });
    }
    const warned = logger.lines.filter((l) => l.level === 'warn').map((l) => JSON.stringify(l.args));
    expect(warned.some((w) => w.includes('admin-auth-failed') && w.includes('127.0.0.1'))).toBe(true);
    expect(JSON.stringify(logger.lines)).not.toContain('secret-guess');
  });
});

describe('every HTTP error is { error, code }', () => {
  it('an unknown route, a wrong method, a missing admin route, an unknown room', async () => {
    const server = await startServer({ ADMIN_TOKEN: 'correct-horse-battery-staple' });
    const auth = { Authorization: 'Bearer correct-horse-battery-staple' };
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/no-such-path', {}, 404, 'NOT_FOUND'],
      ['/health', { method: 'DELETE' }, 404, 'NOT_FOUND'],
      ['/rooms/nobody-here/users', { headers: auth }, 404, 'NOT_FOUND'],
      ['/rooms', {}, 401, 'UNAUTHORIZED'],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetch(`${server.url}${path}`, init);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.json()).toEqual({ error: expect.any(String), code });
    }
    const plain = await startServer({});
    const res = await fetch(`${plain.url}/rooms`, { headers: auth });
    expect([res.status, await res.json()]).toEqual([404, { error: expect.any(String), code: 'NOT_FOUND' }]);
  });
});

describe('frame limit (maxHttpBufferSize)', () => {
  const MAX = 1000;
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      MAX_MESSAGE_BYTES: String(MAX),
      MAX_SIGNAL_BYTES: String(MAX),
      RATE_LIMIT_PER_SEC: '0',
    });
  });

  const worstCases: Array<[string, string]> = [
    ['control characters (6 JSON bytes per byte)', '\u0001'.repeat(MAX)],
    ['quotes and backslashes', '"\\'.repeat(MAX / 2)],
    ['four-byte characters', '😀'.repeat(MAX / 4)],
    ['lone surrogates (escaped by JSON)', '\ud800'.repeat(MAX / 3)],
  ];

  it.each(worstCases)('a roomMessage at the limit passes on websocket and polling: %s', async (_label, message) => {
    const room = uniqueRoom();
    const a = await connect(server.url);
    const b = await connect(server.url, { transports: ['polling'] });
    await login(a, 'alice', room);
    await login(b, 'bob', room);
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      const ack = await from.request<{ id: string }>('roomMessage', { message });
      expect(isErrorReply(ack)).toBe(false);
      const got = await to.waitFor('roomMessage', (m) => m.id === ack.id);
      expect(got.message).toBe(message);
    }
  });

  it('a signal at the limit passes, with the largest other call fields', async () => {
    const a = await connect(server.url);
    const b = await connect(server.url);
    const signal = { sdp: 'x'.repeat(MAX - 10) };
    expect(Buffer.byteLength(JSON.stringify(signal))).toBe(MAX);
    const reply = await a.request('call', { userToCall: b.id, to: 'y'.repeat(128), name: '😀'.repeat(32), signal });
    expect(reply).toEqual({});
    expect((await b.waitFor('call')).signal).toEqual(signal);
  });

  it('a message over the byte limit but inside the frame gets PAYLOAD_TOO_LARGE and keeps the socket', async () => {
    const a = await connect(server.url);
    await login(a, 'alice', uniqueRoom());
    expectError(await a.request('roomMessage', { message: '\u0001'.repeat(MAX + 1) }), 'PAYLOAD_TOO_LARGE');
    expect(a.connected).toBe(true);
  });

  it('an oversized frame is refused at the transport (the connection closes)', async () => {
    const a = await connect(server.url);
    const bystander = await connect(server.url);
    const limit = frameLimit(MAX, MAX);
    a.send('roomMessage', { message: 'x'.repeat(limit + 1) });
    const reason = await waitDisconnect(a, 3000);
    expect(reason).toMatch(/transport (close|error)/);
    expect(await bystander.request('ping')).toBe(bystander.id);
  });

  it('with the smallest limits, the largest legal login still fits', async () => {
    const tiny = await startServer({ MAX_MESSAGE_BYTES: '1', MAX_SIGNAL_BYTES: '1', RATE_LIMIT_PER_SEC: '0' });
    const a = await connect(tiny.url);
    // 2048 lone surrogates: 2048 characters, 6 bytes each once JSON-escaped.
    const publicKey = '\udc00'.repeat(2048);
    const reply = await a.request<{ user: { publicKey: string } }>('login', {
      name: '😀'.repeat(32),
      room: '"'.repeat(64),
      publicKey,
    });
    expect(isErrorReply(reply)).toBe(false);
    expect(reply.user.publicKey).toBe(publicKey);
  });
});
