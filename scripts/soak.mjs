#!/usr/bin/env node
/**
 * Soak test: churns connections, logins, room messages and 1:1 calls against a RUNNING
 * Parley server for N minutes, and prints the server's memory and event-loop delay every
 * few seconds. Not part of `npm test`.
 *
 *   npm run build && PORT=3101 RATE_LIMIT_PER_SEC=0 node dist/main.js &
 *   npm run soak -- 10 http://127.0.0.1:3101 <server pid>
 *
 * Arguments (positional, all optional): minutes (default 10), server URL (default
 * http://127.0.0.1:3101, loopback only), server pid (RSS is then read from
 * /proc/<pid>/status; without it, from /metrics `parley_process_resident_memory_bytes`).
 * Environment: SOAK_CLIENTS (concurrent virtual users, default 40, at most 400),
 * SOAK_INTERVAL_S (report interval, default 5).
 *
 * Reading the output: one line per interval with the server's RSS, its event-loop delay
 * (p99 and max from /metrics, i.e. how late timers and I/O callbacks ran), the client-side
 * ping round trip, open connections and the work done so far. A healthy server shows RSS
 * rising during warm-up (JIT, pools, V8 heap growth) and then staying flat with a sawtooth
 * from garbage collection; a leak shows as RSS (and open connections, when they leak too)
 * climbing steadily interval after interval. The summary compares the RSS at the end of
 * warm-up (first minute) with the end of the run; event-loop p99 should stay in the low
 * milliseconds. `errors` counts timeouts and failed connects: it should stay at zero with
 * RATE_LIMIT_PER_SEC=0; `refused` counts error replies by code (a few NOT_FOUND / NO_CALL
 * are normal: a callee may leave while being called).
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io } from 'socket.io-client';

const minutes = Number(process.argv[2] ?? 10);
const url = new URL(process.argv[3] ?? 'http://127.0.0.1:3101');
const pid = process.argv[4] ? Number(process.argv[4]) : undefined;
const CLIENTS = Math.min(400, Math.max(2, Number(process.env.SOAK_CLIENTS ?? 40)));
const INTERVAL_S = Math.max(1, Number(process.env.SOAK_INTERVAL_S ?? 5));
const ROOMS = 8;

if (!(minutes > 0 && minutes <= 24 * 60)) fail('minutes must be between 0 and 1440');
if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname)) fail(`loopback only, not ${url.hostname}`);
if (pid !== undefined && !Number.isInteger(pid)) fail('the pid must be an integer');

function fail(msg) {
  process.stderr.write(`soak: ${msg}\n`);
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = (n) => Math.floor(Math.random() * n);

const stats = { connects: 0, logins: 0, messages: 0, calls: 0, errors: 0, refused: {}, rtts: [] };
let stopping = false;
const endAt = Date.now() + minutes * 60_000;

/** Emit with an ack and a timeout; resolves with the reply, or undefined (counted as an error). */
function request(socket, event, ...args) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      // A virtual user may close its socket while its callee handler still waits: not an error.
      if (socket.connected) stats.errors++;
      resolve(undefined);
    }, 5000);
    socket.emit(event, ...args, (reply) => {
      clearTimeout(timer);
      if (reply && typeof reply === 'object' && 'error' in reply)
        stats.refused[reply.code] = (stats.refused[reply.code] ?? 0) + 1;
      resolve(reply);
    });
  });
}

function connectClient() {
  return new Promise((resolve) => {
    const socket = io(url.origin, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 5000 });
    const done = (ok) => {
      clearTimeout(timer);
      if (!ok) {
        stats.errors++;
        socket.close();
      }
      resolve(ok ? socket : undefined);
    };
    const timer = setTimeout(() => done(false), 6000);
    socket.once('me', () => done(true));
    socket.once('connect_error', () => done(false));
  });
}

/** Who is online per room, so virtual users can call each other. */
const online = new Map(); // socket id -> { room, socket, busy }

/** One virtual user: connect, log in, chat, maybe call, leave; again and again. */
async function virtualUser(n) {
  while (!stopping && Date.now() < endAt) {
    const socket = await connectClient();
    if (!socket) {
      await sleep(500);
      continue;
    }
    stats.connects++;
    // The callee side: answer calls, relay a candidate back, hang up sometimes.
    socket.on('call', async ({ from }) => {
      const me = online.get(socket.id);
      if (!me || me.busy) return;
      me.busy = true;
      await request(socket, 'answer', { to: from, signal: { type: 'answer', sdp: 'v=0 soak answer' } });
      await request(socket, 'candidate', {
        to: from,
        candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0' },
      });
    });
    socket.on('ended', () => {
      const me = online.get(socket.id);
      if (me) me.busy = false;
    });
    const room = `soak-${rand(ROOMS)}`;
    const login = await request(socket, 'login', { name: `u${n}-${stats.connects}`, room, publicKey: 'k'.repeat(64) });
    if (login?.user) {
      stats.logins++;
      online.set(socket.id, { room, socket, busy: false });
      const rounds = 3 + rand(8);
      for (let i = 0; i < rounds && !stopping; i++) {
        if ((await request(socket, 'roomMessage', { message: 'x'.repeat(20 + rand(2000)) }))?.id) stats.messages++;
        if (i === 1) await request(socket, 'listUsers');
        if (i === 2 && Math.random() < 0.5) await placeCall(socket, room);
        await sleep(200 + rand(600));
      }
      const t0 = performance.now();
      if ((await request(socket, 'ping')) === socket.id) stats.rtts.push(performance.now() - t0);
      online.delete(socket.id);
      if (Math.random() < 0.5) await request(socket, 'logout');
    }
    socket.close();
    await sleep(rand(300));
  }
}

async function placeCall(socket, room) {
  const me = online.get(socket.id);
  const peers = [...online.entries()].filter(([id, p]) => id !== socket.id && p.room === room && !p.busy);
  if (!me || me.busy || peers.length === 0) return;
  const [peerId] = peers[rand(peers.length)];
  me.busy = true;
  const accepted = new Promise((resolve) => {
    const t = setTimeout(resolve, 3000);
    socket.once('accepted', () => {
      clearTimeout(t);
      resolve();
    });
  });
  const reply = await request(socket, 'call', { userToCall: peerId, signal: { type: 'offer', sdp: 'v=0 soak offer' } });
  if (reply && !('error' in reply)) {
    stats.calls++;
    await accepted;
    await request(socket, 'offer', { to: peerId, sdp: { type: 'offer', sdp: 'v=0 renegotiate' } });
    await request(socket, 'signal', { to: peerId, signal: { candidate: 'c' } });
    await sleep(300 + rand(700));
    await request(socket, 'hangup', { to: peerId });
  }
  me.busy = false;
}

// ---------- reporting ----------

async function metrics() {
  try {
    const res = await fetch(new URL('/metrics', url), { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    const get = (name) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line ? Number(line.slice(name.length + 1)) : undefined;
    };
    return {
      rss: get('parley_process_resident_memory_bytes'),
      heap: get('parley_nodejs_heap_size_used_bytes'),
      lagP99: get('parley_nodejs_eventloop_lag_p99_seconds'),
      lagMax: get('parley_nodejs_eventloop_lag_max_seconds'),
      open: get('parley_open_connections'),
    };
  } catch {
    return {};
  }
}

function rssFromProc() {
  if (pid === undefined) return undefined;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mb = (b) => (b === undefined ? '   ?  ' : `${(b / 1048576).toFixed(1).padStart(6)}`);
const ms = (s) => (s === undefined ? '  ?  ' : `${(s * 1000).toFixed(1).padStart(5)}`);
const pct = (arr, p) => {
  if (arr.length === 0) return undefined;
  const sorted = [...arr].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const ownLoop = monitorEventLoopDelay({ resolution: 20 });
ownLoop.enable();
const samples = [];
const started = Date.now();

async function report() {
  const m = await metrics();
  const rss = rssFromProc() ?? m.rss;
  const t = (Date.now() - started) / 1000;
  samples.push({ t, rss });
  const rtt = stats.rtts.splice(0);
  process.stdout.write(
    `${t.toFixed(0).padStart(5)}s  rss ${mb(rss)} MB  heap ${mb(m.heap)} MB  loop p99 ${ms(m.lagP99)} ms max ${ms(m.lagMax)} ms  ` +
      `ping p50 ${(pct(rtt, 50) ?? NaN).toFixed(1)} p99 ${(pct(rtt, 99) ?? NaN).toFixed(1)} ms  open ${m.open ?? '?'}  ` +
      `connects ${stats.connects} logins ${stats.logins} messages ${stats.messages} calls ${stats.calls} errors ${stats.errors} refused ${JSON.stringify(stats.refused)}  ` +
      `(soak loop p99 ${(ownLoop.percentile(99) / 1e6).toFixed(1)} ms)\n`,
  );
  ownLoop.reset();
}

process.on('SIGINT', () => {
  stopping = true;
});

process.stdout.write(
  `soak: ${minutes} min against ${url.origin}, ${CLIENTS} virtual users, RSS from ${pid ? `/proc/${pid}/status` : '/metrics'}\n`,
);
await report();
const ticker = setInterval(report, INTERVAL_S * 1000);
await Promise.all(Array.from({ length: CLIENTS }, (_, n) => sleep(rand(2000)).then(() => virtualUser(n))));
clearInterval(ticker);
await sleep(1500); // let the server see the last disconnects
await report();

const withRss = samples.filter((s) => s.rss !== undefined);
if (withRss.length > 1) {
  const start = withRss[0];
  const warm = withRss.find((s) => s.t >= Math.min(60, (minutes * 60) / 5)) ?? start;
  const end = withRss[withRss.length - 1];
  const max = Math.max(...withRss.map((s) => s.rss));
  process.stdout.write(
    `summary: rss start ${mb(start.rss)} MB, after warm-up (${warm.t.toFixed(0)}s) ${mb(warm.rss)} MB, end ${mb(end.rss)} MB, max ${mb(max)} MB; ` +
      `${stats.connects} connections, ${stats.logins} logins, ${stats.messages} messages, ${stats.calls} calls, ${stats.errors} errors\n`,
  );
}
process.exit(0);
