/**
 * Webhooks against a real HTTP receiver: every event type with its exact body and a valid
 * signature, occupied/vacated alternating (also with two nodes racing), retries with the
 * same id after 500s, time-outs and redirects (never followed), a deadline that survives
 * garbage collections, the retry schedule behind a backlog, a full queue, a shutdown that
 * leaves nothing open, and chat that keeps its pace while the receiver is down. Real
 * socket.io clients, real HTTP, real Redis for the two-node cases.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createApp } from '../src/app.js';
import type { WebhookEvent, WebhookType } from '../src/webhooks/webhook-event.js';
import { WebhookSenderService } from '../src/webhooks/webhook-sender.service.js';
import { expectOk } from './helpers/assert.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { closeAllClients, connect, login, sleep, uniqueRoom, type TestClient } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { verifySignature, WebhookReceiver, type ReceivedHook } from './helpers/webhook-receiver.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, type RedisNode } from './helpers/redis.js';

const SECRET = 'whsec-test-0123456789';
const ADMIN = 'hooks-admin';

let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await new WebhookReceiver().start();
});

afterEach(async () => {
  closeAllClients();
  await closeAllServers();
  await receiver.close();
});

function hookEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_RETRY_BASE_MS: '50',
    ADMIN_TOKEN: ADMIN,
    ...extra,
  };
}

function typesOf(events: WebhookEvent[]): WebhookType[] {
  return events.map((e) => e.type);
}

/** One event of `type` whose data matches; fails when there is none or more than one. */
function only(type: WebhookType, match: Record<string, unknown>): WebhookEvent {
  const found = receiver
    .events()
    .filter(
      (e) =>
        e.type === type &&
        Object.entries(match).every(
          ([k, v]) => JSON.stringify((e.data as Record<string, unknown>)[k]) === JSON.stringify(v),
        ),
    );
  const ids = new Set(found.map((e) => e.id));
  expect(ids.size).toBe(1);
  return found[0];
}

async function metric(server: { url: string }, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** A full garbage collection on demand, whether or not Node was started with --expose-gc. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  // A fresh context sees the flag; the collection it runs is the whole isolate's.
  return runInNewContext('gc') as () => void;
}

/** The hooks carrying the first event of `type` (its first try and its retries). */
function attemptsOfFirst(type: WebhookType): ReceivedHook[] {
  const first = receiver.hooks.find((h) => h.event.type === type);
  return first ? receiver.hooks.filter((h) => h.event.id === first.event.id) : [];
}

async function call(caller: TestClient, callee: TestClient): Promise<void> {
  expectOk(await caller.request('call', { userToCall: callee.id, signal: { sdp: 'offer-secret-sdp' } }));
  await callee.waitFor('call', (c) => c.from === caller.id);
}

describe('configuration', () => {
  it('refuses to start with WEBHOOK_URL but no WEBHOOK_SECRET, or with a URL that is not http(s)', async () => {
    await expect(createApp({ env: { WEBHOOK_URL: 'http://127.0.0.1:9/x' }, logger: false })).rejects.toThrow(
      /WEBHOOK_SECRET/,
    );
    await expect(
      createApp({ env: { WEBHOOK_URL: 'ftp://example.com/x', WEBHOOK_SECRET: 's' }, logger: false }),
    ).rejects.toThrow(/WEBHOOK_URL/);
    await expect(createApp({ env: { WEBHOOK_URL: 'not a url', WEBHOOK_SECRET: 's' }, logger: false })).rejects.toThrow(
      /WEBHOOK_URL/,
    );
  });
});

describe('every event type, one node', () => {
  it('sends each event once with its exact body, headers and a valid signature', async () => {
    const server = await startServer(hookEnv({ RING_TIMEOUT_MS: '300' }));
    const room = uniqueRoom('types');
    const [a, b, c] = [await connect(server), await connect(server), await connect(server)];
    const before = Date.now();
    const ua = await login(a, 'alice', room, { publicKey: 'PUBLIC-KEY-alice' });
    const ub = await login(b, 'bob', room);
    await a.waitFor('users', (l) => l.length === 2);

    // call.started (answered) and call.ended (hangup).
    await call(b, a);
    expectOk(await a.request('answer', { to: b.id, signal: { sdp: 'answer-secret-sdp' } }));
    expectOk(await b.request('answer', { to: a.id, signal: { renegotiate: true } })); // active already: no second start
    expectOk(await a.request('hangup', { to: b.id }));
    // call.ended (timeout), never answered.
    await call(a, b);
    await b.waitFor('ended', (e) => e.reason === 'timeout', 3000);
    // call.ended (disconnected), answered.
    const uc = await login(c, 'carol', room);
    await call(c, b);
    expectOk(await b.request('answer', { to: c.id, signal: {} }));
    c.close();
    await b.waitFor('ended', (e) => e.reason === 'disconnected');
    // user.left: logout, kick; the room empties.
    expectOk(await b.request('logout'));
    const kick = await fetch(`${server.url}/rooms/${room}/users/${a.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    expect(kick.status).toBe(204);

    await receiver.until(
      (h) => h.filter((x) => x.event.type === 'room.vacated').length === 1 && h.length >= 12,
      5000,
      'twelve events',
    );
    await sleep(200); // nothing more arrives

    const user = (u: typeof ua) => ({ id: u.id, name: u.name, joinedAt: u.joinedAt });
    const expected: Array<[WebhookType, Record<string, unknown>]> = [
      ['room.occupied', { room }],
      ['user.joined', { room, user: user(ua) }],
      ['user.joined', { room, user: user(ub) }],
      ['call.started', { callerId: b.id, calleeId: a.id }],
      ['call.ended', { callerId: b.id, calleeId: a.id, reason: 'hangup' }],
      ['call.ended', { callerId: a.id, calleeId: b.id, reason: 'timeout' }],
      ['user.joined', { room, user: user(uc) }],
      ['call.started', { callerId: c.id, calleeId: b.id }],
      ['call.ended', { callerId: c.id, calleeId: b.id, reason: 'disconnected' }],
      ['user.left', { room, user: user(uc), reason: 'disconnect' }],
      ['user.left', { room, user: user(ub), reason: 'logout' }],
      ['user.left', { room, user: user(ua), reason: 'kicked' }],
      ['room.vacated', { room }],
    ];
    expect(receiver.hooks).toHaveLength(expected.length);
    for (const [type, data] of expected) {
      const event = only(type, data);
      expect(event).toEqual({ id: expect.any(String), type, at: expect.any(Number), data });
      expect(Object.keys(event).sort()).toEqual(['at', 'data', 'id', 'type']);
      expect(event.at).toBeGreaterThanOrEqual(before);
    }
    expect(new Set(receiver.hooks.map((h) => h.event.id)).size).toBe(expected.length);
    for (const hook of receiver.hooks) {
      expect(hook.headers['content-type']).toMatch(/^application\/json/);
      expect(hook.headers['x-parley-timestamp']).toBe(String(hook.event.at));
      expect(hook.headers['x-parley-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verifySignature(SECRET, hook)).toBe(true);
      expect(verifySignature('another-secret', hook)).toBe(false);
      // Never the secret, a signal, a public key or a token.
      for (const secret of [SECRET, 'secret-sdp', 'PUBLIC-KEY', ADMIN, 'publicKey', 'signal']) {
        expect(hook.raw).not.toContain(secret);
        expect(JSON.stringify(hook.headers)).not.toContain(secret === 'signal' ? '"signal"' : secret);
      }
    }
  });

  it('never sends a message body', async () => {
    const server = await startServer(hookEnv());
    const room = uniqueRoom('body');
    const a = await connect(server);
    await login(a, 'alice', room);
    expectOk(await a.request('roomMessage', { message: 'CIPHERTEXT-do-not-leak' }));
    await a.request('logout');
    await receiver.until((h) => h.some((x) => x.event.type === 'room.vacated'));
    for (const hook of receiver.hooks) expect(hook.raw).not.toContain('CIPHERTEXT');
  });

  it('room.occupied and room.vacated alternate, once per change', async () => {
    const server = await startServer(hookEnv());
    const room = uniqueRoom('alt');
    const clients = [await connect(server), await connect(server), await connect(server)];
    for (let round = 0; round < 3; round++) {
      // Concurrent logins: one occupied; the last of concurrent leaves: one vacated.
      await Promise.all(clients.map((c, i) => login(c, `u${round}-${i}`, room)));
      await Promise.all(clients.map((c) => c.request('logout')));
    }
    await receiver.until((h) => h.filter((x) => x.event.type === 'room.vacated').length === 3);
    await sleep(200);
    expect(typesOf(receiver.events(room)).filter((t) => t.startsWith('room.'))).toEqual([
      'room.occupied',
      'room.vacated',
      'room.occupied',
      'room.vacated',
      'room.occupied',
      'room.vacated',
    ]);
  });
});

describe('delivery', () => {
  it('retries a 500 with the same id, body and signature, after growing pauses', async () => {
    receiver.decide = (event, attempt) =>
      event.type !== 'room.occupied' ? 200 : attempt === 1 ? 500 : attempt === 2 ? 503 : 200;
    const server = await startServer(hookEnv({ WEBHOOK_RETRY_BASE_MS: '100' }));
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom('retry'));
    // room.occupied: 500, 503, then 200; user.joined: 200.
    await receiver.until((h) => h.length >= 4);
    const occupied = receiver.hooks.filter((h) => h.event.type === 'room.occupied');
    expect(occupied).toHaveLength(3);
    expect(new Set(occupied.map((h) => h.raw)).size).toBe(1);
    expect(new Set(occupied.map((h) => h.headers['x-parley-signature'])).size).toBe(1);
    expect(occupied.every((h) => verifySignature(SECRET, h))).toBe(true);
    // Pauses of about 100 ms then 200 ms (never shorter than the schedule).
    expect(occupied[1].at - occupied[0].at).toBeGreaterThanOrEqual(90);
    expect(occupied[2].at - occupied[1].at).toBeGreaterThanOrEqual(190);
    await sleep(300);
    expect(receiver.hooks.filter((h) => h.event.type === 'room.occupied')).toHaveLength(3);
    expect(await metric(server, 'parley_webhooks_retried_total')).toBe(2);
    expect(await metric(server, 'parley_webhooks_sent_total')).toBe(2);
    expect(await metric(server, 'parley_webhooks_failed_total')).toBe(0);
  });

  it('retries a receiver that does not answer in time, with the same id', async () => {
    receiver.decide = (event, attempt) => (event.type === 'room.occupied' && attempt === 1 ? 'hang' : 200);
    const server = await startServer(hookEnv({ WEBHOOK_TIMEOUT_MS: '300' }));
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom('slow'));
    await receiver.until((h) => h.filter((x) => x.event.type === 'room.occupied').length === 2, 5000, 'the retry');
    const [first, second] = receiver.hooks.filter((h) => h.event.type === 'room.occupied');
    expect(second.event.id).toBe(first.event.id);
    expect(second.raw).toBe(first.raw);
    expect(second.at - first.at).toBeGreaterThanOrEqual(300);
    // Counted as a retry. (Not "exactly one": on a loaded machine another event's 200 can
    // miss a 300 ms deadline too and be retried as well.)
    expect(await metric(server, 'parley_webhooks_retried_total')).toBeGreaterThanOrEqual(1);
  });

  it('gives up after the last retry and counts the event as failed', async () => {
    receiver.fallback = 500;
    const server = await startServer(hookEnv({ WEBHOOK_RETRY_BASE_MS: '10' }));
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom('fail'));
    // Two events (occupied, joined), each tried once and retried six times.
    await receiver.until((h) => h.length >= 14, 5000, '14 attempts');
    await sleep(300);
    expect(receiver.hooks).toHaveLength(14);
    expect(await metric(server, 'parley_webhooks_failed_total')).toBe(2);
    expect(await metric(server, 'parley_webhooks_retried_total')).toBe(12);
  });

  it('keeps chat and signaling acks coming while the receiver is down, and drops what a full queue cannot hold', async () => {
    receiver.fallback = 'hang';
    const logger = new CaptureLogger();
    const server: TestServer = await startServer(hookEnv({ WEBHOOK_QUEUE_SIZE: '5', WEBHOOK_TIMEOUT_MS: '5000' }), {
      logger,
    });
    const room = uniqueRoom('down');
    const [a, b] = [await connect(server), await connect(server)];
    await login(a, 'alice', room);
    await login(b, 'bob', room);
    // Every webhook attempt is hanging: the receiver holds them, none answered.
    await receiver.until((h) => h.length >= 3, 3000, 'hanging attempts');
    for (let i = 0; i < 30; i++) {
      const ack = await a.request<{ id: string }>('roomMessage', { message: `m${i}` });
      expect(typeof ack.id).toBe('string');
      await b.waitFor('roomMessage', (m) => m.message === `m${i}`);
    }
    for (let i = 0; i < 5; i++) {
      await call(a, b);
      expectOk(await b.request('answer', { to: a.id, signal: {} }));
      expectOk(await a.request('hangup', { to: b.id }));
      await b.waitFor('ended', (e) => e.reason === 'hangup');
    }
    expect(await metric(server, 'parley_webhooks_sent_total')).toBe(0);
    expect(await metric(server, 'parley_webhooks_queued')).toBe(5);
    // 3 presence events + 10 call events, 5 held: at least 8 dropped.
    expect(await metric(server, 'parley_webhooks_dropped_total')).toBeGreaterThanOrEqual(8);
    // Logged, but once per interval, not once per drop.
    const full = logger.lines.filter(
      (l) => l.level === 'warn' && JSON.stringify(l.args).includes('webhook-queue-full'),
    );
    expect(full).toHaveLength(1);
    // Never a secret or a body in the logs either.
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
  });
});

describe('deadline, schedule, redirects, shutdown', () => {
  it('keeps the deadline through garbage collections: a receiver that never answers gets the retry in time', async () => {
    const gc = collector();
    receiver.decide = (event, attempt) => (event.type === 'room.occupied' && attempt === 1 ? 'hang' : 200);
    const server = await startServer(hookEnv({ WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_RETRY_BASE_MS: '50' }));
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom('gc'));
    await receiver.until((h) => h.some((x) => x.event.type === 'room.occupied'), 5000, 'the first try');
    // Collect while the request is held: a deadline the collector can take never fires.
    const collecting = setInterval(gc, 20);
    try {
      // The deadline (300 ms), the first pause (50 ms), and room for a loaded machine.
      await receiver.until(() => attemptsOfFirst('room.occupied').length >= 2, 300 + 50 + 2500, 'the retry');
    } finally {
      clearInterval(collecting);
    }
    const [first, second] = attemptsOfFirst('room.occupied');
    expect(second.raw).toBe(first.raw);
    expect(second.at - first.at).toBeGreaterThanOrEqual(300);
    // Counted as a retry. (Not "exactly one": on a loaded machine another event's 200 can
    // miss a 300 ms deadline too and be retried as well.)
    expect(await metric(server, 'parley_webhooks_retried_total')).toBeGreaterThanOrEqual(1);
  });

  it('keeps the retry schedule (1 s, 2 s, 4 s by default) while a backlog of other events waits', async () => {
    // Every event fails, each answer taking 200 ms: four slots get through 20 attempts a second.
    const answerMs = 200;
    receiver.fallback = { status: 500, delayMs: answerMs };
    const server = await startServer(hookEnv({ WEBHOOK_RETRY_BASE_MS: '1000', WEBHOOK_TIMEOUT_MS: '5000' }));
    const clients = await Promise.all(Array.from({ length: 15 }, () => connect(server)));
    // 15 users each occupy, join, leave and vacate a room of their own, twice: 120 events,
    // six seconds of attempts queued behind the first event's first try.
    for (let round = 0; round < 2; round++) {
      await Promise.all(clients.map((c, i) => login(c, `u${i}`, uniqueRoom(`backlog${i}`))));
      await Promise.all(clients.map((c) => c.request('logout')));
    }
    await receiver.until(() => attemptsOfFirst('room.occupied').length >= 4, 20_000, 'three retries');
    const attempts = attemptsOfFirst('room.occupied');
    const gaps = attempts.slice(1, 4).map((h, i) => h.at - attempts[i].at);
    // As the receiver sees it: its own answer, then the pause; a retry that is due waits at
    // most for one 200 ms attempt to end, plus a loaded machine's slack.
    gaps.forEach((gap, i) => {
      const pause = 1000 * 2 ** i;
      expect(gap).toBeGreaterThanOrEqual(answerMs + pause - 20);
      expect(gap).toBeLessThanOrEqual(answerMs + pause + 1500);
    });
  }, 40_000);

  it('answers slowly but within the deadline: delivered once, not retried', async () => {
    receiver.fallback = { status: 204, delayMs: 400 };
    const server = await startServer(hookEnv({ WEBHOOK_TIMEOUT_MS: '1500' }));
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom('slow2xx'));
    await receiver.until((h) => h.length >= 2);
    await sleep(1500);
    expect(typesOf(receiver.events())).toEqual(['room.occupied', 'user.joined']);
    expect(await metric(server, 'parley_webhooks_sent_total')).toBe(2);
    expect(await metric(server, 'parley_webhooks_retried_total')).toBe(0);
  });

  it('never follows a redirect: a 307 or 302 is a failure, retried, and the other address gets nothing', async () => {
    const elsewhere = await new WebhookReceiver().start();
    try {
      const location = { Location: elsewhere.url };
      receiver.decide = (event) =>
        event.type === 'room.occupied' ? { status: 307, headers: location } : { status: 302, headers: location };
      const server = await startServer(hookEnv({ WEBHOOK_RETRY_BASE_MS: '10' }));
      const a = await connect(server);
      await login(a, 'alice', uniqueRoom('redirect'));
      // Two events (occupied: 307, joined: 302), each tried once and retried six times.
      await receiver.until((h) => h.length >= 14, 5000, '14 attempts');
      await sleep(300);
      expect(receiver.hooks).toHaveLength(14);
      expect(attemptsOfFirst('room.occupied')).toHaveLength(7);
      expect(attemptsOfFirst('user.joined')).toHaveLength(7);
      expect(elsewhere.requests).toEqual([]);
      expect(await metric(server, 'parley_webhooks_sent_total')).toBe(0);
      expect(await metric(server, 'parley_webhooks_failed_total')).toBe(2);
    } finally {
      await elsewhere.close();
    }
  });

  it('at shutdown aborts the requests in flight and forgets the retries waiting', async () => {
    // occupied fails once and waits a 1 s pause; joined hangs until the deadline of 5 s.
    receiver.decide = (event) => (event.type === 'room.occupied' ? 500 : 'hang');
    const server = await startServer(hookEnv({ WEBHOOK_RETRY_BASE_MS: '1000', WEBHOOK_TIMEOUT_MS: '5000' }));
    const sender = server.app.get(WebhookSenderService);
    const a = await connect(server);
    await login(a, 'alice', uniqueRoom('shutdown'));
    await receiver.until((h) => h.length >= 2);
    await sleep(100);
    expect(receiver.holding).toBe(1);
    expect(sender.size).toBe(2);
    const closing = Date.now();
    a.close();
    await server.close();
    expect(sender.size).toBe(0);
    // The held request is dropped by the server's side well before its deadline.
    while (receiver.holding > 0 && Date.now() - closing < 2000) await sleep(20);
    expect(receiver.holding).toBe(0);
    await sleep(1200);
    expect(receiver.hooks).toHaveLength(2);
  });
});

const describeRedis = await describeWithRedis('webhooks.e2e-spec');

describeRedis('two Redis nodes', () => {
  const prefix = runPrefix('webhooks');
  let nodes: RedisNode[] = [];

  afterEach(async () => {
    closeAllClients();
    await Promise.all(nodes.map((n) => n.close()));
    nodes = [];
  });

  afterAll(async () => {
    await deletePrefix(prefix);
  });

  it('each event once for the deployment; occupied/vacated once each when the last two leave at once on two nodes', async () => {
    nodes = [await startNode(prefix, hookEnv()), await startNode(prefix, hookEnv())];
    for (let round = 0; round < 4; round++) {
      const room = uniqueRoom('race');
      const [a, b] = [await connect(nodes[0].url), await connect(nodes[1].url)];
      const [ua, ub] = await Promise.all([login(a, 'alice', room), login(b, 'bob', room)]);
      await Promise.all([a.waitFor('users', (l) => l.length === 2), b.waitFor('users', (l) => l.length === 2)]);
      // Both leave at the same moment, one on each node (alternately by logout and by disconnect).
      if (round % 2 === 0) await Promise.all([a.request('logout'), b.request('logout')]);
      else {
        a.close();
        b.close();
      }
      await receiver.until(
        (h) => h.filter((x) => (x.event.data as { room?: string }).room === room).length >= 6,
        5000,
        `round ${round}`,
      );
      await sleep(300);
      const events = receiver.events(room);
      expect(typesOf(events).filter((t) => t.startsWith('room.'))).toEqual(['room.occupied', 'room.vacated']);
      expect(typesOf(events).filter((t) => t === 'user.joined')).toHaveLength(2);
      const reason = round % 2 === 0 ? 'logout' : 'disconnect';
      for (const u of [ua, ub]) {
        only('user.left', { room, user: { id: u.id, name: u.name, joinedAt: u.joinedAt }, reason });
      }
      expect(events).toHaveLength(6);
    }
  });

  it('a call across nodes starts and ends once', async () => {
    nodes = [await startNode(prefix, hookEnv()), await startNode(prefix, hookEnv())];
    const [a, b] = [await connect(nodes[0].url), await connect(nodes[1].url)];
    await call(a, b);
    // Both peers answer at once on their two nodes: one call.started.
    await Promise.all([b.request('answer', { to: a.id, signal: {} }), a.request('answer', { to: b.id, signal: {} })]);
    expectOk(await b.request('hangup', { to: a.id }));
    await receiver.until((h) => h.some((x) => x.event.type === 'call.ended'));
    await sleep(300);
    expect(receiver.events().map((e) => [e.type, e.data])).toEqual([
      ['call.started', { callerId: a.id, calleeId: b.id }],
      ['call.ended', { callerId: a.id, calleeId: b.id, reason: 'hangup' }],
    ]);
  });
});
