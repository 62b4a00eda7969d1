/**
 * Property-based fuzzing of every inbound event on live sockets (fast-check): thousands of
 * random payloads (wrong types, huge strings, deep nesting, `__proto__` / `constructor`
 * keys, binary, missing and extra arguments, with and without acks). Afterwards the server
 * still answers, a bystander room is untouched, nothing leaked (sockets, listeners, timers,
 * store entries) and Object.prototype is clean.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ConnectionCounter } from '../src/security/connection-counter.js';
import { RealtimeService } from '../src/common/realtime/realtime.service.js';
import type { User } from '../src/common/events.js';
import { closeAllClients, connect, joinRoom, sleep, uniqueRoom, type TestClient } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { COMPAT_EVENTS, CORE_EVENTS, FUZZ_KEYS, PROTOCOL_CODES, runFuzz } from '../scripts/fuzz-lib.mjs';
import { ERROR_CODES } from '../src/common/errors/error-codes.js';

const EVENTS = [...CORE_EVENTS, ...COMPAT_EVENTS];
const CODES = PROTOCOL_CODES;

const FUZZERS = 4;
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const ADMIN = 'fuzz-admin-token';

/** Placeholders replaced at send time by a fuzzer's current socket id. */
const TARGETS = Array.from({ length: FUZZERS }, (_, i) => `$target${i}`);

// ---------- arbitraries ----------

const keyArb = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...FUZZ_KEYS));
const anything = fc.anything({
  key: keyArb,
  maxDepth: 4,
  maxKeys: 6,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
});
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\n', 'a\u007fb', '😀'.repeat(40)),
);
const target = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TARGETS) }, { weight: 1, arbitrary: text });
const pollution = fc.constantFrom(
  JSON.parse(
    '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"message":"m","name":"n","room":"r","to":"$target0"}',
  ),
  JSON.parse('{"__proto__":{"polluted":"yes"}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  JSON.parse(
    '{"to":"$target1","signal":{"__proto__":{"polluted":"yes"}},"sdp":{"constructor":{"prototype":{"polluted":"yes"}}}}',
  ),
  JSON.parse('{"target":"$target2","__proto__":{"polluted":"yes"},"payload":{"__proto__":{"isAdmin":true}}}'),
  JSON.parse('[{"__proto__":{"polluted":"yes"}}]'),
);
/*
 * Huge and deep values are generated as small markers and expanded at send time, so that
 * fast-check can print a counterexample.
 */
const huge = fc.oneof(
  fc.integer({ min: 10_000, max: 300_000 }).map((n) => ({ $huge: n, kind: 'string' })),
  fc.integer({ min: 10_000, max: 100_000 }).map((n) => ({ $huge: n, kind: 'fields' })),
  // Over the frame limit: the transport closes the connection (a fresh fuzzer replaces it).
  fc.constant({ $huge: 600_000, kind: 'string' }),
);
const deep = fc
  .tuple(fc.integer({ min: 20, max: 1500 }), fc.boolean())
  .map(([depth, arrays]) => ({ $deep: depth, arrays }));

function expand(marker: Record<string, unknown>): unknown {
  if (typeof marker.$huge === 'number') {
    const n = marker.$huge;
    if (marker.kind === 'string') return 'x'.repeat(n);
    return {
      message: '\u0001'.repeat(n),
      signal: 's'.repeat(n),
      to: '$target0',
      name: 'n'.repeat(n),
      room: 'r'.repeat(n),
    };
  }
  let v: unknown = 'bottom';
  for (let i = 0; i < (marker.$deep as number); i++) v = marker.arrays ? [v] : { a: v, to: '$target1' };
  return v;
}

const validish: Record<string, fc.Arbitrary<unknown>> = {
  login: fc.record(
    {
      name: text,
      room: fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b'), text),
      publicKey: fc.option(text, { nil: undefined }),
    },
    { requiredKeys: ['name', 'room'] },
  ),
  roomMessage: fc.oneof(text, fc.record({ message: text })),
  call: fc.record({ userToCall: target, to: target, signal: anything, name: text }, { requiredKeys: [] }),
  answer: fc.oneof(fc.record({ to: target, signal: anything }), fc.record({ to: target, sdp: anything })),
  offer: fc.record({ to: target, sdp: anything }),
  candidate: fc.record({ to: target, candidate: anything }),
  signal: fc.record({ to: target, signal: anything }),
  hangup: fc.record({ to: target }),
  'send-message': fc.record({ message: text }),
  register: text,
  ready: text,
  message: fc.dictionary(keyArb, anything, { maxKeys: 4 }),
  messageOne: fc.record({ target: fc.oneof(target, text), payload: anything }),
};

const payload = (event: string): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 6, arbitrary: anything },
    { weight: 5, arbitrary: validish[event] ?? anything },
    { weight: 1, arbitrary: pollution },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: huge },
  );

interface Command {
  fuzzer: number;
  event: string;
  args: unknown[];
  ack: boolean;
}

const command: fc.Arbitrary<Command> = fc
  .tuple(fc.integer({ min: 0, max: FUZZERS - 1 }), fc.constantFrom(...EVENTS), fc.boolean())
  .chain(([fuzzer, event, ack]) =>
    fc
      .array(payload(event), { maxLength: 4 }) // 0 arguments (missing), 1, or extra ones
      .map((args) => ({ fuzzer, event, args, ack })),
  );

// ---------- harness ----------

function substitute(value: unknown, ids: string[], depth = 0): unknown {
  if (typeof value === 'string') {
    const i = TARGETS.indexOf(value);
    return i >= 0 ? ids[i] : value;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return value;
  if (Object.getPrototypeOf(value) !== null && ('$huge' in value || '$deep' in value)) {
    return substitute(expand(value as Record<string, unknown>), ids, 2);
  }
  if (depth > 2) return value;
  const out: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key, {
      value: substitute((value as Record<string, unknown>)[key], ids, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Roughly the frame a payload makes (binary parts travel separately and are small here). */
function frameBytes(args: unknown[]): number {
  try {
    return Buffer.byteLength(JSON.stringify(args) ?? '');
  } catch {
    return 0;
  }
}

function prototypeSnapshot(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((p) => Object.getOwnPropertyNames(p).sort().join(','))
    .join('|');
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/**
 * The handles an idle server keeps. Short-lived timers come and go even when nothing
 * happens (one fires about every second here), so a single snapshot can catch one in
 * flight and make the later check fail for no leak. The floor over two seconds
 * of samples is what stays: a leak raises it, a transient timer does not.
 */
async function idleResourceCounts(): Promise<Record<string, number>> {
  const floor = resourceCounts();
  for (let i = 0; i < 40; i++) {
    await sleep(50);
    const now = resourceCounts();
    for (const key of new Set([...Object.keys(floor), ...Object.keys(now)]))
      floor[key] = Math.min(floor[key] ?? 0, now[key] ?? 0);
  }
  for (const key of Object.keys(floor)) if (floor[key] === 0) delete floor[key];
  return floor;
}

describe('fuzzing every inbound event', () => {
  let server: TestServer;
  let bystanders: TestClient[];
  let bystanderRoom: string;
  let bystanderUsers: User[];
  const problems: string[] = [];
  const logger = new CaptureLogger();
  let fuzzed = false;
  /** Events sent with an ack that got none (counted, reported). */
  const silent = new Map<string, number>();
  let sent = 0;

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '0', RING_TIMEOUT_MS: '600000', ADMIN_TOKEN: ADMIN }, { logger });
    bystanderRoom = uniqueRoom('bystanders');
    bystanders = [await connect(server.url), await connect(server.url)];
    bystanderUsers = await joinRoom(bystanders, bystanderRoom, ['carol', 'dave']);
  });

  afterAll(async () => {
    closeAllClients();
    await sleep(100);
    await closeAllServers();
  });

  it('survives thousands of random payloads and leaks nothing', async () => {
    const io = server.app.get(RealtimeService).server;
    const protoBefore = prototypeSnapshot();
    const serverSocketListeners = () =>
      [...io.of('/').sockets.values()].map((s) => s.eventNames().reduce((n, e) => n + s.listenerCount(e), 0));
    const listenersBefore = serverSocketListeners();
    const nspListenersBefore = io
      .of('/')
      .eventNames()
      .map((e) => `${String(e)}:${io.of('/').listenerCount(e)}`)
      .join(',');
    const processListenersBefore = process
      .eventNames()
      .map((e) => `${String(e)}:${process.listenerCount(e)}`)
      .join(',');
    const resourcesBefore = await idleResourceCounts();
    const since = Math.max(...bystanders.map((b) => b.log.length));

    const fuzzers: TestClient[] = [];
    /** Why a fuzzer may be dropped in this batch: an oversized frame, or `ready` with a taken id. */
    const mayDrop = new Map<number, Set<string>>();
    const fresh = async (i: number) => {
      const c = await connect(server.url);
      c.socket.on('exception', (e: { code?: string; event?: string }) => {
        if (!CODES.has(String(e?.code)))
          problems.push(`exception with code ${String(e?.code)} for ${String(e?.event)}`);
      });
      c.socket.on('disconnect', (reason: string) => {
        const allowed = mayDrop.get(i) ?? new Set();
        const ok =
          reason === 'io client disconnect' ||
          (allowed.has('frame') && /^transport (close|error)$/.test(reason)) ||
          (allowed.has('ready') && reason === 'io server disconnect');
        if (!ok) problems.push(`fuzzer ${i} dropped unexpectedly: ${reason}`);
      });
      fuzzers[i] = c;
      // Some state to fuzz against: two fuzzers in a room, one in the lobby, one peer.
      if (i < 2) await c.request('login', { name: `fuzzer${i}-${c.id.slice(0, 6)}`, room: 'fuzz-a' });
      else if (i === 2) await c.request('register', `lobby-${c.id.slice(0, 6)}`);
      else c.send('ready', `peer-${c.id}`);
    };
    for (let i = 0; i < FUZZERS; i++) await fresh(i);

    /** A ping answered, or the socket legitimately gone. */
    const alive = (f: TestClient) =>
      new Promise<void>((resolve, reject) => {
        if (!f.connected) return resolve();
        const timer = setTimeout(
          () => (f.connected ? reject(new Error(`fuzzer ${f.id}: no answer to ping`)) : resolve()),
          3000,
        );
        f.socket.once('disconnect', () => {
          clearTimeout(timer);
          resolve();
        });
        f.socket.emit('ping', () => {
          clearTimeout(timer);
          resolve();
        });
      });

    const run = async (commands: Command[]) => {
      for (let i = 0; i < FUZZERS; i++) if (!fuzzers[i].connected) await fresh(i);
      mayDrop.clear();
      const ids = fuzzers.map((f) => f.id);
      const acks: Array<Promise<void>> = [];
      for (const cmd of commands) {
        const socket = fuzzers[cmd.fuzzer].socket as unknown as { emit(event: string, ...args: unknown[]): void };
        const args = cmd.args.map((a) => substitute(a, ids));
        const drop = mayDrop.get(cmd.fuzzer) ?? new Set<string>();
        if (frameBytes(args) > 350_000) drop.add('frame');
        if (cmd.event === 'ready') drop.add('ready');
        mayDrop.set(cmd.fuzzer, drop);
        sent += 1;
        if (!cmd.ack) {
          socket.emit(cmd.event, ...args);
          continue;
        }
        const client = fuzzers[cmd.fuzzer];
        acks.push(
          new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              client.socket.off('disconnect', done);
              resolve();
            };
            // A dropped socket never acks.
            client.socket.once('disconnect', done);
            const timer = setTimeout(() => {
              if (client.connected) silent.set(cmd.event, (silent.get(cmd.event) ?? 0) + 1);
              done();
            }, 1500);
            socket.emit(cmd.event, ...args, (reply: unknown) => {
              done();
              if (cmd.event !== 'ping' && (reply === null || typeof reply !== 'object'))
                problems.push(`${cmd.event}: non-object ack ${typeof reply}`);
              const code = (reply as { code?: unknown } | null)?.code;
              if (reply && typeof reply === 'object' && 'error' in reply && !CODES.has(String(code))) {
                problems.push(`${cmd.event}: ack with code ${String(code)}`);
              }
            });
          }),
        );
      }
      await Promise.all(acks);
      // The server still answers every fuzzer that is still connected.
      await Promise.all(fuzzers.map(alive));
      return prototypeSnapshot() === protoBefore;
    };

    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 24 }), run), {
      numRuns: NUM_RUNS,
      endOnFailure: true,
    });
    expect(sent).toBeGreaterThanOrEqual(2000);
    if (silent.size > 0) console.log('events sent with an ack that got none:', Object.fromEntries(silent));

    // Object.prototype and friends are unpolluted.
    expect(prototypeSnapshot()).toBe(protoBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();

    // Every fuzzer leaves.
    for (const f of fuzzers) f.close();
    const settle = async (check: () => Promise<boolean> | boolean) => {
      const deadline = Date.now() + 5000;
      while (!(await check()) && Date.now() < deadline) await sleep(100);
    };
    await settle(() => io.of('/').sockets.size === bystanders.length);
    expect(io.of('/').sockets.size).toBe(bystanders.length);

    // The server answers, and the bystanders' room is exactly as it was.
    for (const b of bystanders) expect(await b.request('ping')).toBe(b.id);
    const { users } = await bystanders[0].request<{ users: User[] }>('listUsers');
    expect(users).toEqual(bystanderUsers);
    const seen = bystanders.flatMap((b) => b.log.slice(since).map((r) => r.event)).filter((e) => !e.startsWith('ack:'));
    expect(seen.filter((e) => ['users', 'notification', 'roomMessage', 'call', 'exception'].includes(e))).toEqual([]);

    // No state left behind by the fuzzers: rooms, peer channel, connection count.
    await settle(async () => {
      const rooms = (await (
        await fetch(`${server.url}/rooms`, { headers: { Authorization: `Bearer ${ADMIN}` } })
      ).json()) as Array<{ room: string }>;
      return rooms.length === 1;
    });
    const rooms = (await (
      await fetch(`${server.url}/rooms`, { headers: { Authorization: `Bearer ${ADMIN}` } })
    ).json()) as Array<{ room: string; users: number }>;
    expect(rooms).toEqual([{ room: bystanderRoom, users: 2 }]);
    const peers = (await (
      await fetch(`${server.url}/connections`, { headers: { Authorization: `Bearer ${ADMIN}` } })
    ).json()) as unknown[];
    expect(peers).toEqual([]);
    expect(await server.app.get(ConnectionCounter).count('127.0.0.1')).toBe(bystanders.length);

    // No listener leaks: on the remaining sockets, the namespace and the process.
    expect(serverSocketListeners()).toEqual(listenersBefore);
    expect(
      io
        .of('/')
        .eventNames()
        .map((e) => `${String(e)}:${io.of('/').listenerCount(e)}`)
        .join(','),
    ).toBe(nspListenersBefore);
    expect(
      process
        .eventNames()
        .map((e) => `${String(e)}:${process.listenerCount(e)}`)
        .join(','),
    ).toBe(processListenersBefore);

    // No timer or handle leaks (ring timeouts are 10 minutes here: a forgotten call would show).
    // The same floor, sampled the same way, must not be higher for any kind of handle. (It can
    // be lower: a timer the set-up left running, a keep-alive socket, may end meanwhile.)
    const leaked = (after: Record<string, number>) =>
      Object.fromEntries(Object.entries(after).filter(([kind, n]) => n > (resourcesBefore[kind] ?? 0)));
    let resourcesAfter = await idleResourceCounts();
    const deadline = Date.now() + 5000;
    while (Object.keys(leaked(resourcesAfter)).length > 0 && Date.now() < deadline)
      resourcesAfter = await idleResourceCounts();
    expect({ leaked: leaked(resourcesAfter), before: resourcesBefore }).toEqual({
      leaked: {},
      before: resourcesBefore,
    });

    fuzzed = true;
  }, 120_000);

  it('no fuzzed request ended in an unexpected error (INTERNAL) or an unexpected disconnect', () => {
    expect(fuzzed).toBe(true);
    // Each distinct problem once, with the server's own error lines.
    const errors = [
      ...new Set(
        logger.lines
          .filter((l) => l.level === 'error' || l.level === 'fatal')
          .map((l) => JSON.stringify(l.args).slice(0, 300)),
      ),
    ];
    expect({ problems: [...new Set(problems)], errors }).toEqual({ problems: [], errors: [] });
  });
});

/**
 * A seeded run of the generator `npm run fuzz` uses (scripts/fuzz-lib.mjs): about 5,000
 * events from 24 sockets and a raw WebSocket lane (compatibility and v1.1 events, deep
 * nesting as raw frames, frames up to and over the limit, binary attachments, malformed
 * frames). Afterwards: no problem seen by the runner (every ack a protocol code, none
 * missing, no unexpected disconnect), `ping` and /health answer, Object.prototype is clean
 * and the server logged no error.
 */
describe("the fuzzer's copy of the protocol", () => {
  it("accepts exactly the error table's codes but INTERNAL", () => {
    // scripts/ runs against a built server without TypeScript, so it keeps its own lists.
    expect([...PROTOCOL_CODES].sort()).toEqual(
      Object.keys(ERROR_CODES)
        .filter((c) => c !== 'INTERNAL')
        .sort(),
    );
  });
});

describe('a seeded run of the npm run fuzz generator', () => {
  const logger = new CaptureLogger();
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '0' }, { logger });
  });
  afterAll(async () => {
    closeAllClients();
    await closeAllServers();
  });

  it('answers 5,000 random events cleanly and stays healthy', async () => {
    const protoBefore = prototypeSnapshot();
    const report = await runFuzz({ urls: [server.url], events: 5_000, seed: 20261201, sockets: 24 });
    expect(report.events).toBe(5_000);
    expect({ problems: report.problems, internal: report.codes.INTERNAL ?? 0 }).toEqual({ problems: [], internal: 0 });
    // The traffic reached the handlers: successes and refusals of several kinds, raw and malformed frames.
    expect(report.codes.ok).toBeGreaterThan(100);
    expect(report.codes.VALIDATION).toBeGreaterThan(100);
    expect(report.raw).toBeGreaterThan(50);
    expect(report.malformed).toBeGreaterThan(20);

    expect(prototypeSnapshot()).toBe(protoBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const probe = await connect(server.url);
    expect(await probe.request('ping')).toBe(probe.id);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const errors = [
      ...new Set(
        logger.lines
          .filter((l) => l.level === 'error' || l.level === 'fatal')
          .map((l) => JSON.stringify(l.args).slice(0, 300)),
      ),
    ];
    expect(errors).toEqual([]);
  }, 180_000);
});
