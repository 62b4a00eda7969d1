/**
 * Per-socket rate limit (RATE_LIMIT_PER_SEC sustained, RATE_LIMIT_BURST at once) over every
 * inbound event, and the flood disconnect.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import {
  closeAllClients,
  connect,
  isErrorReply,
  login,
  mark,
  sleep,
  uniqueRoom,
  waitDisconnect,
  type TestClient,
} from './helpers/client.js';
import { expectError } from './helpers/assert.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { CaptureLogger } from './helpers/capture-logger.js';

const LIMITED = { RATE_LIMIT_PER_SEC: '5', RATE_LIMIT_BURST: '10' };

afterEach(async () => {
  closeAllClients();
  await closeAllServers();
});
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

/** `n` pings at once; the replies in sending order. */
function pings(c: TestClient, n: number): Promise<unknown[]> {
  return Promise.all(Array.from({ length: n }, () => c.request<unknown>('ping')));
}

async function rejectedCount(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('parley_rejected_requests_total{code="RATE_LIMITED"}'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('rate limit: token bucket (5/s sustained, burst 10)', () => {
  it('lets a burst of RATE_LIMIT_BURST through at once and refuses the excess with RATE_LIMITED', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    const replies = await pings(a, 25);
    expect(replies.slice(0, 10)).toEqual(Array(10).fill(a.id));
    const refused = replies.slice(10).filter((r) => r !== a.id);
    // At most a token or two comes back while 25 requests are in flight.
    expect(refused.length).toBeGreaterThanOrEqual(13);
    for (const r of refused) expectError(r, 'RATE_LIMITED');
    expect(a.connected).toBe(true);
    expect(await rejectedCount(server)).toBe(refused.length);
  });

  it('answers a refused event without ack with `exception { event, error, code }`', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    await pings(a, 10);
    a.send('listUsers');
    expect(await a.waitFor('exception')).toEqual({
      event: 'listUsers',
      error: expect.any(String),
      code: 'RATE_LIMITED',
    });
    a.send('roomMessage', 'bare string, no ack');
    expect(await a.waitFor('exception')).toEqual({
      event: 'roomMessage',
      error: expect.any(String),
      code: 'RATE_LIMITED',
    });
  });

  it('checks RATE_LIMITED before validation and state', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    await pings(a, 10);
    expectError(await a.request('login', {}), 'RATE_LIMITED');
    expectError(await a.request('roomMessage', { message: 'x' }), 'RATE_LIMITED');
    expectError(await a.request('call', { userToCall: 'nobody' }), 'RATE_LIMITED');
  });

  it('counts every event: core, compatibility and unknown events alike', async () => {
    const server = await startServer(LIMITED);
    for (const [event, args] of [
      ['no-such-event', [{ x: 1 }]],
      ['getOnlineUsers', []],
      ['send-message', [{ message: 'hi' }]],
      ['iceServers', []],
      ['listUsers', []],
    ] as Array<[string, unknown[]]>) {
      const c = await connect(server.url);
      for (let i = 0; i < 10; i++) c.send(event, ...args);
      const reply = await c.request<unknown>('ping');
      expectError(reply, 'RATE_LIMITED');
      c.close();
    }
  });

  it('a refused request changes nothing and reaches nobody', async () => {
    const server = await startServer(LIMITED);
    const [a, b] = [await connect(server.url), await connect(server.url)];
    const room = uniqueRoom();
    await login(b, 'bob', room);
    await pings(a, 10);
    const since = mark();
    expectError(await a.request('login', { name: 'alice', room }), 'RATE_LIMITED');
    expectError(await a.request('call', { userToCall: b.id, signal: { sdp: 'x' } }), 'RATE_LIMITED');
    await b.barrier();
    await sleep(250);
    expect(b.eventsSince(since)).toEqual([]);
    await sleep(2100);
    expectError(await a.request('listUsers'), 'NOT_LOGGED_IN');
    expect((await b.request<{ users: unknown[] }>('listUsers')).users).toHaveLength(1);
  });

  it('is per socket: another socket is unaffected', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    const b = await connect(server.url);
    await pings(a, 15);
    expect(await pings(b, 10)).toEqual(Array(10).fill(b.id));
  });

  it('gives tokens back at the sustained rate: one after 1/RATE, a full burst after BURST/RATE', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    await pings(a, 12);
    expectError(await a.request('ping'), 'RATE_LIMITED');
    await sleep(260); // 1/5 s: one token
    expect(await a.request('ping')).toBe(a.id);
    await sleep(2100); // 10/5 s: a full bucket
    expect(await pings(a, 10)).toEqual(Array(10).fill(a.id));
  });

  it('never refuses a socket that keeps to the sustained rate', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    const replies: unknown[] = [];
    for (let i = 0; i < 16; i++) {
      replies.push(await a.request('ping'));
      await sleep(210); // a little under 5/s
    }
    expect(replies).toEqual(Array(16).fill(a.id));
  });

  it('holds a socket that never stops sending well below twice the sustained rate', async () => {
    const server = await startServer({ RATE_LIMIT_PER_SEC: '20', RATE_LIMIT_BURST: '20' });
    const a = await connect(server.url);
    let accepted = 0;
    const started = Date.now();
    // 60 events a second (3× the limit, under the flood threshold) for 3 seconds.
    while (Date.now() - started < 3000) {
      const batch = await Promise.all(Array.from({ length: 3 }, () => a.request<unknown>('ping')));
      accepted += batch.filter((r) => r === a.id).length;
      await sleep(50);
    }
    const seconds = (Date.now() - started) / 1000;
    expect(a.connected).toBe(true);
    // burst + sustained over the period, with the BurstyRateLimiter's extra allowance (< 2×).
    expect(accepted).toBeGreaterThanOrEqual(20 + 20 * seconds * 0.8);
    expect(accepted).toBeLessThan(20 + 2 * 20 * seconds);
  });

  it('keeps the order of the accepted messages of one sender', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    const b = await connect(server.url);
    const room = uniqueRoom();
    await login(a, 'alice', room);
    await login(b, 'bob', room);
    await sleep(2100);
    const since = mark();
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.request<unknown>('roomMessage', { message: `m${i}` })),
    );
    const accepted = replies.map((r, i) => (isErrorReply(r) ? undefined : `m${i}`)).filter(Boolean);
    expect(accepted.length).toBeGreaterThanOrEqual(10);
    await b.barrier();
    await sleep(100);
    expect(b.received('roomMessage', since).map((m) => m.message)).toEqual(accepted);
  });

  it('RATE_LIMIT_PER_SEC=0 turns it off', async () => {
    const server = await startServer({ RATE_LIMIT_PER_SEC: '0', RATE_LIMIT_BURST: '1' });
    const a = await connect(server.url);
    const replies = await pings(a, 500);
    expect(replies.every((r) => r === a.id)).toBe(true);
  });
});

describe('flood disconnect', () => {
  it('disconnects a socket that keeps flooding at many times the limit, and logs why (no payload)', async () => {
    const logger = new CaptureLogger();
    const server = await startServer(LIMITED, { logger });
    const a = await connect(server.url);
    const bystander = await connect(server.url);
    const marker = `FLOOD-PAYLOAD-${Math.random().toString(36).slice(2)}`;
    const started = Date.now();
    // ~200 events a second (40× the limit) until the server gives up on us.
    const timer = setInterval(() => {
      for (let i = 0; i < 10; i++) a.send('roomMessage', { message: marker });
    }, 50);
    try {
      const reason = await waitDisconnect(a, 10_000);
      expect(reason).toBe('io server disconnect');
    } finally {
      clearInterval(timer);
    }
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1500); // "for several seconds", not at the first burst
    expect(elapsed).toBeLessThan(8000);
    const lines = logger.find('flood-disconnect');
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe('warn');
    expect(JSON.stringify(lines[0].args)).toContain(a.id);
    expect(logger.text()).not.toContain(marker);
    // Others are unaffected.
    expect(await bystander.request('ping')).toBe(bystander.id);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^parley_flood_disconnects_total 1$/m);
  });

  it('does not disconnect for one large burst, however large', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    for (let i = 0; i < 500; i++) a.send('ping');
    await sleep(2500);
    expect(a.connected).toBe(true);
    expect(await a.request('ping')).toBe(a.id);
  });

  it('does not disconnect a socket that overshoots a little for a long time', async () => {
    const server = await startServer(LIMITED);
    const a = await connect(server.url);
    const started = Date.now();
    while (Date.now() - started < 4000) {
      for (let i = 0; i < 3; i++) a.send('ping'); // 3 every 200 ms: 15/s, 3× the limit
      await sleep(200);
    }
    expect(a.connected).toBe(true);
  });
});
