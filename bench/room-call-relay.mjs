#!/usr/bin/env node
/**
 * Server CPU per relayed call signal: a room call's `callSignal` next to a 1:1 call's
 * `signal`, on one Parley node built from this checkout (dist/main.js), same payload, same
 * closed loop. Each of `--pairs` pairs (two sockets in one room) bounces a signal back and
 * forth for `--seconds`; the server's utime+stime (from /proc/<pid>/stat) over the window,
 * divided by the signals it relayed, is the figure. The two kinds run one after the other
 * against the same server process, each after a warm-up, three times, medians reported.
 *
 *   npm run build && npm run bench:room-call [-- --pairs 50 --seconds 8 --bytes 600 --runs 3]
 *
 * Run it on a quiet machine (a run under other load measures the load).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const num = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const PAIRS = num('pairs', 50);
const SECONDS = num('seconds', 8);
const BYTES = num('bytes', 600);
const RUNS = num('runs', 3);
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** The process's user+system CPU so far, in µs. */
function cpuUs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1e6;
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

const ask = (s, event, ...args) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 10_000);
    s.emit(event, ...args, (reply) => {
      clearTimeout(timer);
      if (reply && typeof reply === 'object' && 'error' in reply) reject(new Error(`${event}: ${reply.code}`));
      else resolve(reply);
    });
  });

/** Pairs set up for both kinds: logged in to a room of their own, in a 1:1 call and in the room's call. */
async function pairs(url) {
  const out = [];
  for (let i = 0; i < PAIRS; i++) {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const room = `bench-${i}`;
    await ask(a, 'login', { name: 'a', room });
    await ask(b, 'login', { name: 'b', room });
    await ask(a, 'call', { userToCall: b.id, signal: {} });
    await ask(b, 'answer', { to: a.id, signal: {} });
    await ask(a, 'joinCall');
    await ask(b, 'joinCall');
    out.push([a, b]);
  }
  return out;
}

/** Every pair bounces `kind` signals for `ms`; resolves to the number relayed. */
async function bounce(list, kind, ms) {
  const data = { sdp: 'x'.repeat(BYTES) };
  let relayed = 0;
  let running = true;
  const loops = list.map(
    ([a, b]) =>
      new Promise((resolve) => {
        const send = (from, to) =>
          kind === 'room'
            ? from.emit('callSignal', { to: to.id, data }, () => undefined)
            : from.emit('signal', { to: to.id, signal: data }, () => undefined);
        const event = kind === 'room' ? 'callSignal' : 'signal';
        const onA = () => {
          relayed++;
          if (running) send(a, b);
          else resolve();
        };
        const onB = () => {
          relayed++;
          if (running) send(b, a);
          else resolve();
        };
        a.on(event, onA);
        b.on(event, onB);
        send(a, b);
        setTimeout(() => {
          running = false;
          setTimeout(() => {
            a.off(event, onA);
            b.off(event, onB);
            resolve();
          }, 500);
        }, ms);
      }),
  );
  await Promise.all(loops);
  return relayed;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function main() {
  const port = await freePort();
  const server = fork(join(root, 'dist', 'main.js'), [], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      CORS_ORIGIN: 'http://localhost',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_SEC: '0',
      WEB_CLIENT: 'false',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await sleep(100);
    }
    const list = await pairs(url);
    const results = { room: [], '1:1': [] };
    for (let run = 0; run < RUNS; run++) {
      for (const kind of ['room', '1:1']) {
        await bounce(list, kind, 1000); // warm-up
        await sleep(300);
        const before = cpuUs(server.pid);
        const relayed = await bounce(list, kind, SECONDS * 1000);
        const used = cpuUs(server.pid) - before;
        results[kind].push({ perSignal: used / relayed, rate: relayed / SECONDS });
      }
    }
    const row = (kind) =>
      `${kind === 'room' ? 'room call `callSignal`' : '1:1 call `signal`'}: ${median(results[kind].map((r) => r.perSignal)).toFixed(1)} µs server CPU per relayed signal, ${median(results[kind].map((r) => r.rate)).toFixed(0)} signals/s`;
    const ratio = median(results.room.map((r) => r.perSignal)) / median(results['1:1'].map((r) => r.perSignal));
    console.log(`room-call relay bench: ${PAIRS} pairs, ${BYTES}-byte signals, ${SECONDS} s × ${RUNS} runs, medians`);
    console.log(row('room'));
    console.log(row('1:1'));
    console.log(`room / 1:1: ${ratio.toFixed(2)}×`);
    for (const [a, b] of list) {
      a.close();
      b.close();
    }
  } finally {
    server.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
