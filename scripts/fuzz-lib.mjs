/**
 * The fuzzer shared by `npm run fuzz` (scripts/fuzz.mjs, against built servers) and the
 * jest suite (test/fuzz.e2e-spec.ts, a seeded run against in-process servers): a seeded
 * generator of client-to-server traffic and a runner that drives it from many sockets.
 *
 * Traffic: every client-to-server event (core, compatibility, the v1.1 `history` and
 * `direct`, and names no server handles) with random JSON: wrong types, text with control
 * characters and lone surrogates, sizes up to and over the frame limit, deep nesting (sent
 * as raw frames: the Socket.IO client's own encoder recurses and cannot send it), huge
 * arrays, `__proto__` / `constructor` / `prototype` keys, binary attachments, with and
 * without acks, plus raw malformed frames on plain WebSocket connections.
 *
 * Sockets (24 by default, at least 20): logged-in members of a few rooms, pairs in an
 * active call, peer-channel peers, lobby sockets and plain ones; their ids are the targets
 * of the generated calls and relays. A socket the server drops for a reason the traffic
 * allows (a frame over the limit, a taken peer id, a malformed frame) is replaced.
 *
 * The runner reports what it saw; what counts as a failure is in `problems`: an ack with a
 * code outside the protocol's (INTERNAL included), a non-object ack, a handled event with
 * an ack that never came, an `exception` with a bad code, an unexpected disconnect.
 */
import { io } from 'socket.io-client';
import WebSocket from 'ws';

export const CORE_EVENTS = [
  'login',
  'logout',
  'roomMessage',
  'listUsers',
  'ping',
  'call',
  'answer',
  'offer',
  'candidate',
  'signal',
  'hangup',
  'iceServers',
  // v1.2 redaction, presence, typing, receipts and room calls.
  'redact',
  'setStatus',
  'typing',
  'read',
  'receipts',
  'joinCall',
  'leaveCall',
  'callSignal',
];
export const COMPAT_EVENTS = ['send-message', 'register', 'getOnlineUsers', 'ready', 'message', 'messageOne'];
/** v1.1 events; a server without them must ignore them (no handler, no ack) or refuse them cleanly. */
export const V11_EVENTS = ['history', 'direct'];
const UNKNOWN_EVENTS = [
  'nope',
  'toString',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'exception',
  'me',
  'users',
  'kicked',
];
/** Names Socket.IO itself refuses (a parse error that closes the connection): sent raw only. */
const RESERVED_EVENTS = ['connect', 'disconnect', 'disconnecting', 'newListener', 'removeListener', 'connect_error'];
const HANDLED = new Set([...CORE_EVENTS, ...COMPAT_EVENTS]);

export const PROTOCOL_CODES = new Set([
  'VALIDATION',
  'NOT_LOGGED_IN',
  'ALREADY_LOGGED_IN',
  'NAME_TAKEN',
  'ROOM_FULL',
  'NOT_FOUND',
  'NO_CALL',
  'ALREADY_IN_CALL',
  'CALL_FULL',
  'FORBIDDEN',
  'SELF_CALL',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'UNAVAILABLE',
]);

/** Property names worth trying: prototype keys, identity fields the server must ignore, real fields. */
export const FUZZ_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'from',
  'fromId',
  'id',
  'user',
  'socketId',
  'to',
  'target',
  'message',
  'name',
  'room',
  'signal',
  'sdp',
  'candidate',
  'payload',
  'items',
  'since',
  'epoch',
  'limit',
  'a',
  '',
];
const STRINGS = [
  '',
  ' ',
  '\u0000',
  '\n',
  'a\u007fb',
  '\ud800',
  '\udfff',
  '😀',
  'é',
  '"\\',
  '\u2028',
  'fuzz-a',
  'all',
  '__proto__',
  'null',
];

/** A small, fast, seedable PRNG (mulberry32). */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
  };
}

function own(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  return obj;
}

/**
 * The traffic generator. `ctx` gives the current targets: `ids()` (socket ids) and
 * `peers()` (peer ids). `frameLimit`: the server's largest frame.
 */
export function createGenerator(seed, frameLimit) {
  const r = prng(seed);

  const text = () => {
    switch (r.int(6)) {
      case 0:
        return r.pick(STRINGS);
      case 1:
        return Array.from({ length: r.int(40) }, () => String.fromCharCode(r.int(0x10000))).join('');
      case 2:
        return 'x'.repeat(r.range(1, 64));
      case 3:
        return `${r.pick(STRINGS)}${r.int(1000)}${r.pick(STRINGS)}`;
      case 4:
        return 'n'.repeat(r.range(30, 70));
      default:
        return Math.random()
          .toString(36)
          .slice(2, 2 + r.range(1, 10));
    }
  };

  const scalar = () => {
    switch (r.int(8)) {
      case 0:
        return null;
      case 1:
        return r.chance(0.5);
      case 2:
        return r.int(2 ** 31) - 2 ** 30;
      case 3:
        return r.next() * 1e6;
      case 4:
        return r.pick([0, -0, 1e308, -1e-308, Number.MAX_SAFE_INTEGER + 2]);
      default:
        return text();
    }
  };

  const value = (depth = 0) => {
    const roll = r.int(10);
    if (depth >= 4 || roll < 5) return scalar();
    if (roll < 7) return Array.from({ length: r.int(6) }, () => value(depth + 1));
    if (roll < 9) {
      const o = r.chance(0.1) ? Object.create(null) : {};
      for (let i = r.int(6); i > 0; i--) own(o, r.chance(0.7) ? r.pick(FUZZ_KEYS) : text(), value(depth + 1));
      return o;
    }
    return Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256)));
  };

  const target = (ctx) => {
    const roll = r.int(10);
    if (roll < 6) return r.pick(ctx.ids()) ?? text();
    if (roll < 8) return r.pick(ctx.peers()) ?? text();
    return r.chance(0.5) ? text() : scalar();
  };

  /** A payload shaped like the event's, with random holes and wrong types. */
  const validish = (event, ctx) => {
    const maybe = (v) => (r.chance(0.85) ? v : value());
    switch (event) {
      case 'login':
        return {
          name: maybe(text()),
          room: maybe(r.pick(['fuzz-a', 'fuzz-b', text()])),
          ...(r.chance(0.3) && { publicKey: maybe(text()) }),
        };
      case 'roomMessage':
      case 'send-message':
        return r.chance(0.3) ? text() : { message: maybe(text()) };
      case 'call':
        return {
          userToCall: maybe(target(ctx)),
          ...(r.chance(0.3) && { to: target(ctx) }),
          ...(r.chance(0.5) && { signal: value() }),
          ...(r.chance(0.3) && { name: maybe(text()) }),
        };
      case 'answer':
        return r.chance(0.5) ? { to: maybe(target(ctx)), signal: value() } : { to: maybe(target(ctx)), sdp: value() };
      case 'offer':
        return { to: maybe(target(ctx)), sdp: value() };
      case 'candidate':
        return { to: maybe(target(ctx)), candidate: value() };
      case 'signal':
        return { to: maybe(target(ctx)), signal: value() };
      case 'hangup':
        return { to: maybe(target(ctx)) };
      case 'setStatus':
        return { status: maybe(r.pick(['online', 'away', 'busy'])) };
      case 'typing':
        return { active: maybe(r.chance(0.5)) };
      case 'read':
      case 'redact':
        return { offset: maybe(r.int(100)), epoch: maybe(text()) };
      case 'callSignal':
        return { to: maybe(target(ctx)), data: value() };
      case 'register':
        return maybe(text());
      case 'ready':
        return maybe(`fz-${text()}`);
      case 'message': {
        const o = {};
        for (let i = r.int(4); i > 0; i--) own(o, r.pick(FUZZ_KEYS), value());
        return o;
      }
      case 'messageOne':
        return { target: maybe(target(ctx)), payload: value() };
      case 'history':
        return {
          ...(r.chance(0.6) && { since: maybe(r.int(100)) }),
          ...(r.chance(0.5) && { epoch: maybe(text()) }),
          ...(r.chance(0.5) && { limit: maybe(r.int(2000)) }),
        };
      case 'direct':
        return { items: Array.from({ length: r.int(5) }, () => ({ to: target(ctx), payload: value() })) };
      default:
        return value();
    }
  };

  const pollution = () =>
    JSON.parse(
      r.pick([
        '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"message":"m","name":"n","room":"fuzz-a"}',
        '{"__proto__":{"polluted":"yes"}}',
        '{"constructor":{"prototype":{"polluted":"yes"}}}',
        '{"to":"x","signal":{"__proto__":{"polluted":"yes"}},"sdp":{"constructor":{"prototype":{"polluted":"yes"}}}}',
        '{"target":"x","__proto__":{"polluted":"yes"},"payload":{"__proto__":{"isAdmin":true}}}',
        '[{"__proto__":{"polluted":"yes"}}]',
        '{"items":[{"to":"x","payload":{"__proto__":{"polluted":"yes"}}}],"__proto__":[]}',
      ]),
    );

  /** JSON text nested `depth` deep (arrays or objects), with an opaque field name to put it under. */
  const deepJson = () => {
    // Arrays take 2 bytes a level, objects 6: keep most of them under the frame limit.
    const arrays = r.chance(0.6);
    const max = Math.floor((frameLimit - 1024) / (arrays ? 2 : 6));
    const depth = r.chance(0.5)
      ? r.range(33, 200)
      : r.chance(0.7)
        ? r.range(1_000, 20_000)
        : r.range(20_000, Math.min(150_000, max));
    return arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`;
  };

  return {
    /**
     * One action: `{ kind: 'emit', event, args, ack, risky }` (args are JS values; the
     * client encodes them, Buffers as binary attachments), `{ kind: 'raw', event, argsJson,
     * ack, risky }` (a frame written as text), or `{ kind: 'malformed', frame }` for a plain
     * WebSocket. `risky` says the server may close the connection for it.
     */
    next(ctx) {
      const roll = r.next();
      if (roll < 0.02) return { kind: 'malformed', frame: malformedFrame(r) };
      const events = [...CORE_EVENTS, ...COMPAT_EVENTS, ...V11_EVENTS];
      const event = r.chance(0.04) ? r.pick(UNKNOWN_EVENTS) : r.pick(events);
      const ack = r.chance(0.7);
      if (roll < 0.05) {
        // Deep nesting, under an opaque field of the event (or as the whole argument).
        const inner = deepJson();
        const field = {
          call: 'signal',
          answer: 'signal',
          offer: 'sdp',
          candidate: 'candidate',
          signal: 'signal',
          message: 'payload',
          messageOne: 'payload',
          direct: 'items',
        }[event];
        const to = JSON.stringify(r.pick(ctx.ids()) ?? 'x');
        const argsJson = field
          ? `{"to":${to},"userToCall":${to},"target":${JSON.stringify(r.pick(ctx.peers()) ?? 'x')},"${field}":${inner}}`
          : inner;
        return { kind: 'raw', event, argsJson, ack, risky: argsJson.length + 64 > frameLimit };
      }
      if (roll < 0.055) {
        // A reserved name: Socket.IO refuses the frame (and closes the connection).
        return { kind: 'raw', event: r.pick(RESERVED_EVENTS), argsJson: JSON.stringify(text()), ack, risky: true };
      }
      let args;
      let risky = false;
      if (roll < 0.06) {
        // Big: a long string or a huge array, up to and sometimes over the frame limit.
        const size = r.chance(0.15) ? frameLimit + r.range(1, 50_000) : r.range(10_000, frameLimit - 4_096);
        const big = r.chance(0.5) ? 'x'.repeat(size) : new Array(Math.floor(size / 2)).fill(0);
        // Whole, or as one field of an event-shaped object (the frame is the size plus a little).
        const field = r.pick(['message', 'signal', 'sdp', 'candidate', 'payload', 'items', 'name']);
        args = [
          r.chance(0.5) ? big : { [field]: big, to: r.pick(ctx.ids()) ?? 'x', target: r.pick(ctx.peers()) ?? 'x' },
        ];
        risky = size > frameLimit - 4_096;
      } else if (roll < 0.07) {
        args = [pollution()];
      } else if (roll < 0.075) {
        // Binary attachments, some large.
        const n = r.chance(0.1) ? r.range(50_000, 200_000) : r.int(2_048);
        args = [
          r.chance(0.5)
            ? Buffer.alloc(n, 7)
            : { message: Buffer.alloc(n, 1), signal: Buffer.alloc(n, 2), to: r.pick(ctx.ids()) ?? 'x' },
        ];
      } else {
        // 0 arguments (missing), 1, or extra ones; mostly event-shaped.
        const count = r.chance(0.1) ? 0 : r.chance(0.85) ? 1 : r.range(2, 4);
        args = Array.from({ length: count }, (_, i) => (i === 0 && r.chance(0.6) ? validish(event, ctx) : value()));
      }
      // The Socket.IO client mangles a binary attachment under an own `__proto__` key into a
      // packet the server's Socket.IO parser refuses: its decoder throws and Socket.IO closes
      // the connection ("forced close"), as for any malformed frame.
      return { kind: 'emit', event, args, ack, risky: risky || binaryUnderProto(args, 0) };
    },
  };
}

function binaryUnderProto(v, depth) {
  if (v === null || typeof v !== 'object' || depth > 8) return false;
  if (Buffer.isBuffer(v)) return false;
  for (const key of Object.keys(v)) {
    if (key === '__proto__' && hasBuffer(v[key], 0)) return true;
    if (binaryUnderProto(v[key], depth + 1)) return true;
  }
  return false;
}

function hasBuffer(v, depth) {
  if (Buffer.isBuffer(v)) return true;
  if (v === null || typeof v !== 'object' || depth > 8) return false;
  return Object.keys(v).some((k) => hasBuffer(v[k], depth + 1));
}

/** A frame no well-behaved Socket.IO client sends. */
function malformedFrame(r) {
  const frames = [
    '42[',
    '4',
    '2',
    '42',
    '42{}',
    '42["x"',
    '42[1,2,3]',
    '42[null]',
    '42[]',
    '42"str"',
    '42[{"a":1}]',
    '451-["signal",{"_placeholder":true,"num":0}]',
    '452-["x",{"_placeholder":true,"num":7}]',
    '45-["x"]',
    '43abc',
    '439999999999999999999["x"]',
    '42999999999999999999999["ping"]',
    '41',
    '40',
    '40{"token":1}',
    '44{}',
    '4a',
    '4\u0000',
    '6',
    '5',
    '3',
    '1',
    '42["ping",' + '['.repeat(5000) + ']'.repeat(5000) + ']',
    '42/nope,["x"]',
    '42/,["x"]',
    '0',
    '42["__proto__",{}]',
    '42["constructor"]',
    '42["disconnect"]',
  ];
  if (r.chance(0.15)) return Buffer.from(Array.from({ length: r.int(256) }, () => r.int(256)));
  if (r.chance(0.1)) return `42["login",${'"' + 'x'.repeat(r.range(1, 5_000))}`;
  return r.pick(frames);
}

/**
 * Drives `events` generated actions against `urls` (round robin per socket) from
 * `sockets` sockets and one raw WebSocket lane. Resolves to the report.
 */
export async function runFuzz({
  urls,
  events,
  seed = 1,
  sockets = 24,
  frameLimit = 409_600,
  ackTimeoutMs = 10_000,
  log = () => {},
}) {
  if (sockets < 20) throw new Error('at least 20 sockets');
  const report = {
    events: 0,
    emits: 0,
    raw: 0,
    malformed: 0,
    acked: 0,
    ignored: 0,
    codes: {},
    drops: { allowed: 0, unexpected: 0 },
    reconnects: 0,
    exceptions: 0,
    problems: [],
    slowest: {},
    durationMs: 0,
  };
  const problem = (p) => {
    if (report.problems.length < 200) report.problems.push(p);
  };
  const started = Date.now();
  let remaining = events;
  const take = () => remaining-- > 0;

  const lanes = Array.from({ length: sockets }, (_, i) => ({
    i,
    url: urls[i % urls.length],
    role: role(i),
    socket: undefined,
    risky: false,
    peerId: undefined,
    recent: [],
  }));
  const ctx = {
    ids: () => lanes.map((l) => l.socket?.id).filter(Boolean),
    peers: () => lanes.map((l) => l.peerId).filter(Boolean),
  };

  const open = (lane) =>
    new Promise((resolve, reject) => {
      const socket = io(lane.url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 10_000 });
      const timer = setTimeout(() => reject(new Error('connect timeout')), 10_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        socket.close();
        reject(err);
      });
    });

  const request = (socket, event, ...args) =>
    new Promise((resolve) => {
      const done = (v) => {
        clearTimeout(timer);
        socket.off('disconnect', onGone);
        resolve(v);
      };
      const onGone = () => done(undefined);
      const timer = setTimeout(() => done(undefined), ackTimeoutMs);
      socket.once('disconnect', onGone);
      socket.emit(event, ...args, (reply) => done(reply));
    });

  const connectLane = async (lane) => {
    const socket = await open(lane);
    lane.socket = socket;
    lane.risky = false;
    lane.readySent = false;
    lane.peerId = undefined;
    socket.on('exception', (e) => {
      report.exceptions += 1;
      if (!PROTOCOL_CODES.has(String(e?.code)))
        problem(`exception with code ${String(e?.code)} for ${String(e?.event)}`);
    });
    socket.on('disconnect', (reason, details) => {
      if (reason === 'io client disconnect') return;
      if (details)
        reason = `${reason} (${details.description?.message ?? details.description ?? ''} ${details.context?.code ?? ''})`;
      // A `ready` whose id turns out taken disconnects the socket when its turn comes
      // (registrations run one at a time), possibly after later events.
      if (lane.risky || (lane.readySent && reason === 'io server disconnect')) report.drops.allowed += 1;
      else {
        report.drops.unexpected += 1;

        problem(
          `socket ${lane.i} (${lane.role}) dropped unexpectedly: ${reason}; its last actions: ${lane.recent.join(', ')}`,
        );
      }
    });
    // Its standing state.
    if (lane.role === 'member' || lane.role === 'caller') {
      await request(socket, 'login', { name: `fz${lane.i}-${socket.id.slice(0, 5)}`, room: `fuzz-${lane.i % 3}` });
    } else if (lane.role === 'peer') {
      lane.peerId = `peer-${lane.i}-${socket.id.slice(0, 5)}`;
      await request(socket, 'ready', lane.peerId);
    } else if (lane.role === 'lobby') {
      await request(socket, 'register', `lobby-${lane.i}`);
    }
  };

  for (const lane of lanes) await connectLane(lane);
  // Pairs of callers in an active call.
  for (const lane of lanes.filter((l) => l.role === 'caller' && l.i % 2 === 0)) {
    const callee = lanes[lane.i + 1];
    if (callee?.role !== 'caller') continue;
    const answered = new Promise((resolve) => callee.socket.once('call', resolve));
    await request(lane.socket, 'call', { userToCall: callee.socket.id, signal: 'offer' });
    await Promise.race([answered, new Promise((r) => setTimeout(r, 3_000))]);
    await request(callee.socket, 'answer', { to: lane.socket.id, signal: 'answer' });
  }

  const runLane = async (lane) => {
    const gen = createGenerator(seed * 1000 + lane.i, frameLimit);
    let sinceBarrier = 0;
    while (take()) {
      if (!lane.socket?.connected) {
        try {
          await connectLane(lane);
          report.reconnects += 1;
        } catch (err) {
          problem(`socket ${lane.i}: could not reconnect: ${err.message}`);
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
      }
      const action = gen.next(ctx);
      report.events += 1;
      if (action.kind === 'malformed') {
        // Handed to the raw lane's queue.
        malformedQueue.push(action.frame);
        report.malformed += 1;
        continue;
      }
      const socket = lane.socket;
      const t0 = Date.now();
      lane.recent.push(describe(action));

      if (lane.recent.length > 12) lane.recent.shift();
      if (action.event === 'ready') lane.readySent = true;
      if (action.risky) lane.risky = true;
      const handled = HANDLED.has(action.event);
      if (action.kind === 'raw') {
        report.raw += 1;
        const outcome = await rawEmit(socket, action.event, action.argsJson, action.ack, handled ? ackTimeoutMs : 0);
        if (action.ack) checkAck(action.event, outcome, socket, handled, action);
      } else {
        report.emits += 1;
        if (!action.ack) {
          socket.emit(action.event, ...action.args);
          // Now and then a round trip, so the socket's outbound buffer never piles up.
          if (++sinceBarrier >= 16) {
            sinceBarrier = 0;
            await request(socket, 'ping');
          }
        } else {
          const reply = await new Promise((resolve) => {
            const done = (v) => {
              clearTimeout(timer);
              socket.off('disconnect', onGone);
              resolve(v);
            };
            const onGone = () => done({ gone: true });
            const timer = handled ? setTimeout(() => done({ timeout: true }), ackTimeoutMs) : undefined;
            socket.once('disconnect', onGone);
            socket.emit(action.event, ...action.args, (...replies) => done({ reply: replies[0] }));
            if (!handled) afterBarrier(socket, () => done({ timeout: true }));
          });
          checkAck(action.event, reply, socket, handled, action);
        }
      }
      // After a risky action, wait for the server's verdict before going on.
      if (lane.risky && socket.connected) {
        const pong = await request(socket, 'ping');
        if (pong !== undefined) lane.risky = false;
      }
      const key = `${action.kind}:${action.event}`;
      report.slowest[key] = (report.slowest[key] ?? 0) + (Date.now() - t0);
    }
  };

  const checkAck = (event, outcome, socket, handled, action) => {
    if (outcome.gone) return;
    if (outcome.timeout) {
      if (!handled) {
        report.ignored += 1;
        return;
      }
      if (socket.connected) problem(`${event}: no ack within ${ackTimeoutMs} ms (${action.kind})`);
      return;
    }
    report.acked += 1;
    const reply = outcome.reply;
    if (!handled && !V11_EVENTS.includes(event)) problem(`${event}: an unknown event was acked`);
    if (event === 'ping') {
      if (typeof reply !== 'string' && !(reply && typeof reply === 'object' && 'code' in reply))
        problem(`ping: ack ${typeof reply}`);
      return;
    }
    if (reply === null || typeof reply !== 'object') {
      problem(`${event}: non-object ack ${typeof reply}`);
      return;
    }
    if ('error' in reply) {
      const code = String(reply.code);
      report.codes[code] = (report.codes[code] ?? 0) + 1;
      if (!PROTOCOL_CODES.has(code)) problem(`${event}: ack with code ${code}: ${String(reply.error).slice(0, 120)}`);
    } else {
      report.codes.ok = (report.codes.ok ?? 0) + 1;
    }
  };

  // The raw lane: a plain WebSocket speaking Engine.IO / Socket.IO by hand.
  const malformedQueue = [];
  let lanesDone = false;
  const runRaw = async () => {
    let ws;
    let connected = false;
    const openRaw = () =>
      new Promise((resolve) => {
        const u = new URL(urls[0]);
        ws = new WebSocket(`ws://${u.host}/socket.io/?EIO=4&transport=websocket`);
        connected = false;
        const timer = setTimeout(() => resolve(false), 5_000);
        ws.on('message', (data) => {
          const s = data.toString();
          if (s.startsWith('0')) ws.send('40');
          else if (s.startsWith('40')) {
            connected = true;
            clearTimeout(timer);
            resolve(true);
          } else if (s === '2') ws.send('3'); // Engine.IO ping
        });
        ws.on('error', () => undefined);
        ws.on('close', () => {
          connected = false;
          clearTimeout(timer);
          resolve(false);
        });
      });
    while (!lanesDone || malformedQueue.length > 0) {
      const frame = malformedQueue.shift();
      if (frame === undefined) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (!connected && !(await openRaw())) continue;
      ws.send(frame);
      await new Promise((r) => setTimeout(r, 2));
    }
    ws?.close();
  };

  const raw = runRaw();
  let lastLog = Date.now();
  const progress = setInterval(() => {
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      log(`fuzz: ${report.events}/${events} events, ${report.problems.length} problems`);
    }
  }, 1_000);
  try {
    await Promise.all(lanes.map(runLane));
  } finally {
    lanesDone = true;
    await raw;
    clearInterval(progress);
    for (const lane of lanes) lane.socket?.close();
  }
  report.durationMs = Date.now() - started;
  return report;
}

/** A short description of an action, for reports (sizes only, never the payload). */
function describe(action) {
  let size = 0;
  try {
    size = action.kind === 'raw' ? action.argsJson.length : Buffer.byteLength(JSON.stringify(action.args) ?? '');
  } catch {
    size = -1;
  }
  return `${action.kind}:${action.event}${action.ack ? '+ack' : ''}(${size} B${action.risky ? ', risky' : ''})`;
}

function role(i) {
  if (i < 8) return 'member';
  if (i < 12) return 'caller';
  if (i < 16) return 'peer';
  if (i < 20) return 'lobby';
  return 'plain';
}

/**
 * Writes `["event", ...args]` as a raw Socket.IO frame (the args as JSON text) on the
 * socket's engine, and reads the ack from the raw frames.
 */
let rawAckIds = 1_000_000;
function rawEmit(socket, event, argsJson, ack, timeoutMs) {
  const engine = socket.io.engine;
  const body = `[${JSON.stringify(event)},${argsJson}]`;
  if (!ack) {
    engine.write(`2${body}`);
    return Promise.resolve({ reply: undefined });
  }
  const id = rawAckIds++;
  return new Promise((resolve) => {
    const done = (v) => {
      clearTimeout(timer);
      engine.off('message', onMessage);
      socket.off('disconnect', onGone);
      resolve(v);
    };
    const onMessage = (data) => {
      if (typeof data === 'string' && data.startsWith(`3${id}[`))
        done({ reply: JSON.parse(data.slice(`3${id}`.length))[0] });
    };
    const onGone = () => done({ gone: true });
    const timer = timeoutMs > 0 ? setTimeout(() => done({ timeout: true }), timeoutMs) : undefined;
    engine.on('message', onMessage);
    socket.once('disconnect', onGone);
    engine.write(`2${id}${body}`);
    if (timeoutMs === 0) afterBarrier(socket, () => done({ timeout: true }));
  });
}

/**
 * Calls `fn` once a ping sent now has been answered (and a moment more): the server
 * handles a socket's events in order, so an event with no handler has had its chance to
 * be acked by then (it never is). Gives up after 10 s.
 */
function afterBarrier(socket, fn) {
  const finish = () => {
    clearTimeout(timer);
    socket.off('disconnect', finish);
    fn();
  };
  const timer = setTimeout(finish, 10_000);
  socket.once('disconnect', finish);
  socket.emit('ping', () => setTimeout(finish, 20));
}
