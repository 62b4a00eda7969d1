/**
 * HTTP surface: /health, /metrics, the admin routes, and CORS (HTTP and Socket.IO handshake).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { User } from '../src/common/events.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { closeAllClients, connectMany, joinRoom, login, sleep, uniqueRoom } from './helpers/client.js';

const TOKEN = 'secret-admin-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

let admin: TestServer; // ADMIN_TOKEN set
let plain: TestServer; // ADMIN_TOKEN unset, defaults

beforeAll(async () => {
  // sequentially: concurrent starts are covered by config.e2e-spec.ts
  admin = await startServer({ ADMIN_TOKEN: TOKEN });
  plain = await startServer();
});

afterEach(() => {
  closeAllClients();
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

function get(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers });
}

/** Poll until `check` passes (the HTTP view may lag a socket event slightly). */
async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeout = 3000): Promise<T> {
  const deadline = Date.now() + timeout;
  let v = await fn();
  while (!check(v) && Date.now() < deadline) {
    await sleep(50);
    v = await fn();
  }
  return v;
}

describe('GET /health', () => {
  it('answers 200 { status: "ok" } without a token', async () => {
    for (const s of [admin, plain]) {
      const res = await get(s, '/health');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { status: string };
      expect(body.status).toBe('ok');
    }
  });
});

describe('GET /metrics', () => {
  function samples(text: string): Map<string, number> {
    const map = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const m = /^(\S+?(?:\{.*\})?)\s+(\S+)/.exec(line);
      if (m) map.set(m[1], Number(m[2]));
    }
    return map;
  }

  it('serves Prometheus text without a token', async () => {
    const res = await get(admin, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^# HELP \S+ /m);
    expect(text).toMatch(/^# TYPE \S+ (counter|gauge|histogram|summary|untyped)$/m);
  });

  it('has a messages counter that increases after a room message', async () => {
    const [a, b] = await connectMany(admin, 2);
    await joinRoom([a, b], uniqueRoom());
    const before = samples(await (await get(admin, '/metrics')).text());
    const messageKeys = [...before.keys()].filter((k) => /message/i.test(k.split('{')[0]));
    expect(messageKeys.length).toBeGreaterThan(0);
    await a.request('roomMessage', { message: 'counted' });
    await b.waitFor('roomMessage');
    const after = await eventually(
      async () => samples(await (await get(admin, '/metrics')).text()),
      (m) => [...m.entries()].some(([k, v]) => /message/i.test(k.split('{')[0]) && v >= (before.get(k) ?? 0) + 1),
    );
    const increased = [...after.entries()].filter(
      ([k, v]) => /message/i.test(k.split('{')[0]) && v >= (before.get(k) ?? 0) + 1,
    );
    expect(increased.length).toBeGreaterThan(0);
  });

  it('counts calls started, answered and ended by reason', async () => {
    const [a, b] = await connectMany(admin, 2);
    const before = samples(await (await get(admin, '/metrics')).text());
    const count = (m: Map<string, number>, key: string) => m.get(key) ?? 0;
    expect(await a.request('call', { userToCall: b.id, signal: { type: 'offer' } })).toEqual({});
    await b.waitFor('call');
    expect(await b.request('answer', { to: a.id, signal: { type: 'answer' } })).toEqual({});
    expect(await a.request('hangup', { to: b.id })).toEqual({});
    const after = samples(await (await get(admin, '/metrics')).text());
    expect(count(after, 'parley_calls_started_total') - count(before, 'parley_calls_started_total')).toBe(1);
    expect(count(after, 'parley_calls_answered_total') - count(before, 'parley_calls_answered_total')).toBe(1);
    const ended = 'parley_calls_ended_total{reason="hangup"}';
    expect(count(after, ended) - count(before, ended)).toBe(1);
  });
});

describe('admin routes', () => {
  it('GET /rooms lists [{ room, users: count }] with the bearer token; empty rooms disappear', async () => {
    const [a, b, c] = await connectMany(admin, 3);
    const room = uniqueRoom('admin');
    const other = uniqueRoom('admin');
    await joinRoom([a, b], room);
    await login(c, 'carol', other);
    const rooms = await eventually(
      async () => (await get(admin, '/rooms', auth)).json() as Promise<Array<{ room: string; users: number }>>,
      (r) => r.some((x) => x.room === room && x.users === 2),
    );
    expect(Array.isArray(rooms)).toBe(true);
    expect(rooms).toContainEqual({ room, users: 2 });
    expect(rooms).toContainEqual({ room: other, users: 1 });
    const res = await get(admin, '/rooms', auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);

    await c.request('logout');
    const later = await eventually(
      async () => (await get(admin, '/rooms', auth)).json() as Promise<Array<{ room: string; users: number }>>,
      (r) => !r.some((x) => x.room === other),
    );
    expect(later.some((x) => x.room === other)).toBe(false);
  });

  it('GET /rooms/:room/users returns the room User[] in joinedAt order; 404 for unknown and emptied rooms', async () => {
    const [a, b] = await connectMany(admin, 2);
    const room = `${uniqueRoom('admin')} é/#?`;
    const users = await joinRoom([a, b], room, ['alice', 'bob']);
    const path = `/rooms/${encodeURIComponent(room)}/users`;
    const res = await get(admin, path, auth);
    expect(res.status).toBe(200);
    expect((await res.json()) as User[]).toEqual(users);

    expect((await get(admin, `/rooms/${encodeURIComponent(uniqueRoom('never'))}/users`, auth)).status).toBe(404);
    a.close();
    await b.request('logout');
    const status = await eventually(
      async () => (await get(admin, path, auth)).status,
      (s) => s === 404,
    );
    expect(status).toBe(404);
  });

  it('GET /rooms/:room/users treats room names case-sensitively', async () => {
    const [a] = await connectMany(admin, 1);
    const room = uniqueRoom('CaseRoom');
    await login(a, 'alice', room);
    expect((await get(admin, `/rooms/${encodeURIComponent(room)}/users`, auth)).status).toBe(200);
    expect((await get(admin, `/rooms/${encodeURIComponent(room.toLowerCase())}/users`, auth)).status).toBe(404);
  });

  it('GET /connections returns an array', async () => {
    const res = await get(admin, '/connections', auth);
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
  });

  const adminPaths = ['/rooms', '/rooms/lobby/users', '/connections'];
  const badAuth: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong token', { Authorization: 'Bearer wrong-token' }],
    ['a token prefix', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['a longer token', { Authorization: `Bearer ${TOKEN}x` }],
    ['the token without the Bearer scheme', { Authorization: TOKEN }],
    ['Basic scheme', { Authorization: `Basic ${TOKEN}` }],
    ['an empty bearer', { Authorization: 'Bearer ' }],
  ];

  it.each(badAuth)('answers 401 with %s on every admin route', async (_l, headers) => {
    const [a] = await connectMany(admin, 1);
    await login(a, 'alice', 'lobby');
    for (const path of adminPaths) {
      const res = await get(admin, path, headers);
      expect([path, res.status]).toEqual([path, 401]);
      const body = await res.text();
      expect(body).not.toContain('alice');
      expect(JSON.parse(body)).toEqual({ error: expect.any(String), code: 'UNAUTHORIZED' });
      // A request with the token clears this address's failures, so the throttle (below)
      // does not step in across these cases.
      expect((await get(admin, '/rooms', auth)).status).toBe(200);
    }
  });

  it('throttles wrong tokens per address: past the allowance, 429 RATE_LIMITED without looking at the token', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1)
      statuses.push((await get(admin, '/rooms', { Authorization: `Bearer guess-${i}` })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([401, 429]);
    // Now even the right token waits: the address is refused before any comparison.
    const refused = await get(admin, '/rooms', auth);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/try again later/), code: 'RATE_LIMITED' });
    await sleep(1100);
    expect((await get(admin, '/rooms', auth)).status).toBe(200);
  });

  it('answers 404 for every admin request when ADMIN_TOKEN is unset', async () => {
    const [a] = await connectMany(plain, 1);
    await login(a, 'alice', 'lobby');
    for (const path of adminPaths) {
      const variants: Array<Record<string, string>> = [
        {},
        { Authorization: 'Bearer anything' },
        { Authorization: 'Bearer ' },
        { Authorization: 'Bearer undefined' },
      ];
      for (const headers of variants) {
        const res = await get(plain, path, headers);
        expect([path, headers, res.status]).toEqual([path, headers, 404]);
      }
    }
  });
});

describe('CORS', () => {
  const ALLOWED = 'http://localhost:3000';
  const EVIL = 'http://evil.example';

  function expectEchoed(res: Response, origin: string): void {
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
  }
  function expectNotEchoed(res: Response, origin: string): void {
    const acao = res.headers.get('access-control-allow-origin');
    expect(acao).not.toBe(origin);
    expect(acao).not.toBe('*');
    if (acao !== null) expect(acao.split(',').map((s) => s.trim())).not.toContain(origin);
  }

  it('echoes the default allowed origin (http://localhost:3000 outside production) on HTTP routes', async () => {
    for (const path of ['/health', '/metrics']) {
      expectEchoed(await get(plain, path, { Origin: ALLOWED }), ALLOWED);
    }
    expectEchoed(await get(admin, '/rooms', { Origin: ALLOWED, ...auth }), ALLOWED);
  });

  it('never echoes another origin, and never answers *', async () => {
    for (const path of ['/health', '/metrics']) {
      expectNotEchoed(await get(plain, path, { Origin: EVIL }), EVIL);
    }
    expectNotEchoed(await get(admin, '/rooms', { Origin: EVIL, ...auth }), EVIL);
    expectNotEchoed(
      await get(plain, '/health', { Origin: 'http://localhost:3000.evil.example' }),
      'http://localhost:3000.evil.example',
    );
    expectNotEchoed(await get(plain, '/health', { Origin: 'null' }), 'null');
  });

  it('answers preflight requests for the allowed origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${admin.url}/rooms`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'authorization',
        },
      });
    expectEchoed(await preflight(ALLOWED), ALLOWED);
    expectNotEchoed(await preflight(EVIL), EVIL);
  });

  it('governs the Socket.IO handshake (polling) the same way', async () => {
    const handshake = (origin: string) => get(plain, '/socket.io/?EIO=4&transport=polling', { Origin: origin });
    const ok = await handshake(ALLOWED);
    expectEchoed(ok, ALLOWED);
    await ok.text();
    const bad = await handshake(EVIL);
    expectNotEchoed(bad, EVIL);
    await bad.text();
  });

  it('uses a comma-separated CORS_ORIGIN list', async () => {
    const s = await startServer({ CORS_ORIGIN: 'http://a.example, http://b.example:8080' });
    try {
      expectEchoed(await get(s, '/health', { Origin: 'http://a.example' }), 'http://a.example');
      expectEchoed(await get(s, '/health', { Origin: 'http://b.example:8080' }), 'http://b.example:8080');
      expectNotEchoed(await get(s, '/health', { Origin: ALLOWED }), ALLOWED);
      expectNotEchoed(await get(s, '/health', { Origin: 'http://b.example' }), 'http://b.example');
      const hs = await get(s, '/socket.io/?EIO=4&transport=polling', { Origin: 'http://b.example:8080' });
      expectEchoed(hs, 'http://b.example:8080');
      await hs.text();
      const hsBad = await get(s, '/socket.io/?EIO=4&transport=polling', { Origin: ALLOWED });
      expectNotEchoed(hsBad, ALLOWED);
      await hsBad.text();
    } finally {
      await s.close();
    }
  });
});
