#!/usr/bin/env node
/**
 * Fuzz at scale: random client-to-server traffic (scripts/fuzz-lib.mjs) against a built
 * Parley, then the checks. Not part of `npm test` (the jest suite runs a seeded 5,000-event
 * run of the same generator).
 *
 *   npm run build
 *   npm run fuzz -- --events 100000                 # one node, spawned by this script
 *   npm run fuzz -- --events 100000 --redis         # two nodes over Redis (redis://127.0.0.1:6379)
 *   npm run fuzz -- --events 20000 --url http://127.0.0.1:3001   # a server you started
 *
 * Options: --events N (default 100000), --seed S (default 1), --sockets K (default 24, at
 * least 20), --redis [URL] (two nodes, under a key prefix of their own, deleted at the end),
 * --url URL[,URL…] (no spawn: only the checks that need no access to the process run),
 * --rate-limit (keep the server's default rate limit; by default it is off so that the
 * traffic reaches the handlers), --plain (spawned nodes without the admin UI, the admin
 * token and webhooks, which are on by default).
 *
 * With them on (the default), spawned nodes also get ADMIN_UI, ADMIN_TOKEN and a webhook
 * receiver of this script's that answers 2xx, 500, a redirect or nothing at random; an
 * admin lane throws bad logins at the /admin namespace (no password, numbers, objects,
 * long strings, wrong ones) and wrong tokens and bad bodies at the admin routes. Checked
 * after: every refusal was one of the expected answers, and the receiver got events.
 *
 * Spawned servers run `node --expose-gc --import scripts/fuzz-preload.mjs dist/main.js`;
 * the preload answers over the IPC channel (Object.prototype check, forced GC and memory).
 * After the traffic (and a warm-up of a tenth of it, 2,000 to 10,000 events, before the
 * memory baseline), it checks and prints: every process alive, `ping` answered, `/health`
 * 200, Object.prototype untouched, RSS after a forced GC at most 10% above the baseline, no
 * error-level log line, and no problem seen by the runner (see fuzz-lib.mjs). Exits 1 when
 * a check fails.
 */
import { fork } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { runFuzz } from './fuzz-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
};
const EVENTS = Number(opt('events', 100_000));
const SEED = Number(opt('seed', 1));
const SOCKETS = Number(opt('sockets', 24));
const redisOpt = opt('redis', undefined);
const REDIS_URL = redisOpt === true ? 'redis://127.0.0.1:6379' : redisOpt;
const URLS = typeof opt('url', undefined) === 'string' ? opt('url').split(',') : undefined;
const KEEP_RATE_LIMIT = opt('rate-limit', false) === true;
const EXTRAS = opt('plain', false) !== true;
const ADMIN_USER = 'ops';
// bcrypt (cost 4) of 'correct horse battery'.
const ADMIN_HASH = '$2a$04$UR3kV1hOTLNWnZ1h86C4xe4XhKtRMddPW9T70nxj.xyDIoel.TmoK';
const ADMIN_TOKEN = `fuzz-admin-token-${randomBytes(16).toString('hex')}`;
const FRAME_LIMIT = 6 * 65_536 + 16 * 1024; // the default frameLimit(MAX_MESSAGE_BYTES, MAX_SIGNAL_BYTES)

if (!(EVENTS > 0) || !(SOCKETS >= 20) || !Number.isInteger(SEED)) {
  process.stderr.write('fuzz: --events must be > 0, --sockets at least 20, --seed an integer\n');
  process.exit(2);
}

const say = (line) => process.stdout.write(`${line}\n`);

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

/** A spawned node: its URL, its log verdicts, and the IPC questions. */
async function spawnNode(env) {
  const main = join(root, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error('dist/main.js is missing: run `npm run build` first');
  const port = await freePort();
  const child = fork(main, [], {
    cwd: root,
    execArgv: ['--expose-gc', '--import', join(root, 'scripts', 'fuzz-preload.mjs')],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      WEB_CLIENT: 'false',
      LOG_FORMAT: 'json',
      ...(!KEEP_RATE_LIMIT && { RATE_LIMIT_PER_SEC: '0' }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const node = { child, url: `http://127.0.0.1:${port}`, errorLines: [], lines: 0, exit: undefined };
  child.on('exit', (code, signal) => (node.exit = { code, signal }));
  const scan = (stream, isStderr) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        node.lines += 1;
        let level;
        try {
          // Nest's JSON logger writes level names, pino numbers (50 error, 60 fatal).
          const raw = JSON.parse(line).level;
          level = typeof raw === 'number' ? (raw >= 60 ? 'fatal' : raw >= 50 ? 'error' : 'info') : raw;
        } catch {
          level = isStderr && !/^\(node:\d+\) (\w+)?Warning/.test(line) ? 'error' : undefined;
        }
        if (level === 'error' || level === 'fatal') node.errorLines.push(line.slice(0, 400));
      }
    });
  };
  scan(child.stdout, false);
  scan(child.stderr, true);
  node.ask = (type) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${type}`)), 10_000);
      const onMessage = (msg) => {
        if (msg?.type !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(msg);
      };
      child.on('message', onMessage);
      child.send({ type });
    });
  // Up when /health answers.
  const until = Date.now() + 30_000;
  for (;;) {
    if (node.exit)
      throw new Error(`the server exited at start (${JSON.stringify(node.exit)}): ${node.errorLines.join(' | ')}`);
    if ((await health(node.url)) === 200) break;
    if (Date.now() > until) throw new Error('the server did not come up within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return node;
}

async function health(url) {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

function ping(url) {
  return new Promise((resolve) => {
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    const done = (ok) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 5_000);
    socket.once('connect', () => socket.emit('ping', (id) => done(id === socket.id)));
    socket.once('connect_error', () => done(false));
  });
}

async function deletePrefix(url, prefix) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/**
 * A webhook receiver that misbehaves at random: mostly 204, else 500, a redirect to
 * itself, or no answer at all (the request is held until the server gives up on it).
 */
async function misbehavingReceiver() {
  const held = new Set();
  const receiver = { events: 0, redirectsFollowed: 0, close: undefined, url: '' };
  const server = createHttpServer((req, res) => {
    if (req.url === '/elsewhere') {
      receiver.redirectsFollowed += 1;
      res.writeHead(204).end();
      return;
    }
    req.resume();
    req.on('end', () => {
      receiver.events += 1;
      const roll = Math.random();
      if (roll < 0.7) res.writeHead(204).end();
      else if (roll < 0.8) res.writeHead(500).end();
      else if (roll < 0.9) res.writeHead(307, { Location: '/elsewhere' }).end();
      else held.add(res);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  receiver.url = `http://127.0.0.1:${port}/hooks`;
  receiver.close = () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  };
  return receiver;
}

/** Bad admin logins and admin HTTP requests until `stop()`; tallies what came back. */
function adminLane(urls) {
  const seen = { logins: 0, http: 0, unexpected: [] };
  let running = true;
  const values = [undefined, null, 42, {}, [], ['x'], '', 'x'.repeat(5000), 'wrong', { length: 1 }];
  const pick = () => values[Math.floor(Math.random() * values.length)];
  const login = (url) =>
    new Promise((resolve) => {
      const auth =
        Math.random() < 0.5 ? { username: ADMIN_USER, password: pick() } : { username: pick(), password: pick() };
      if (Math.random() < 0.2) auth.sessionId = pick();
      const socket = io(`${url}/admin`, { transports: ['websocket'], forceNew: true, reconnection: false, auth });
      const done = (what) => {
        socket.close();
        resolve(what);
      };
      socket.once('connect', () => done('connected'));
      socket.once('connect_error', (err) => done(err.message));
      setTimeout(() => done('no answer'), 5_000);
    });
  const request = async (url) => {
    const bodies = [
      '{not json',
      '"x"',
      '[]',
      JSON.stringify({ title: 'x'.repeat(300), description: 1 }),
      'x'.repeat(200_000),
    ];
    const res = await fetch(`${url}/rooms/fuzz/notifications`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${pick()}` },
      body: bodies[Math.floor(Math.random() * bodies.length)],
    });
    const body = await res.json().catch(() => undefined);
    return { status: res.status, ok: typeof body?.error === 'string' && typeof body?.code === 'string' };
  };
  const loop = (async () => {
    for (let i = 0; running; i += 1) {
      const url = urls[i % urls.length];
      const answer = await login(url);
      seen.logins += 1;
      if (!['invalid credentials', 'too many failed attempts, try again later'].includes(answer))
        seen.unexpected.push(`admin UI login: ${answer}`);
      const { status, ok } = await request(url).catch(() => ({ status: 0, ok: false }));
      seen.http += 1;
      if (![401, 429].includes(status) || !ok)
        seen.unexpected.push(`admin HTTP: ${status}${ok ? '' : ' (not { error, code })'}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    seen,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function main() {
  const nodes = [];
  let receiver;
  let admin;
  const prefix = `parley-fuzz-${randomBytes(4).toString('hex')}:`;
  let urls = URLS;
  const checks = [];
  const check = (name, ok, detail = '') => {
    checks.push({ name, ok });
    say(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `: ${detail}` : ''}`);
  };
  try {
    if (!urls) {
      if (EXTRAS) receiver = await misbehavingReceiver();
      const env = {
        ...(REDIS_URL && { REDIS_URL, REDIS_KEY_PREFIX: prefix }),
        ...(EXTRAS && {
          ADMIN_UI: 'true',
          ADMIN_UI_USERNAME: ADMIN_USER,
          ADMIN_UI_PASSWORD_HASH: ADMIN_HASH,
          ADMIN_TOKEN,
          WEBHOOK_URL: receiver.url,
          WEBHOOK_SECRET: randomBytes(24).toString('hex'),
        }),
      };
      for (let i = 0; i < (REDIS_URL ? 2 : 1); i++) nodes.push(await spawnNode(env));
      urls = nodes.map((n) => n.url);
      for (const n of nodes) await n.ask('fuzz:baseline');
    }
    const setup = REDIS_URL
      ? `two nodes over Redis (${REDIS_URL}, prefix ${prefix})`
      : urls.length > 1
        ? `${urls.length} servers`
        : 'one node';
    say(
      `fuzz: ${EVENTS} events, seed ${SEED}, ${SOCKETS} sockets + a raw WebSocket lane, against ${setup}: ${urls.join(', ')}`,
    );

    // The admin lane runs from the warm-up on: its first login starts the password worker
    // thread (an isolate of its own, some 15 MB), which belongs in the baseline.
    if (EXTRAS && nodes.length > 0) admin = adminLane(urls);
    // Warm-up (its own seed), so the baseline is a server that has seen this traffic.
    const warmup = Math.min(10_000, Math.max(2_000, Math.ceil(EVENTS / 10)));
    const warm = await runFuzz({ urls, events: warmup, seed: SEED + 7919, sockets: SOCKETS, frameLimit: FRAME_LIMIT });
    await new Promise((r) => setTimeout(r, 1_000));
    const before = await Promise.all(nodes.map((n) => n.ask('fuzz:gc')));

    const report = await runFuzz({
      urls,
      events: EVENTS,
      seed: SEED,
      sockets: SOCKETS,
      frameLimit: FRAME_LIMIT,
      log: say,
    });
    await admin?.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await Promise.all(nodes.map((n) => n.ask('fuzz:gc')));

    const problems = report.problems;
    const figures = { ...report };
    delete figures.problems;
    delete figures.slowest;
    say(`fuzz: warm-up ${warm.events} events (${warm.problems.length} problems), run: ${JSON.stringify(figures)}`);
    say(
      `fuzz: ${(report.events / (report.durationMs / 1000)).toFixed(0)} events/s over ${(report.durationMs / 1000).toFixed(1)} s`,
    );

    check(
      'no problem seen by the runner (codes, acks, disconnects)',
      problems.length === 0 && warm.problems.length === 0,
      [...new Set([...warm.problems, ...problems])].slice(0, 20).join(' | '),
    );
    check('no INTERNAL reply', !report.codes.INTERNAL && !warm.codes.INTERNAL);
    if (admin)
      check(
        'admin lane: every bad login and admin request refused as expected',
        admin.seen.unexpected.length === 0,
        `${admin.seen.logins} logins, ${admin.seen.http} requests${admin.seen.unexpected.length ? `; ${[...new Set(admin.seen.unexpected)].slice(0, 5).join(' | ')}` : ''}`,
      );
    if (receiver)
      check(
        'webhooks delivered to a misbehaving receiver, no redirect followed',
        receiver.events > 0 && receiver.redirectsFollowed === 0,
        `${receiver.events} requests received, ${receiver.redirectsFollowed} redirects followed`,
      );
    for (const [i, url] of urls.entries()) {
      const node = nodes[i];
      const label = urls.length > 1 ? ` (node ${i + 1})` : '';
      if (node)
        check(
          `process alive${label}`,
          node.exit === undefined && node.child.exitCode === null,
          node.exit ? JSON.stringify(node.exit) : `pid ${node.child.pid}`,
        );
      check(`ping answered${label}`, await ping(url));
      const status = await health(url);
      check(`/health 200${label}`, status === 200, String(status));
      if (!node) continue;
      const proto = await node.ask('fuzz:proto');
      check(`Object.prototype untouched${label}`, proto.clean === true);
      const b = before[i];
      const a = after[i];
      const change = (a.rss - b.rss) / b.rss;
      // Growth is what a leak looks like; a smaller RSS after the run is fine.
      check(
        `RSS after a forced GC within 10% of before${label}`,
        b.gc && change <= 0.1,
        `before ${mb(b.rss)} (heap ${mb(b.heapUsed)}), after ${mb(a.rss)} (heap ${mb(a.heapUsed)}), ${(change * 100).toFixed(1)}%`,
      );
      check(
        `no error-level log line${label}`,
        node.errorLines.length === 0,
        node.errorLines.length
          ? `${node.errorLines.length}: ${node.errorLines.slice(0, 5).join(' | ')}`
          : `${node.lines} lines read`,
      );
    }
    if (nodes.length === 0)
      say('fuzz: servers not spawned by this script: Object.prototype, memory and logs were not checked');
  } finally {
    for (const n of nodes) {
      if (n.exit) continue;
      n.child.kill('SIGTERM');
      await Promise.race([new Promise((r) => n.child.once('exit', r)), new Promise((r) => setTimeout(r, 15_000))]);
      if (!n.exit) n.child.kill('SIGKILL');
    }
    await receiver?.close();
    if (REDIS_URL && !URLS)
      await deletePrefix(REDIS_URL, prefix).catch((err) => say(`fuzz: could not delete ${prefix}*: ${err.message}`));
  }
  const failed = checks.filter((c) => !c.ok).length;
  say(failed === 0 ? `fuzz: all ${checks.length} checks passed` : `fuzz: ${failed} of ${checks.length} checks FAILED`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`fuzz: ${err.stack ?? err}\n`);
  process.exit(1);
});
