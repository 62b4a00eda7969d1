/**
 * Configuration: validated at start, a bad value stops the start with a message naming it;
 * `env` overrides apply to one app only.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { createApp } from '../src/app.js';
import { closeAllServers, startServer } from './helpers/server.js';
import { closeAllClients, connectMany, joinRoom, uniqueRoom } from './helpers/client.js';
import { expectError } from './helpers/assert.js';

afterEach(() => {
  closeAllClients();
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

async function expectStartFailure(env: Record<string, string>, names: string): Promise<void> {
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let error: unknown;
  try {
    app = await createApp({ env, logger: false });
  } catch (e) {
    error = e;
  }
  if (app) await app.close();
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toContain(names);
}

describe('configuration validation', () => {
  it('rejects MAX_MESSAGE_BYTES=abc with an error naming MAX_MESSAGE_BYTES', async () => {
    await expectStartFailure({ MAX_MESSAGE_BYTES: 'abc' }, 'MAX_MESSAGE_BYTES');
  });

  it('rejects production without CORS_ORIGIN with an error naming CORS_ORIGIN', async () => {
    await expectStartFailure({ NODE_ENV: 'production' }, 'CORS_ORIGIN');
  });

  const bad: Array<[string, string]> = [
    ['MAX_SIGNAL_BYTES', 'abc'],
    ['MAX_ROOM_USERS', 'abc'],
    ['RING_TIMEOUT_MS', 'abc'],
    ['RATE_LIMIT_PER_SEC', 'abc'],
    ['RATE_LIMIT_BURST', 'abc'],
    ['MAX_MESSAGE_BYTES', '-1'],
    ['MAX_SIGNAL_BYTES', '1.5'],
    ['PORT', 'not-a-port'],
    ['NODE_ENV', 'staging'],
    ['ICE_SERVERS', '{not json'],
    ['ICE_SERVERS', '{"urls":"stun:x"}'],
  ];

  it.each(bad)('rejects %s=%s with an error naming it', async (name, value) => {
    await expectStartFailure({ [name]: value }, name);
  });

  const secrets = ['ADMIN_TOKEN', 'AUTH_JWT_SECRET', 'WEBHOOK_SECRET', 'TURN_SECRET'];
  const PROD = { NODE_ENV: 'production', CORS_ORIGIN: 'https://chat.example' };

  it.each(secrets)('production refuses %s shorter than 32 characters, naming it', async (name) => {
    const extra: Record<string, string> = name === 'WEBHOOK_SECRET' ? { WEBHOOK_URL: 'http://127.0.0.1:9/hooks' } : {};
    await expectStartFailure({ ...PROD, ...extra, [name]: 'x' }, name);
    await expectStartFailure({ ...PROD, ...extra, [name]: 'a'.repeat(31) }, `"${name}" must be at least 32 characters`);
  });

  it('production starts with 32-character secrets; outside production a short one is allowed', async () => {
    const long = 'k'.repeat(32);
    const env = {
      ADMIN_TOKEN: long,
      AUTH_JWT_SECRET: long,
      WEBHOOK_URL: 'http://127.0.0.1:9/hooks',
      WEBHOOK_SECRET: long,
      TURN_SECRET: long,
      TURN_URLS: 'turn:turn.example:3478',
    };
    const prod = await startServer({ ...PROD, ...env });
    expect((await fetch(`${prod.url}/rooms`, { headers: { Authorization: `Bearer ${long}` } })).status).toBe(200);
    const dev = await startServer({
      ADMIN_TOKEN: 'x',
      AUTH_JWT_SECRET: 'y',
      WEBHOOK_URL: env.WEBHOOK_URL,
      WEBHOOK_SECRET: 'z',
    });
    expect((await fetch(`${dev.url}/rooms`, { headers: { Authorization: 'Bearer x' } })).status).toBe(200);
  });

  it('starts in production when CORS_ORIGIN is given, and echoes only that origin', async () => {
    const s = await startServer({ NODE_ENV: 'production', CORS_ORIGIN: 'https://chat.example' });
    const ok = await fetch(`${s.url}/health`, { headers: { Origin: 'https://chat.example' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://chat.example');
    const dev = await fetch(`${s.url}/health`, { headers: { Origin: 'http://localhost:3000' } });
    expect(dev.headers.get('access-control-allow-origin')).not.toBe('http://localhost:3000');
    await s.close();
  });
});

describe('env overrides', () => {
  it('apply to one app only: two apps with different limits, started one after the other', async () => {
    const small = await startServer({ MAX_MESSAGE_BYTES: '10' });
    const big = await startServer();
    const [s1, s2] = await connectMany(small, 2);
    const [b1, b2] = await connectMany(big, 2);
    await joinRoom([s1, s2], uniqueRoom());
    await joinRoom([b1, b2], uniqueRoom());
    const message = 'x'.repeat(200);
    expectError(await s1.request('roomMessage', { message }), 'PAYLOAD_TOO_LARGE');
    expect(await b1.request('roomMessage', { message })).toEqual({
      id: expect.any(String),
      at: expect.any(Number),
      offset: expect.any(Number),
      epoch: expect.any(String),
    });
    expect((await b2.waitFor('roomMessage')).message).toBe(message);
  });

  it('apply to one app only: two apps with different settings started concurrently', async () => {
    const [small, big, adminApp, plainApp] = await Promise.all([
      startServer({ MAX_MESSAGE_BYTES: '10' }),
      startServer(),
      startServer({ ADMIN_TOKEN: 'tok' }),
      startServer(),
    ]);
    expect((await fetch(`${adminApp.url}/rooms`, { headers: { Authorization: 'Bearer tok' } })).status).toBe(200);
    expect((await fetch(`${plainApp.url}/rooms`, { headers: { Authorization: 'Bearer tok' } })).status).toBe(404);
    const [s1, s2] = await connectMany(small, 2);
    const [b1, b2] = await connectMany(big, 2);
    await joinRoom([s1, s2], uniqueRoom());
    await joinRoom([b1, b2], uniqueRoom());
    const message = 'x'.repeat(200);
    expectError(await s1.request('roomMessage', { message }), 'PAYLOAD_TOO_LARGE');
    expect(await b1.request('roomMessage', { message })).toEqual({
      id: expect.any(String),
      at: expect.any(Number),
      offset: expect.any(Number),
      epoch: expect.any(String),
    });
    expect((await b2.waitFor('roomMessage')).message).toBe(message);
  });

  it('override process.env, which is otherwise used', async () => {
    const saved = process.env.MAX_ROOM_USERS;
    process.env.MAX_ROOM_USERS = '1';
    try {
      const fromProcess = await startServer();
      const overridden = await startServer({ MAX_ROOM_USERS: '3' });
      const room = uniqueRoom();
      const [p1, p2] = await connectMany(fromProcess, 2);
      await joinRoom([p1], room);
      expectError(await p2.request('login', { name: 'second', room }), 'ROOM_FULL');
      const [o1, o2] = await connectMany(overridden, 2);
      await joinRoom([o1, o2], room);
    } finally {
      if (saved === undefined) delete process.env.MAX_ROOM_USERS;
      else process.env.MAX_ROOM_USERS = saved;
    }
  });
});
