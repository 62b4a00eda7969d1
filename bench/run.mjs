#!/usr/bin/env node
// Parley benchmark: Parley vs a bare Socket.IO 4.8 server vs a raw `ws` server, same load,
// same machine, same run. See bench/README.md.
//
//   node bench/run.mjs            full mode (3 runs, medians; under 10 minutes)
//   node bench/run.mjs --quick    quick mode (1 run, fewer steps, smaller counts; under 2 minutes)
//
// Options: --runs N, --servers parley,bare,raw, --scenarios fanout,calls,conns[,cluster],
//   --client lite|sio (Socket.IO client used by the load generator; default lite),
//   --loaders N (load processes, default 2), --rooms N --members N, --pairs N,
//   --conns N --room-size N, --no-build, --profile parley|bare|raw|all (node --cpu-prof
//   into bench/results/profiles), --out NAME (bench/results/NAME.{md,json}), --help.
// Servers: parley (history on, the default HISTORY_SIZE), parley-nohist (HISTORY_SIZE=0,
//   fan-out only: what history costs per message), bare, raw.
// Scenario cluster (opt-in; npm run bench:cluster): two nodes of Parley, then of bare
//   Socket.IO, over the Redis at --redis-url, with the same streams adapter.
import { spawn, spawnSync, fork, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, existsSync, rmSync, createWriteStream } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, relative } from 'node:path';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Hist } from './lib/hist.mjs';
import { connClass } from './lib/conn.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const RESULTS = join(BENCH, 'results');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0Run = performance.now();
const elapsed = () => ((performance.now() - t0Run) / 1000).toFixed(1);
const log = (...a) => console.log(`[${elapsed().padStart(6)}s]`, ...a);

// ---- options -------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, def) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = argv[i];
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
};
const num = (name, def) => Number(opt(name, def));
if (flag('help') || flag('h')) {
  console.log(`Parley benchmark (see bench/README.md)

  node bench/run.mjs [--quick] [options]

  --quick                 1 run, fewer steps, smaller counts (under 2 minutes)
  --runs N                runs per comparison (default 3, quick 1)
  --servers LIST          parley,parley-nohist,bare,raw (default all; parley-nohist is Parley
                          with HISTORY_SIZE=0 and runs the fan-out scenario only)
  --scenarios LIST        fanout,calls,conns,cluster (default fanout,calls,conns;
                          cluster: two nodes over Redis; Parley, bare and, when listed, parley-nohist)
  --client lite|sio       Socket.IO client of the load generator (default lite)
  --loaders N             load-generator processes (default 2)
  --rooms N --members N   fan-out shape (default 20 x 25)
  --start-rate N          first fan-out step, roomMessage/s offered (default 1000)
  --pairs N               call-relay pairs
  --conns N --room-size N connection scenario
  --cluster-rate N        cluster fan-out, roomMessage/s offered (default 400)
  --cluster-pairs N       cluster call-relay pairs (default 100)
  --cluster-call-rate N   cluster call relay, round trips/s offered (default 600)
  --redis-url URL         Redis of the cluster scenario (default redis://127.0.0.1:6379)
  --no-build              use the existing dist/
  --profile KEYS          run those servers under node --cpu-prof
  --out NAME              bench/results/NAME.{md,json}
  --report FILE.json      re-render the tables and the chart from a results JSON, no measuring
  --help                  this text`);
  process.exit(0);
}
const REPORT = opt('report', null); // re-render the tables of a results JSON, no measuring
const QUICK = flag('quick');
const cfg = {
  mode: QUICK ? 'quick' : 'full',
  runs: num('runs', QUICK ? 1 : 3),
  // (only Parley and bare run as two nodes: a cluster-only run starts no other server)
  servers: String(
    opt('servers', String(opt('scenarios', '')) === 'cluster' ? 'parley,bare' : 'parley,parley-nohist,bare,raw'),
  ).split(','),
  scenarios: String(opt('scenarios', 'fanout,calls,conns')).split(','),
  client: opt('client', 'lite'),
  loaders: num('loaders', 2),
  build: !flag('no-build'),
  profile: String(opt('profile', '')).split(',').filter(Boolean),
  // a cluster-only run (npm run bench:cluster) has files of its own, so that it never
  // replaces the results of a full run
  out: opt(
    'out',
    `${QUICK ? 'latest-quick' : 'latest'}${String(opt('scenarios', '')) === 'cluster' ? '-cluster' : ''}`,
  ),
  fanout: {
    rooms: num('rooms', 20),
    members: num('members', 25),
    messageBytes: 256,
    // offered roomMessage/s (sent, before fan-out); each step multiplies by `factor`
    startRate: num('start-rate', QUICK ? 1000 : 1000),
    factor: QUICK ? 2 : 1.5,
    maxSteps: QUICK ? 5 : 9,
    refine: QUICK ? 0 : 1,
    retries: QUICK ? 0 : 1,
    stepMs: QUICK ? 1200 : 2000,
    drainMs: QUICK ? 800 : 1500,
    pauseMs: 300,
    minDelivery: 0.95,
    maxP99Ms: 250,
  },
  calls: {
    pairs: num('pairs', QUICK ? 200 : 500),
    signalBytes: 1024,
    // trickle-ICE `signal` round trips after each answered call, as in a real call
    trickle: num('trickle', 4),
    warmupMs: QUICK ? 500 : 1000,
    durationMs: QUICK ? 2000 : 4000,
  },
  conns: {
    n: num('conns', QUICK ? 2000 : 5000),
    roomSize: num('room-size', 10),
    concurrency: 64,
    settleMs: QUICK ? 500 : 1000,
  },
  // two nodes over Redis: a fixed offered load both servers sustain, the fan-out shape above
  cluster: {
    rate: num('cluster-rate', 400),
    pairs: num('cluster-pairs', 100),
    // round trips/s offered (each call is 1 + trickle round trips): paced, not a closed loop
    callRate: num('cluster-call-rate', 600),
    redisUrl: String(opt('redis-url', 'redis://127.0.0.1:6379')),
  },
  deadlineMs: QUICK ? 4 * 60e3 : 15 * 60e3,
};

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
const HAS_TASKSET = spawnSync('taskset', ['-V']).status === 0;
const NCPU = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const SERVER_CPUS = '0';
const CLIENT_CPUS = NCPU > 2 ? `1-${NCPU - 1}` : NCPU === 2 ? '1' : '0';

const COMMON_ENV = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  CORS_ORIGIN: 'http://localhost',
  RATE_LIMIT_PER_SEC: '0',
  WEB_CLIENT: 'false',
  MAX_CONNECTIONS_PER_IP: '100000',
  LOG_LEVEL: 'warn',
};
// `cluster`: the server runs as several nodes over Redis given REDIS_URL and REDIS_KEY_PREFIX
// (Parley: src/config/env.schema.ts; the bare baseline reads the same two variables).
const SERVERS = {
  parley: { label: 'Parley', script: 'dist/main.js', client: cfg.client, cluster: true },
  // The same server with room history off: the difference is what retaining messages costs.
  'parley-nohist': {
    label: 'Parley, history off',
    script: 'dist/main.js',
    client: cfg.client,
    env: { HISTORY_SIZE: '0' },
    // (in the cluster scenario too, when asked for: what history costs in Redis mode)
    only: ['fanout', 'cluster'],
    cluster: true,
  },
  bare: { label: 'bare Socket.IO', script: 'bench/baselines/bare-socketio.mjs', client: cfg.client, cluster: true },
  raw: { label: 'raw ws', script: 'bench/baselines/raw-ws.mjs', client: 'ws' },
};
for (const s of cfg.servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`);
for (const s of cfg.scenarios) {
  if (!['fanout', 'calls', 'conns', 'cluster'].includes(s)) throw new Error(`unknown scenario ${s}`);
}
// Fan-out p99 is also measured at these shares of bare Socket.IO's highest sustained offered
// rate of the same run (after every ladder of the run, on freshly started servers).
const PROBE_SHARES = [0.25, 0.5];

// ---- process bookkeeping ---------------------------------------------------------------
const children = new Set();
function killAll() {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {}
  }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping`);
    killAll();
    process.exit(130);
  });
}
const deadline = setTimeout(() => {
  console.error(`deadline of ${cfg.deadlineMs / 1000}s reached: writing partial results and stopping`);
  try {
    writeOutputs(true);
  } catch (e) {
    console.error(e);
  }
  killAll();
  process.exit(1);
}, cfg.deadlineMs);
deadline.unref();

function pin(pid, cpus) {
  if (!HAS_TASKSET) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  } catch {}
}
if (HAS_TASKSET) pin(process.pid, CLIENT_CPUS);

function readCpu(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // fields after ")": state(3) ... utime(14) stime(15), i.e. index 11 and 12 here
  return { user: Number(f[11]), sys: Number(f[12]), at: performance.now() };
}
const monoUs = () => Number(process.hrtime.bigint() / 1000n);
const cpuDelta = (a, b) => ({
  userUs: ((b.user - a.user) * 1e6) / CLK_TCK,
  sysUs: ((b.sys - a.sys) * 1e6) / CLK_TCK,
  wallUs: (b.at - a.at) * 1000,
});
function readRssKb(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
}

/** Machine-wide CPU ticks from /proc/stat, to see how much CPU other processes took. */
function readStat() {
  const f = readFileSync('/proc/stat', 'utf8');
  const v = f.slice(0, f.indexOf('\n')).trim().split(/\s+/).slice(1, 9).map(Number);
  return { busy: v[0] + v[1] + v[2] + v[5] + v[6], steal: v[7], total: v.reduce((a, b) => a + b, 0) };
}
const selfTicks = () => {
  const u = process.cpuUsage();
  return ((u.user + u.system) * CLK_TCK) / 1e6;
};
/** Start a probe over our own processes (pids); end() gives other processes' CPU, in cores. */
function probe(pids) {
  const ticks = () =>
    pids.reduce((sum, pid) => {
      try {
        const c = readCpu(pid);
        return sum + c.user + c.sys;
      } catch {
        return sum;
      }
    }, selfTicks());
  const s0 = readStat();
  const o0 = ticks();
  return {
    end() {
      const s1 = readStat();
      const o1 = ticks();
      const cores = (s1.total - s0.total) / NCPU || 1;
      return {
        foreignCores: Math.max(0, (s1.busy - s0.busy - (o1 - o0)) / cores),
        stealCores: (s1.steal - s0.steal) / cores,
      };
    },
  };
}
let quietBudgetMs = QUICK ? 6000 : 45000;
/** Wait (within a bounded budget for the whole run) until other processes leave the CPUs alone. */
async function waitQuiet() {
  for (;;) {
    const p = probe([]);
    await sleep(1000);
    const { foreignCores } = p.end();
    if (foreignCores < 0.25) return foreignCores;
    if (quietBudgetMs <= 0) {
      log(`  warning: other processes use ${foreignCores.toFixed(2)} cores; measuring anyway (figures will be noisy)`);
      return foreignCores;
    }
    log(`  other processes use ${foreignCores.toFixed(2)} cores; waiting for a quieter machine…`);
    await sleep(2000);
    quietBudgetMs -= 3000;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}
function tcpReady(port) {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// ---- servers -----------------------------------------------------------------------------
const logsDir = join(RESULTS, 'logs');
const profDir = join(RESULTS, 'profiles');
const memFile = (key) => join(os.tmpdir(), `parley-bench-mem-${process.pid}-${key}.json`);
const eldFile = (key) => join(os.tmpdir(), `parley-bench-eld-${process.pid}-${key}.json`);

/** Starts a server's event-loop delay histogram again (the preload's SIGURG). */
function resetLoopDelay(srv) {
  try {
    process.kill(srv.pid, 'SIGURG');
  } catch {}
}

/** The server's event-loop delay since resetLoopDelay (p50, p99, max in ms), or null. */
async function readLoopDelay(srv) {
  const file = srv.loopDelayFile;
  rmSync(file, { force: true });
  try {
    process.kill(srv.pid, 'SIGURG');
  } catch {
    return null;
  }
  const until = performance.now() + 2000;
  while (!existsSync(file) && performance.now() < until) await sleep(20);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Starts a server (`node`: a name for one node of a cluster, for its log and memory file;
 * `env`: on top of the server's own; `cpus`: taskset list).
 */
async function startServer(key, { node = '', env: extra = {}, cpus = SERVER_CPUS } = {}) {
  const def = SERVERS[key];
  const port = await freePort();
  const env = { ...process.env, ...COMMON_ENV, ...def.env, ...extra, PORT: String(port) };
  delete env.NODE_OPTIONS;
  env.BENCH_PARENT_PID = String(process.pid);
  env.BENCH_MEM_FILE = memFile(key + node);
  const loopDelayFile = eldFile(key + node);
  env.BENCH_ELD_FILE = loopDelayFile;
  const nodeArgs = ['--expose-gc', '--import', pathToFileURL(join(BENCH, 'gc-preload.mjs')).href];
  // BENCH_TRACE_GC=1: every server logs its collections (to its log in results/logs/);
  // BENCH_NODE_FLAGS: extra node/V8 flags, the same for every server
  if (process.env.BENCH_TRACE_GC === '1') nodeArgs.push('--trace-gc');
  if (process.env.BENCH_NODE_FLAGS) nodeArgs.push(...process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean));
  let profName;
  if (cfg.profile.includes(key) || cfg.profile.includes('all')) {
    mkdirSync(profDir, { recursive: true });
    profName = `${key}${node}-${Date.now()}.cpuprofile`;
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${profName}`);
    env.BENCH_EXIT_ON_TERM = '1';
  }
  const windows = [];
  const args = [process.execPath, ...nodeArgs, def.script];
  const child = HAS_TASKSET
    ? spawn('taskset', ['-c', cpus, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(args[0], args.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  mkdirSync(logsDir, { recursive: true });
  const out = createWriteStream(join(logsDir, `${key}${node}.log`), { flags: 'a' });
  let tail = '';
  const keep = (d) => {
    out.write(d);
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, sig) => {
    exited = { code, sig };
    children.delete(child);
    out.end();
  });
  const until = performance.now() + 30000;
  while (performance.now() < until) {
    if (exited) throw new Error(`${def.label} exited during start (${JSON.stringify(exited)}):\n${tail}`);
    if (await tcpReady(port)) break;
    await sleep(100);
  }
  if (!(await tcpReady(port))) throw new Error(`${def.label} did not listen on ${port} within 30 s:\n${tail}`);
  await sleep(300);
  return {
    key,
    loopDelayFile,
    port,
    pid: child.pid,
    child,
    get exited() {
      return exited;
    },
    tail: () => tail,
    /** Measurement window [from, to] (monotonic µs, the clock of V8's profiles), for profile-summary.mjs. */
    mark(label, from, to) {
      windows.push({ label, from, to });
    },
    async stop() {
      if (profName) writeFileSync(join(profDir, `${profName}.windows.json`), JSON.stringify(windows));
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      if (await Promise.race([done.then(() => true), sleep(5000).then(() => false)])) return;
      child.kill('SIGKILL');
      await Promise.race([done, sleep(2000)]);
    },
  };
}

/** Two full GCs in the server (via the preload's SIGWINCH), then RSS and heap figures. */
async function memory(srv) {
  const file = memFile(srv.key);
  rmSync(file, { force: true });
  process.kill(srv.pid, 'SIGWINCH');
  const until = performance.now() + 5000;
  while (!existsSync(file) && performance.now() < until) await sleep(50);
  await sleep(500);
  let heap = null;
  try {
    heap = JSON.parse(readFileSync(file, 'utf8'));
  } catch {}
  return { rssKb: readRssKb(srv.pid), heapUsed: heap?.heapUsed ?? null, external: heap?.external ?? null };
}

// ---- load processes ----------------------------------------------------------------------
class Loader {
  /** @type {import('node:child_process').ChildProcess} */
  child;
  /** @type {Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>} */
  pending = new Map();
  seq = 0;

  static async start() {
    const l = new Loader();
    /** @type {NodeJS.ProcessEnv} */
    const env = { ...process.env, BENCH_LOADER_DEADLINE_MS: String(cfg.deadlineMs) };
    delete env.NODE_OPTIONS;
    l.child = fork(join(BENCH, 'load-client.mjs'), [], {
      env,
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(l.child);
    l.child.on('exit', (code) => {
      children.delete(l.child);
      for (const [, p] of l.pending) p.reject(new Error(`load process exited (${code})`));
      l.pending.clear();
    });
    await new Promise((resolve, reject) => {
      l.child.on(
        'message',
        (/** @type {{ ready?: boolean, id: number, ok?: boolean, result?: unknown, error?: string }} */ m) => {
          if (m.ready) return resolve();
          const p = l.pending.get(m.id);
          if (!p) return;
          l.pending.delete(m.id);
          clearTimeout(p.timer);
          if (m.ok) p.resolve(m.result);
          else p.reject(new Error(m.error));
        },
      );
      l.child.once('exit', () => reject(new Error('load process exited during start')));
    });
    pin(l.child.pid, CLIENT_CPUS);
    return l;
  }
  call(cmd, args, timeoutMs = 120000) {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, cmd, args });
    });
  }
  cpu() {
    return readCpu(this.child.pid);
  }
  async stop() {
    try {
      await this.call('close', {}, 5000);
    } catch {}
    this.child.kill('SIGTERM');
  }
}
async function startLoaders(n) {
  return Promise.all(Array.from({ length: n }, () => Loader.start()));
}
const loadersCpu = (ls) => ls.map((l) => l.cpu());
function loadersUtil(a, b) {
  return a.map((x, i) => {
    const d = cpuDelta(x, b[i]);
    return (d.userUs + d.sysUs) / d.wallUs;
  });
}
function split(n, parts) {
  return Array.from({ length: parts }, (_, i) => Math.floor(((i + 1) * n) / parts) - Math.floor((i * n) / parts));
}

// ---- smoke check (protocol shapes the load relies on) --------------------------------------
/** With `portB` (another node of a cluster), the second client is there: every check crosses nodes. */
async function smoke(srv, kind, portB = srv.port) {
  const Conn = connClass(kind);
  const problems = [];
  const req = (c, ev, d) =>
    new Promise((res) => {
      const t = setTimeout(() => res({ timeout: ev }), 3000);
      c.emit(ev, d, (v) => {
        clearTimeout(t);
        res(v);
      });
    });
  const wait = (c, ev) =>
    new Promise((res) => {
      const t = setTimeout(() => res({ timeout: ev }), 3000);
      c.on(ev, (v) => {
        clearTimeout(t);
        res(v);
      });
    });
  const a = await Conn.open(srv.port);
  const b = await Conn.open(portB);
  try {
    const la = await req(a, 'login', { name: 'Alice', room: 'smoke' });
    if (!la?.user || la.user.id !== a.id || la.user.name !== 'Alice') problems.push(`login ack ${JSON.stringify(la)}`);
    const taken = await req(b, 'login', { name: 'ALICE', room: 'smoke' });
    if (taken?.code !== 'NAME_TAKEN') problems.push(`case-insensitive name: ${JSON.stringify(taken)}`);
    const users = wait(a, 'users');
    const lb = await req(b, 'login', { name: 'Bob', room: 'smoke' });
    if (!lb?.user) problems.push(`login ack ${JSON.stringify(lb)}`);
    const u = await users;
    if (!Array.isArray(u) || u.length !== 2) problems.push(`users ${JSON.stringify(u)}`);
    const got = wait(b, 'roomMessage');
    const ack = await req(a, 'roomMessage', { message: 'x'.repeat(256), from: 'mallory', extra: 1 });
    const m = await got;
    if (typeof ack?.id !== 'string' || typeof ack?.at !== 'number')
      problems.push(`roomMessage ack ${JSON.stringify(ack)}`);
    if (
      m?.id !== ack?.id ||
      m?.at !== ack?.at ||
      m?.from !== 'Alice' ||
      m?.fromId !== a.id ||
      m?.room !== 'smoke' ||
      'extra' in (m ?? {})
    ) {
      problems.push(`roomMessage broadcast ${JSON.stringify(m).slice(0, 200)}`);
    }
    const empty = await req(a, 'roomMessage', { message: '' });
    if (empty?.code !== 'VALIDATION') problems.push(`empty message: ${JSON.stringify(empty)}`);
    const nf = await req(a, 'call', { userToCall: 'nobody-here', signal: {} });
    if (nf?.code !== 'NOT_FOUND') problems.push(`call unknown: ${JSON.stringify(nf)}`);
    const ringing = wait(b, 'call');
    const c1 = await req(a, 'call', { userToCall: b.id, signal: { type: 'offer', sdp: 'x' } });
    const r = await ringing;
    if (c1?.error || r?.from !== a.id || r?.signal?.type !== 'offer')
      problems.push(`call ${JSON.stringify(c1)} / ${JSON.stringify(r)}`);
    const again = await req(a, 'call', { userToCall: b.id });
    if (again?.code !== 'ALREADY_IN_CALL') problems.push(`second call: ${JSON.stringify(again)}`);
    const acc = wait(a, 'accepted');
    const an = await req(b, 'answer', { to: a.id, signal: { type: 'answer', sdp: 'y' } });
    const av = await acc;
    if (an?.error || av?.type !== 'answer')
      problems.push(`answer ${JSON.stringify(an)} / accepted ${JSON.stringify(av)}`);
    const ended = wait(b, 'ended');
    const h = await req(a, 'hangup', { to: b.id });
    const e = await ended;
    if (h?.error || e?.reason !== 'hangup' || e?.from !== a.id)
      problems.push(`hangup ${JSON.stringify(h)} / ended ${JSON.stringify(e)}`);
    const nc = await req(a, 'hangup', { to: b.id });
    if (nc?.code !== 'NO_CALL') problems.push(`hangup without call: ${JSON.stringify(nc)}`);
  } finally {
    a.close();
    b.close();
  }
  return problems;
}

// ---- scenarios ---------------------------------------------------------------------------
function ladder() {
  const f = cfg.fanout;
  const rates = [];
  let r = f.startRate;
  for (let i = 0; i < f.maxSteps; i++) {
    rates.push(Math.round(r / 10) * 10);
    r *= f.factor;
  }
  return rates;
}

/** CPU ticks of several processes, summed. */
function readCpuSum(pids) {
  let user = 0;
  let sys = 0;
  for (const pid of pids) {
    try {
      const c = readCpu(pid);
      user += c.user;
      sys += c.sys;
    } catch {}
  }
  return { user, sys, at: performance.now() };
}

/**
 * The fan-out clients, connected and logged in to `servers`: one server, or the nodes of a
 * cluster (then the clients alternate over the nodes, so every room has members, and
 * senders, on each). runStep(rate) measures one offered rate, with the servers' CPU summed
 * and the CPU of `sidePids` (Redis) apart, as `sideUsPerMsg`.
 */
async function fanoutSession(servers, kind, { sidePids = [], label = servers[0].key } = {}) {
  const f = cfg.fanout;
  const P = Math.min(cfg.loaders, f.rooms);
  const loaders = await startLoaders(P);
  const close = () => Promise.all(loaders.map((l) => l.stop()));
  // whole rooms per load process, so a message's sender and receivers share a clock
  const per = loaders.map(() => ({ names: [], rooms: [] }));
  for (let r = 0; r < f.rooms; r++) {
    for (let m = 0; m < f.members; m++) {
      per[r % P].names.push(`user${r}-${m}`);
      per[r % P].rooms.push(`bench-room-${r}`);
    }
  }
  const total = f.rooms * f.members;
  const ports = servers.map((s) => s.port);
  try {
    const conn = await Promise.all(
      loaders.map((l, i) =>
        l.call('connect', {
          kind,
          port: ports[0],
          ports: ports.length > 1 ? ports : undefined,
          n: per[i].names.length,
        }),
      ),
    );
    const errs = conn.reduce((s, c) => s + c.errors, 0);
    if (errs) throw new Error(`fan-out: ${errs} connections failed: ${conn.find((c) => c.firstError)?.firstError}`);
    const lg = await Promise.all(loaders.map((l, i) => l.call('login', per[i])));
    const bad = lg.reduce((s, x) => s + x.refused + x.errors, 0);
    if (bad)
      throw new Error(
        `fan-out: ${bad} logins failed: ${lg.find((x) => x.firstRefusal || x.firstError)?.firstRefusal ?? lg.find((x) => x.firstError)?.firstError}`,
      );
  } catch (e) {
    await close();
    throw e;
  }
  await sleep(500);

  const pids = servers.map((s) => s.pid);
  const steps = [];
  const warmups = [];
  let stepNo = 0;
  const runStep = async (rate, refine = false, warmup = false) => {
    const step = ++stepNo;
    const durationMs = warmup ? Math.min(f.stepMs, 1500) : f.stepMs;
    const c0 = readCpuSum(pids);
    const r0 = readCpuSum(sidePids);
    const l0 = loadersCpu(loaders);
    const pr = probe([...pids, ...sidePids, ...loaders.map((l) => l.child.pid)]);
    for (const srv of servers) resetLoopDelay(srv);
    const m0 = monoUs();
    const res = await Promise.all(
      loaders.map((l, i) =>
        l.call('fanoutStep', {
          step,
          rate: (rate * per[i].names.length) / total,
          durationMs,
          drainMs: f.drainMs,
          messageBytes: f.messageBytes,
        }),
      ),
    );
    const c1 = readCpuSum(pids);
    const r1 = readCpuSum(sidePids);
    const l1 = loadersCpu(loaders);
    const bg = pr.end();
    const m1 = monoUs();
    for (const srv of servers) srv.mark(`fanout ${rate}`, m0, m1);
    // Read after the CPU figures: the read costs the servers a little.
    const loopDelays = await Promise.all(servers.map((srv) => readLoopDelay(srv)));
    const worst = (k) => (loopDelays.every(Boolean) ? Math.max(...loopDelays.map((x) => x[k])) : null);
    const d = cpuDelta(c0, c1);
    const side = cpuDelta(r0, r1);
    const hist = new Hist();
    for (const r of res) hist.merge(r.hist);
    const sum = (k) => res.reduce((s, r) => s + r[k], 0);
    const offered = sum('offered');
    const received = sum('received');
    const expected = offered * f.members;
    const delivery = expected ? received / expected : 0;
    const lat = hist.summary();
    const ackErrors = sum('ackErrors');
    const shapeError = res.find((r) => r.shapeError)?.shapeError;
    const ok = delivery >= f.minDelivery && lat.p99 !== null && lat.p99 <= f.maxP99Ms && !ackErrors && !shapeError;
    /** @type {Record<string, any>} */
    const s = {
      rate,
      refine,
      ok,
      offered,
      sent: sum('sent'),
      acked: sum('acked'),
      ackErrors,
      firstAckError: res.find((r) => r.firstAckError)?.firstAckError,
      shapeError,
      expected,
      received,
      late: sum('late'),
      delivery,
      deliveredPerSec: received / (durationMs / 1000),
      p50: lat.p50,
      p95: lat.p95,
      p99: lat.p99,
      max: lat.max,
      serverUserUsPerMsg: received ? d.userUs / received : null,
      serverSysUsPerMsg: received ? d.sysUs / received : null,
      // of all servers together: a cluster of two nodes on one core can use at most 100%
      serverCpuUtil: (d.userUs + d.sysUs) / d.wallUs,
      loaderCpuUtil: loadersUtil(l0, l1),
      // the server's own event-loop delay over the step (of the worse node in a cluster)
      loopDelayP99: worst('p99'),
      loopDelayMax: worst('max'),
      ...bg,
    };
    if (sidePids.length) {
      s.sideUsPerMsg = received ? (side.userUs + side.sysUs) / received : null;
      s.sideCpuUtil = (side.userUs + side.sysUs) / side.wallUs;
    }
    if (warmup) {
      s.warmup = true;
      warmups.push(s);
    } else steps.push(s);
    log(
      `  ${label} fan-out ${String(rate).padStart(6)} msg/s offered: ${warmup ? 'warm-up' : ok ? 'ok  ' : 'FAIL'} delivered ${Math.round(s.deliveredPerSec)}/s (${(delivery * 100).toFixed(1)}%)` +
        ` p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} ms, server ${fmt(s.serverUserUsPerMsg)}+${fmt(s.serverSysUsPerMsg)} µs/msg, cpu ${pct(s.serverCpuUtil)}` +
        (sidePids.length ? `, redis ${fmt(s.sideUsPerMsg)} µs/msg (${pct(s.sideCpuUtil)})` : '') +
        `, load ${s.loaderCpuUtil.map(pct).join('/')}, others ${s.foreignCores.toFixed(2)}` +
        (s.firstAckError ? ` ack error ${s.firstAckError}` : '') +
        (shapeError ? ` bad broadcast ${shapeError}` : ''),
    );
    await sleep(f.pauseMs);
    return s;
  };
  return { total, P, steps, warmups, runStep, close };
}

async function scenarioFanout(srv, kind) {
  const f = cfg.fanout;
  const fs = await fanoutSession([srv], kind);
  try {
    // warm-up (JIT, buffers), not reported: half the first rate
    await fs.runStep(Math.round(f.startRate / 2), false, true);
    let lastOk = null;
    let firstFail = null;
    let retries = f.retries;
    for (const rate of ladder()) {
      let s = await fs.runStep(rate);
      if (srv.exited) throw new Error(`${srv.key} exited: ${srv.tail()}`);
      // one more try at the same rate (bounded per scenario), so that a transient stall of
      // the machine does not end the ladder; the failed attempt stays in the JSON
      if (!s.ok && retries > 0) {
        retries--;
        s.superseded = true;
        log(`  ${srv.key} fan-out: retrying ${rate} msg/s once`);
        s = await fs.runStep(rate);
      }
      if (!s.ok) {
        firstFail = rate;
        break;
      }
      lastOk = rate;
    }
    for (let i = 0; i < f.refine && lastOk && firstFail; i++) {
      const mid = Math.round(Math.sqrt(lastOk * firstFail) / 10) * 10;
      const s = await fs.runStep(mid, true);
      if (s.ok) lastOk = mid;
      else firstFail = mid;
    }
    const best =
      fs.steps.filter((s) => s.ok && !s.superseded).sort((a, b) => b.deliveredPerSec - a.deliveredPerSec)[0] ?? null;
    return {
      clients: fs.total,
      loaders: fs.P,
      warmups: fs.warmups,
      steps: fs.steps,
      maxDeliveredPerSec: best ? best.deliveredPerSec : 0,
      maxRate: best?.rate ?? 0,
    };
  } finally {
    await fs.close();
  }
}

/** The highest offered rate a fan-out ladder sustained (0 when none passed). */
function highestSustainedRate(fanout) {
  return Math.max(0, ...(fanout?.steps ?? []).filter((s) => s.ok && !s.superseded).map((s) => s.rate));
}

/**
 * Fan-out at the given shares of bare Socket.IO's highest sustained rate (`bareRate`), on a
 * freshly started server, after the same warm-up step as the ladder and a second one at the highest probed rate.
 */
async function scenarioFanoutAt(srv, kind, bareRate) {
  const fs = await fanoutSession([srv], kind);
  const rateAt = (share) => Math.max(10, Math.round((bareRate * share) / 10) * 10);
  try {
    await fs.runStep(Math.round(cfg.fanout.startRate / 2), false, true);
    // A second warm-up at the highest probed rate: a p99 at these rates comes down to a few
    // stalls per step, and a server a few seconds old is still compiling its hot paths (the
    // compiler threads share the server's pinned core). Every server gets the same.
    await fs.runStep(rateAt(Math.max(...PROBE_SHARES)), false, true);
    const steps = [];
    for (const share of PROBE_SHARES) {
      const s = await fs.runStep(rateAt(share));
      s.share = share;
      steps.push(s);
    }
    return { bareRate, steps };
  } finally {
    await fs.close();
  }
}

async function scenarioCalls(srv, kind) {
  return callRelay([srv], kind);
}

/**
 * The closed call-relay loop of the load processes, over `servers` (for the nodes of a
 * cluster, every caller on the first node and its callee on the second), with the servers'
 * CPU summed and the CPU of `sidePids` (Redis) apart.
 */
async function callRelay(
  servers,
  kind,
  { pairs = cfg.calls.pairs, rate = 0, sidePids = [], label = servers[0].key } = {},
) {
  const c = cfg.calls;
  const P = cfg.loaders;
  const loaders = await startLoaders(P);
  const ports = servers.map((s) => s.port);
  const pids = servers.map((s) => s.pid);
  try {
    const pairsPer = split(pairs, P);
    const conn = await Promise.all(
      loaders.map((l, i) =>
        l.call('connect', { kind, port: ports[0], ports: ports.length > 1 ? ports : undefined, n: pairsPer[i] * 2 }),
      ),
    );
    const errs = conn.reduce((s, x) => s + x.errors, 0);
    if (errs) throw new Error(`calls: ${errs} connections failed: ${conn.find((x) => x.firstError)?.firstError}`);
    let base = 0;
    await Promise.all(
      loaders.map((l, i) => {
        const names = [];
        const rooms = [];
        for (let k = 0; k < pairsPer[i]; k++) {
          names.push('caller', 'callee');
          rooms.push(`call-${base + k}`, `call-${base + k}`);
        }
        base += pairsPer[i];
        return l.call('login', { names, rooms });
      }),
    );
    await sleep(300);
    const running = Promise.all(
      loaders.map((l) =>
        l.call('callRelay', {
          warmupMs: c.warmupMs,
          durationMs: c.durationMs,
          signalBytes: c.signalBytes,
          trickle: c.trickle,
          // a pair's cycle is 1 + trickle round trips
          paceMs: rate ? ((1 + c.trickle) * pairs * 1000) / rate : 0,
        }),
      ),
    );
    // CPU over the measured window only (the load processes count round trips in the same window)
    await sleep(c.warmupMs);
    const c0 = readCpuSum(pids);
    const r0 = readCpuSum(sidePids);
    const l0 = loadersCpu(loaders);
    const pr = probe([...pids, ...sidePids, ...loaders.map((l) => l.child.pid)]);
    const m0 = monoUs();
    for (const srv of servers) resetLoopDelay(srv);
    await sleep(c.durationMs);
    const c1 = readCpuSum(pids);
    const r1 = readCpuSum(sidePids);
    const l1 = loadersCpu(loaders);
    const bg = pr.end();
    const m1 = monoUs();
    for (const srv of servers) srv.mark('calls', m0, m1);
    // each server's own event-loop delay over the window (the worst node's, for a cluster)
    const loopDelays = await Promise.all(servers.map((srv) => readLoopDelay(srv)));
    const worstDelay = (k) => (loopDelays.every(Boolean) ? Math.max(...loopDelays.map((x) => x[k])) : null);
    const res = await running;
    const d = cpuDelta(c0, c1);
    const side = cpuDelta(r0, r1);
    const hist = new Hist();
    for (const r of res) hist.merge(r.hist);
    const done = res.reduce((s, r) => s + r.done, 0);
    const relayed = res.reduce((s, r) => s + (r.relayed ?? 0), 0);
    const errors = res.reduce((s, r) => s + r.errors, 0);
    const lat = hist.summary();
    /** @type {Record<string, any>} */
    const out = {
      pairs,
      roundTrips: done,
      roundTripsPerSec: done / (c.durationMs / 1000),
      p50: lat.p50,
      p99: lat.p99,
      max: lat.max,
      errors,
      firstError: res.find((r) => r.firstError)?.firstError,
      // the whole loop (call, answer, accepted, hangup, ended), over the measured window
      serverCpuUtil: (d.userUs + d.sysUs) / d.wallUs,
      serverCpuUsPerRoundTrip: done ? (d.userUs + d.sysUs) / done : null,
      relayed,
      serverCpuUsPerRelayed: relayed ? (d.userUs + d.sysUs) / relayed : null,
      loaderCpuUtil: loadersUtil(l0, l1),
      loopDelayP99: worstDelay('p99'),
      loopDelayMax: worstDelay('max'),
      ...bg,
    };
    if (rate) {
      out.offeredPerSec = rate;
      // round trips are counted whole inside the window, so a little under the offered rate
      out.ok = errors === 0 && out.roundTripsPerSec >= 0.9 * rate;
    }
    if (sidePids.length) {
      out.sideUsPerRoundTrip = done ? (side.userUs + side.sysUs) / done : null;
      out.sideCpuUtil = (side.userUs + side.sysUs) / side.wallUs;
    }
    log(
      `  ${label} calls: ${Math.round(out.roundTripsPerSec)} round trips/s, p50 ${fmt(out.p50)} p99 ${fmt(out.p99)} ms, errors ${errors}${out.firstError ? ` (${out.firstError})` : ''}, cpu ${pct(out.serverCpuUtil)}` +
        (sidePids.length ? `, redis ${fmt(out.sideUsPerRoundTrip)} µs/round trip (${pct(out.sideCpuUtil)})` : '') +
        `, loop delay p99 ${fmt(out.loopDelayP99, 2)} max ${fmt(out.loopDelayMax, 1)} ms` +
        `, load ${out.loaderCpuUtil.map(pct).join('/')}, others ${out.foreignCores.toFixed(2)}`,
    );
    return out;
  } finally {
    await Promise.all(loaders.map((l) => l.stop()));
  }
}

async function scenarioConns(srv, kind) {
  const c = cfg.conns;
  const P = cfg.loaders;
  await sleep(1000);
  const before = await memory(srv);
  const loaders = await startLoaders(P);
  try {
    // four quarters: memory is measured (after full GCs) at 0, n/4, n/2, 3n/4 and n
    // connections; the per-connection figure is the least-squares slope over the last four
    // points, which the heap a server reserved at start-up does not flatter
    const phases = split(c.n, 4);
    let connectMs = 0;
    let loginMs = 0;
    // server CPU over the login phases (each login also sends `join` and `users` to the room)
    let loginCpuUs = 0;
    let refused = 0;
    let firstLoginFailure;
    const points = [{ n: 0, ...before }];
    let global = 0;
    const offsets = new Array(P).fill(0);
    const pr = probe([srv.pid, ...loaders.map((l) => l.child.pid)]);
    for (const count of phases) {
      const per = split(count, P);
      let t = performance.now();
      const conn = await Promise.all(
        loaders.map((l, i) => l.call('connect', { kind, port: srv.port, n: per[i], concurrency: c.concurrency })),
      );
      connectMs += performance.now() - t;
      const errs = conn.reduce((s, x) => s + x.errors, 0);
      if (errs) throw new Error(`conns: ${errs} connections failed: ${conn.find((x) => x.firstError)?.firstError}`);
      const args = per.map((n, i) => {
        const names = [];
        const rooms = [];
        for (let j = 0; j < n; j++, global++) {
          names.push(`member${global % c.roomSize}`);
          rooms.push(`conn-room-${Math.floor(global / c.roomSize)}`);
        }
        const a = { names, rooms, offset: offsets[i], concurrency: c.concurrency };
        offsets[i] += n;
        return a;
      });
      t = performance.now();
      const m0 = monoUs();
      const cpu0 = readCpu(srv.pid);
      const lg = await Promise.all(loaders.map((l, i) => l.call('login', args[i])));
      const dc = cpuDelta(cpu0, readCpu(srv.pid));
      loginCpuUs += dc.userUs + dc.sysUs;
      loginMs += performance.now() - t;
      srv.mark('logins', m0, monoUs());
      refused += lg.reduce((s, x) => s + x.refused + x.errors, 0);
      firstLoginFailure ??= lg.find((x) => x.firstRefusal)?.firstRefusal ?? lg.find((x) => x.firstError)?.firstError;
      await sleep(c.settleMs);
      points.push({ n: global, ...(await memory(srv)) });
    }
    const bg = pr.end();
    const after = points[points.length - 1];
    const slope = (key) => {
      const ps = points.slice(1).filter((p) => p[key] !== null);
      if (ps.length < 2) return null;
      const mx = ps.reduce((a, p) => a + p.n, 0) / ps.length;
      const my = ps.reduce((a, p) => a + p[key], 0) / ps.length;
      const sxy = ps.reduce((a, p) => a + (p.n - mx) * (p[key] - my), 0);
      const sxx = ps.reduce((a, p) => a + (p.n - mx) ** 2, 0);
      return sxy / sxx;
    };
    const out = {
      n: c.n,
      roomSize: c.roomSize,
      connectsPerSec: c.n / (connectMs / 1000),
      loginsPerSec: c.n / (loginMs / 1000),
      serverCpuUsPerLogin: loginCpuUs / c.n,
      loginFailures: refused,
      firstLoginFailure,
      points,
      rssKb: points.map((p) => p.rssKb),
      rssPerConnKb: slope('rssKb'),
      rssPerConnFromZeroKb: (after.rssKb - before.rssKb) / c.n,
      heapPerConnKb: before.heapUsed === null ? null : slope('heapUsed') / 1024,
      ...bg,
    };
    log(
      `  ${srv.key} conns: ${c.n} connected at ${Math.round(out.connectsPerSec)}/s, logged in at ${Math.round(out.loginsPerSec)}/s (${refused} failed${firstLoginFailure ? `: ${firstLoginFailure}` : ''}), ` +
        `RSS ${out.rssKb.join('→')} KB = ${fmt(out.rssPerConnKb)} KB/conn (from zero ${fmt(out.rssPerConnFromZeroKb)}), heap ${fmt(out.heapPerConnKb)} KB/conn, others ${out.foreignCores.toFixed(2)}`,
    );
    return out;
  } finally {
    await Promise.all(loaders.map((l) => l.stop()));
  }
}

// ---- two nodes over Redis ------------------------------------------------------------------
// Both nodes run on the server core (CPU 0), the load generators keep CPU 1 to themselves:
// the same for Parley and bare Socket.IO, and the servers get one core in total as in the
// single-node scenarios. Redis is the machine's own redis-server, left where it runs (it is
// not ours to re-pin); its CPU is read from /proc and shown apart.

/** The pids of the machine's redis-server processes. */
function redisPids() {
  try {
    return execFileSync('pgrep', ['-x', 'redis-server']).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Waits (at most maxMs) until `pids` together use under 5% of a core over 500 ms. */
async function settle(pids, maxMs = 15000) {
  const t0 = performance.now();
  for (;;) {
    const a = readCpuSum(pids);
    await sleep(500);
    const d = cpuDelta(a, readCpuSum(pids));
    const util = (d.userUs + d.sysUs) / d.wallUs;
    if (util < 0.05 || performance.now() - t0 > maxMs) return { ms: Math.round(performance.now() - t0), util };
  }
}

/** A client of the scenario's Redis that fails fast instead of retrying. */
async function redisClient() {
  const { Redis } = await import('ioredis');
  const r = new Redis(cfg.cluster.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  r.on('error', () => undefined);
  await r.connect();
  return r;
}

/** Deletes the keys under `prefix`, and only those (SCAN + DEL; never the whole database). */
async function dropRedisPrefix(prefix) {
  const r = await redisClient();
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

/**
 * Two nodes of `key` over Redis, a key prefix of their own: fan-out at the fixed offered
 * load cfg.cluster.rate (every room's members, and senders, on both nodes), then call relay
 * (callers on node A, callees on node B). The prefix's keys are deleted afterwards.
 */
async function scenarioCluster(key, run) {
  const kind = SERVERS[key].client;
  // only letters, digits, '-' and ':' (no glob characters for the SCAN pattern)
  const prefix = `parley-bench-${process.pid}-${run}-${key}-${Date.now().toString(36)}:`;
  const env = { REDIS_URL: cfg.cluster.redisUrl, REDIS_KEY_PREFIX: prefix };
  const nodes = [];
  try {
    nodes.push(await startServer(key, { node: '-a', env }));
    nodes.push(await startServer(key, { node: '-b', env }));
    const smokeKey = `${key}-cluster`;
    if (!results.smoke[smokeKey]) {
      results.smoke[smokeKey] = await smoke(nodes[0], kind, nodes[1].port);
      if (results.smoke[smokeKey].length) log(`  smoke check problems: ${results.smoke[smokeKey].join('; ')}`);
    }
    const sidePids = redisPids();
    const label = `${key} ×2`;
    const fs = await fanoutSession(nodes, kind, { sidePids, label });
    let fanout;
    try {
      await fs.runStep(Math.round(cfg.cluster.rate / 2), false, true);
      const step = await fs.runStep(cfg.cluster.rate);
      fanout = { clients: fs.total, warmups: fs.warmups, step };
    } finally {
      await fs.close();
    }
    const gone = nodes.find((n) => n.exited);
    if (gone) throw new Error(`${key} node exited: ${gone.tail()}`);
    // the fan-out clients' departures (every room's leave and users, across the nodes) must
    // not be counted as call relay: wait, within a bound, until the nodes are idle
    const settled = await settle(nodes.map((n) => n.pid));
    log(`  ${label} idle ${settled.ms} ms after the fan-out clients left (${pct(settled.util)} of a core)`);
    const calls = await callRelay(nodes, kind, {
      pairs: cfg.cluster.pairs,
      rate: cfg.cluster.callRate,
      sidePids,
      label,
    });
    return { prefix, redisPids: sidePids, pinning: `both nodes on CPU ${SERVER_CPUS}`, fanout, calls };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    try {
      log(`  deleted ${await dropRedisPrefix(prefix)} Redis keys under ${prefix}`);
    } catch (e) {
      log(`  could not delete the Redis keys under ${prefix}: ${e instanceof Error ? e.message : e}`);
    }
  }
}

// ---- formatting ---------------------------------------------------------------------------
function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (digits !== undefined) return v.toFixed(digits);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
const pct = (v) => `${Math.round(v * 100)}%`;
function median(xs) {
  const v = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---- main ------------------------------------------------------------------------------------
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cpus: NCPU,
  memGb: Math.round(os.totalmem() / 2 ** 30),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  clkTck: CLK_TCK,
  pinning: HAS_TASKSET
    ? `server on CPU ${SERVER_CPUS}, load generators on CPU ${CLIENT_CPUS} (taskset)`
    : 'none (taskset not found)',
};
const results = {
  startedAt: new Date().toISOString(),
  command: `node bench/run.mjs ${argv.join(' ')}`.trim(),
  config: cfg,
  machine,
  smoke: {},
  errors: [],
  runs: [],
};

function collect() {
  // medians over runs, per server and figure
  const S = {};
  for (const key of cfg.servers) {
    const runs = results.runs.map((r) => r[key]).filter(Boolean);
    const get = (fn) =>
      runs.map((r) => {
        try {
          return fn(r);
        } catch {
          return null;
        }
      });
    S[key] = { get, runs };
  }
  // reference offered rate for CPU per message: the highest ladder step that every server ran
  // in every run and passed in most of its runs
  let ref = null;
  for (const rate of ladder()) {
    const all = cfg.servers.every((k) => {
      const rs = S[k].runs.filter((r) => r.fanout);
      const at = rs.map((r) => r.fanout.steps.find((s) => s.rate === rate && !s.refine && !s.superseded));
      return rs.length && at.every(Boolean) && at.filter((s) => s.ok).length * 2 > rs.length;
    });
    if (all) ref = rate;
  }
  if (ref === null) ref = ladder()[0];
  const atRef = (r) => r.fanout.steps.find((s) => s.rate === ref && !s.refine && !s.superseded);
  const med = {};
  const spread = {};
  const figures = {
    maxDelivered: (r) => r.fanout.maxDeliveredPerSec,
    refUser: (r) => atRef(r).serverUserUsPerMsg,
    refSys: (r) => atRef(r).serverSysUsPerMsg,
    refTotal: (r) => atRef(r).serverUserUsPerMsg + atRef(r).serverSysUsPerMsg,
    refP50: (r) => atRef(r).p50,
    refP99: (r) => atRef(r).p99,
    refUtil: (r) => atRef(r).serverCpuUtil,
    callsRate: (r) => r.calls.roundTripsPerSec,
    callsP50: (r) => r.calls.p50,
    callsP99: (r) => r.calls.p99,
    callsCpu: (r) => r.calls.serverCpuUsPerRoundTrip,
    callsCpuRelayed: (r) => r.calls.serverCpuUsPerRelayed,
    callsLoopP99: (r) => r.calls.loopDelayP99 ?? null,
    callsLoopMax: (r) => r.calls.loopDelayMax ?? null,
    bgFanout: (r) => median(r.fanout.steps.map((s) => s.foreignCores)),
    bgCalls: (r) => r.calls.foreignCores,
    bgConns: (r) => r.conns.foreignCores,
    rssPerConn: (r) => r.conns.rssPerConnKb,
    rssPerConnZero: (r) => r.conns.rssPerConnFromZeroKb,
    heapPerConn: (r) => r.conns.heapPerConnKb,
    logins: (r) => r.conns.loginsPerSec,
    loginCpu: (r) => r.conns.serverCpuUsPerLogin,
    connects: (r) => r.conns.connectsPerSec,
    // two nodes over Redis: both nodes' CPU together; Redis's apart
    clusterFanCpu: (r) => r.cluster.fanout.step.serverUserUsPerMsg + r.cluster.fanout.step.serverSysUsPerMsg,
    clusterFanRedis: (r) => r.cluster.fanout.step.sideUsPerMsg,
    clusterFanDelivery: (r) => r.cluster.fanout.step.delivery * 100,
    clusterFanP50: (r) => r.cluster.fanout.step.p50,
    clusterFanP99: (r) => r.cluster.fanout.step.p99,
    clusterFanUtil: (r) => r.cluster.fanout.step.serverCpuUtil * 100,
    clusterCallsCpu: (r) => r.cluster.calls.serverCpuUsPerRoundTrip,
    clusterCallsRedis: (r) => r.cluster.calls.sideUsPerRoundTrip,
    clusterCallsRate: (r) => r.cluster.calls.roundTripsPerSec,
    clusterCallsP99: (r) => r.cluster.calls.p99,
    clusterBgFan: (r) => r.cluster.fanout.step.foreignCores,
    clusterBgCalls: (r) => r.cluster.calls.foreignCores,
  };
  const atShare = (r, share) => r.fanoutAt.steps.find((s) => s.share === share);
  for (const share of PROBE_SHARES) {
    figures[`share${share * 100}P99`] = (r) => atShare(r, share).p99;
    figures[`share${share * 100}Rate`] = (r) => atShare(r, share).rate;
  }
  for (const key of cfg.servers) {
    med[key] = {};
    spread[key] = {};
    for (const [name, fn] of Object.entries(figures)) {
      const vals = S[key].get(fn).filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
      med[key][name] = median(vals);
      spread[key][name] = vals.length ? [Math.min(...vals), Math.max(...vals)] : null;
    }
  }
  // per-step medians for each server
  const stepTables = {};
  for (const key of cfg.servers) {
    const byRate = new Map();
    for (const r of S[key].runs) {
      for (const s of r.fanout?.steps ?? []) {
        if (s.superseded) continue;
        if (!byRate.has(s.rate)) byRate.set(s.rate, []);
        byRate.get(s.rate).push(s);
      }
    }
    stepTables[key] = [...byRate.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([rate, ss]) => ({
        rate,
        runs: ss.length,
        ok: `${ss.filter((s) => s.ok).length}/${ss.length}`,
        deliveredPerSec: median(ss.map((s) => s.deliveredPerSec)),
        delivery: median(ss.map((s) => s.delivery)),
        p50: median(ss.map((s) => s.p50)),
        p95: median(ss.map((s) => s.p95)),
        p99: median(ss.map((s) => s.p99)),
        userUs: median(ss.map((s) => s.serverUserUsPerMsg)),
        sysUs: median(ss.map((s) => s.serverSysUsPerMsg)),
        serverCpu: median(ss.map((s) => s.serverCpuUtil)),
        loaderCpu: median(ss.map((s) => s.loaderCpuUtil.reduce((a, b) => a + b, 0))),
        foreign: median(ss.map((s) => s.foreignCores)),
      }));
  }
  // per server and share of bare's rate: medians over runs, for the table and the chart
  const shareTables = {};
  for (const key of cfg.servers) {
    shareTables[key] = PROBE_SHARES.map((share) => {
      const ss = S[key].runs.map((r) => r.fanoutAt?.steps.find((s) => s.share === share)).filter(Boolean);
      if (!ss.length) return null;
      return {
        share,
        rate: median(ss.map((s) => s.rate)),
        runs: ss.length,
        ok: `${ss.filter((s) => s.ok).length}/${ss.length}`,
        deliveredPerSec: median(ss.map((s) => s.deliveredPerSec)),
        delivery: median(ss.map((s) => s.delivery)),
        p50: median(ss.map((s) => s.p50)),
        p99: median(ss.map((s) => s.p99)),
        loopDelayP99: median(ss.map((s) => s.loopDelayP99).filter((v) => v != null)),
        loopDelayMax: median(ss.map((s) => s.loopDelayMax).filter((v) => v != null)),
        userUs: median(ss.map((s) => s.serverUserUsPerMsg)),
        sysUs: median(ss.map((s) => s.serverSysUsPerMsg)),
        serverCpu: median(ss.map((s) => s.serverCpuUtil)),
      };
    }).filter(Boolean);
  }
  // a cluster step that did not pass (delivery, p99, ack errors) is said so under the table
  const clusterPassed = {};
  for (const key of cfg.servers) {
    const passed = (ss) => `${ss.filter((s) => s.ok).length}/${ss.length}`;
    const fan = S[key].runs.map((r) => r.cluster?.fanout?.step).filter(Boolean);
    const calls = S[key].runs.map((r) => r.cluster?.calls).filter(Boolean);
    if (fan.length || calls.length) clusterPassed[key] = { fanout: passed(fan), calls: passed(calls) };
  }
  return { ref, med, spread, stepTables, shareTables, clusterPassed };
}

function ratio(a, b) {
  return a === null || b === null || a === undefined || b === undefined || b === 0 ? null : a / b;
}

/** The two-nodes-over-Redis table (empty when the scenario did not run). */
function clusterTable({ med, clusterPassed }, vsBare, cell, rc) {
  const keys = cfg.servers.filter((k) => SERVERS[k].cluster && clusterPassed[k]);
  if (!keys.length) return '';
  const both = keys.includes('parley') && keys.includes('bare');
  const c = cfg.cluster;
  // (results from before the calls were paced ran them as a closed loop)
  const calls = c.callRate ? `Call relay @ ${c.callRate} round trips/s offered` : 'Call relay (closed loop)';
  /** @type {Array<[string, string, number, [string, (r: number) => boolean] | null, string | null]>} */
  const rows = [
    // [label, figure, digits, target vs bare, Redis's figure]
    [
      `Fan-out @ ${c.rate} msg/s offered: server CPU µs / delivered msg, both nodes`,
      'clusterFanCpu',
      2,
      ['≤ 1.1×', (r) => r <= 1.1],
      'clusterFanRedis',
    ],
    [
      `${calls}, callers on node A, callees on node B: server CPU µs / round trip, both nodes`,
      'clusterCallsCpu',
      1,
      ['≤ 1.1×', (r) => r <= 1.1],
      'clusterCallsRedis',
    ],
    [`Fan-out @ ${c.rate} msg/s offered: delivery, %`, 'clusterFanDelivery', 1, null, null],
    [`Fan-out @ ${c.rate} msg/s offered: p50 latency, ms`, 'clusterFanP50', 2, null, null],
    [`Fan-out @ ${c.rate} msg/s offered: p99 latency, ms`, 'clusterFanP99', 2, null, null],
    [`Fan-out @ ${c.rate} msg/s offered: both nodes' CPU, % of a core`, 'clusterFanUtil', 0, null, null],
    [`${calls}: round trips/s`, 'clusterCallsRate', 0, null, null],
    [`${calls}: p99 latency, ms`, 'clusterCallsP99', 2, null, null],
  ];
  const names = keys.map((k) => SERVERS[k].label);
  let md = `\n**Two nodes over Redis** (\`--scenarios cluster\`): two processes of each server with the same Redis (${c.redisUrl}) and \`@socket.io/redis-streams-adapter\`, a key prefix per run (deleted afterwards); both nodes on CPU ${SERVER_CPUS}, the load generators on CPU ${CLIENT_CPUS}; Redis (the machine's \`redis-server\`, not re-pinned) is measured apart. Fan-out ${cfg.fanout.rooms} rooms × ${cfg.fanout.members} members, each room's members alternating over the two nodes, senders on both; call relay ${c.pairs} pairs, every caller on node A and its callee on node B${c.callRate ? `, each pair paced so that together they offer ${c.callRate} round trips/s (the loop of the call-relay scenario, not at full speed)` : ''}.\n\n`;
  md += `| Figure | ${names.join(' | ')} |${both ? ' Parley/bare | target |' : ''} ${names.map((n) => `Redis CPU, ${n} run`).join(' | ')} |\n`;
  md += `|---|${names.map(() => '---:').join('|')}|${both ? '---:|---|' : ''}${names.map(() => '---:').join('|')}|\n`;
  for (const [label, fig, digits, target, redisFig] of rows) {
    md += `| ${label} | ${keys.map((k) => cell(k, fig, digits)).join(' | ')} |`;
    if (both) md += vsBare(fig, target);
    md += ` ${keys.map((k) => (redisFig ? cell(k, redisFig, digits) : '')).join(' | ')} |\n`;
  }
  md += `\nServer CPU is the sum of both nodes' utime+stime over the step (fan-out: per delivered message; call relay: per round trip, as in the single-node table); Redis's CPU per delivered message / round trip is informational (it also serves any other client of that Redis). Sustained (fan-out: delivery ≥ ${cfg.fanout.minDelivery * 100}%, p99 ≤ ${cfg.fanout.maxP99Ms} ms, no ack error; call relay: no error, ≥ 90% of the offered round trips counted): ${keys.map((k) => `${SERVERS[k].label} fan-out ${clusterPassed[k].fanout}, call relay ${clusterPassed[k].calls}`).join('; ')}.`;
  if (both) {
    const r = ratio(med.parley.clusterFanRedis, med.bare.clusterFanRedis);
    if (r !== null) md += ` Redis CPU per delivered message, Parley/bare: ${rc(r)}.`;
  }
  md += ` Other processes' CPU during fan-out / call relay, cores: ${keys.map((k) => `${SERVERS[k].label} ${fmt(med[k].clusterBgFan, 2)} / ${fmt(med[k].clusterBgCalls, 2)}`).join('; ')}.\n`;
  if (keys.some((k) => (med[k].clusterBgFan ?? 0) > 0.25 || (med[k].clusterBgCalls ?? 0) > 0.25)) {
    md += `\n> **Noisy run:** other processes used more than a quarter of a core during a cluster measurement; latencies mean little, CPU per message a little more.\n`;
  }
  return `${md}\n`;
}

const SERIES_COLOURS = { parley: '#d62728', 'parley-nohist': '#ff7f0e', bare: '#1f77b4', raw: '#2ca02c' };
const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1, 2 or 5 times a power of ten, at least x. */
function niceStep(x) {
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= x);
}

/**
 * The fan-out chart as an SVG document: p99 latency (log scale) against offered rate, one
 * polyline per server through the ladder's per-step medians; filled dots are steps that
 * passed in most runs, crosses steps that did not; hollow squares are the steps at shares of
 * bare's highest rate (not on the lines: measured on fresh servers). Null when there is no
 * fan-out step to draw.
 */
function fanoutSvg(stepTables, shareTables) {
  const passed = (ok) => {
    const [a, b] = ok.split('/').map(Number);
    return a * 2 > b;
  };
  const series = cfg.servers
    .map((key) => ({
      key,
      colour: SERIES_COLOURS[key] ?? '#555',
      pts: (stepTables[key] ?? []).filter((s) => s.p99 > 0).map((s) => ({ x: s.rate, y: s.p99, ok: passed(s.ok) })),
      shares: (shareTables[key] ?? []).filter((s) => s.p99 > 0).map((s) => ({ x: s.rate, y: s.p99 })),
    }))
    .filter((s) => s.pts.length || s.shares.length);
  if (!series.length) return null;
  const W = 820;
  const H = 480;
  const L = 72;
  const R = 210;
  const T = 44;
  const B = 64;
  const all = series.flatMap((s) => [...s.pts, ...s.shares]);
  const limit = cfg.fanout.maxP99Ms;
  const xStep = niceStep(Math.max(...all.map((p) => p.x)) / 6);
  // a little room right of the last step, so its marker is not on the frame
  const xMax = Math.ceil((Math.max(...all.map((p) => p.x)) * 1.04) / xStep) * xStep;
  const yLo = Math.floor(Math.log10(Math.min(...all.map((p) => p.y))));
  const yHi = Math.max(Math.ceil(Math.log10(Math.max(...all.map((p) => p.y), limit))), yLo + 1);
  const px = (x) => L + (x / xMax) * (W - L - R);
  const py = (y) => T + (1 - (Math.log10(y) - yLo) / (yHi - yLo)) * (H - T - B);
  const n = (v) => v.toFixed(1);
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${L}" y="22" font-size="15" font-weight="bold">Fan-out: p99 latency against offered load (${esc(cfg.mode)} mode, medians over ${cfg.runs} run${cfg.runs > 1 ? 's' : ''})</text>`,
  );
  // grid and ticks: x linear, y log (1, 2, 5 per decade)
  for (let x = 0; x <= xMax; x += xStep) {
    out.push(
      `<line x1="${n(px(x))}" y1="${T}" x2="${n(px(x))}" y2="${H - B}" stroke="#e4e4e4"/>`,
      `<text x="${n(px(x))}" y="${H - B + 18}" text-anchor="middle">${x.toLocaleString('en-US')}</text>`,
    );
  }
  for (let d = yLo; d <= yHi; d++) {
    for (const m of d < yHi ? [1, 2, 5] : [1]) {
      const y = m * 10 ** d;
      const label = y >= 1 ? y.toLocaleString('en-US') : y.toFixed(-d);
      out.push(
        `<line x1="${L}" y1="${n(py(y))}" x2="${W - R}" y2="${n(py(y))}" stroke="${m === 1 ? '#cfcfcf' : '#eeeeee'}"/>`,
        `<text x="${L - 8}" y="${n(py(y) + 4)}" text-anchor="end">${label}</text>`,
      );
    }
  }
  out.push(
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`,
    `<line x1="${L}" y1="${n(py(limit))}" x2="${W - R}" y2="${n(py(limit))}" stroke="#999" stroke-dasharray="6 4"/>`,
    `<text x="${W - R - 4}" y="${n(py(limit) - 5)}" text-anchor="end" fill="#777">p99 limit of a passed step, ${limit} ms</text>`,
    `<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">offered load, roomMessage/s (each delivered to ${cfg.fanout.members} members)</text>`,
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">p99 latency, ms (log scale)</text>`,
  );
  for (const s of series) {
    if (s.pts.length > 1) {
      const pts = s.pts.map((p) => `${n(px(p.x))},${n(py(p.y))}`).join(' ');
      out.push(`<polyline points="${pts}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    }
    for (const p of s.pts) {
      const [x, y] = [px(p.x), py(p.y)];
      out.push(
        p.ok
          ? `<circle cx="${n(x)}" cy="${n(y)}" r="3.5" fill="${s.colour}"/>`
          : `<path d="M${n(x - 4)},${n(y - 4)}L${n(x + 4)},${n(y + 4)}M${n(x - 4)},${n(y + 4)}L${n(x + 4)},${n(y - 4)}" stroke="${s.colour}" stroke-width="2"/>`,
      );
    }
    for (const p of s.shares) {
      out.push(
        `<rect x="${n(px(p.x) - 4.5)}" y="${n(py(p.y) - 4.5)}" width="9" height="9" fill="none" stroke="${s.colour}" stroke-width="1.5"/>`,
      );
    }
  }
  // legend
  const lx = W - R + 16;
  series.forEach((s, i) => {
    const y = T + 10 + i * 20;
    out.push(
      `<line x1="${lx}" y1="${y}" x2="${lx + 22}" y2="${y}" stroke="${s.colour}" stroke-width="2"/>`,
      `<circle cx="${lx + 11}" cy="${y}" r="3.5" fill="${s.colour}"/>`,
      `<text x="${lx + 30}" y="${y + 4}">${esc(SERVERS[s.key].label)}</text>`,
    );
  });
  const ky = T + 10 + series.length * 20 + 14;
  out.push(
    `<circle cx="${lx + 11}" cy="${ky}" r="3.5" fill="#555"/>`,
    `<text x="${lx + 30}" y="${ky + 4}">step passed (most runs)</text>`,
    `<path d="M${lx + 7},${ky + 16}L${lx + 15},${ky + 24}M${lx + 7},${ky + 24}L${lx + 15},${ky + 16}" stroke="#555" stroke-width="2"/>`,
    `<text x="${lx + 30}" y="${ky + 24}">step failed</text>`,
  );
  if (series.some((s) => s.shares.length)) {
    out.push(
      `<rect x="${lx + 6.5}" y="${ky + 35.5}" width="9" height="9" fill="none" stroke="#555" stroke-width="1.5"/>`,
      `<text x="${lx + 30}" y="${ky + 44}">at ${PROBE_SHARES.map((x) => `${x * 100}%`).join(' / ')} of bare's</text>`,
      `<text x="${lx + 30}" y="${ky + 58}">highest rate (fresh server)</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function writeOutputs(partial = false) {
  mkdirSync(RESULTS, { recursive: true });
  const summary = collect();
  results.summary = summary;
  if (!REPORT) {
    results.partial = partial;
    results.finishedAt = new Date().toISOString();
    results.durationSec = Number(elapsed());
  }
  const { med, spread, ref, stepTables, shareTables } = summary;
  const has = (k) => cfg.servers.includes(k);
  const P = 'parley';
  const shareRate = (share) => med.bare?.[`share${share * 100}Rate`];
  /** @type {Array<[string, string, boolean, number, [string, (r: number) => boolean] | null]>} */
  const rows = [
    // [label, figure, higherIsBetter, digits, target vs bare]
    ['Fan-out: highest sustained delivered msg/s', 'maxDelivered', true, 0, ['≥ 1.0×', (r) => r >= 1.0]],
    [
      `Fan-out @ ${ref} msg/s offered: server CPU µs / delivered msg, user`,
      'refUser',
      false,
      2,
      ['≤ 1.05×', (r) => r <= 1.05],
    ],
    [`Fan-out @ ${ref} msg/s offered: server CPU µs / delivered msg, system`, 'refSys', false, 2, null],
    [
      `Fan-out @ ${ref} msg/s offered: server CPU µs / delivered msg, total`,
      'refTotal',
      false,
      2,
      ['≤ 1.0×', (r) => r <= 1.0],
    ],
    [`Fan-out @ ${ref} msg/s offered: p50 latency, ms`, 'refP50', false, 2, null],
    [`Fan-out @ ${ref} msg/s offered: p99 latency, ms`, 'refP99', false, 2, null],
    ...PROBE_SHARES.map((share) => {
      const rate = shareRate(share);
      /** @type {[string, string, boolean, number, [string, (r: number) => boolean]]} */
      const row = [
        `Fan-out p99 @ ${share * 100}% of bare's highest rate${rate ? ` (${fmt(rate, 0)} msg/s offered)` : ''}, ms`,
        `share${share * 100}P99`,
        false,
        2,
        ['≤ 1.2×', (r) => r <= 1.2],
      ];
      return row;
    }),
    ['Call relay: round trips/s', 'callsRate', true, 0, ['≥ 1.0×', (r) => r >= 1.0]],
    ['Call relay: p50 latency, ms', 'callsP50', false, 2, null],
    ['Call relay: p99 latency, ms', 'callsP99', false, 2, ['≤ 1.1×', (r) => r <= 1.1]],
    [
      'Call relay: server CPU µs / relayed message (call, answer, each trickle signal, hangup)',
      'callsCpuRelayed',
      false,
      1,
      ['≤ 1.0×', (r) => r <= 1.0],
    ],
    [
      'Call relay: server CPU µs / round trip (a call answered, or one trickle signal there and back)',
      'callsCpu',
      false,
      1,
      null,
    ],
    ["Call relay: server's own event-loop delay p99, ms", 'callsLoopP99', false, 2, null],
    ["Call relay: server's own event-loop delay max, ms", 'callsLoopMax', false, 1, null],
    [
      'Connections: RSS per logged-in connection (slope n/4→n), KB',
      'rssPerConn',
      false,
      1,
      ['≤ 0.8× (aim 0.7×)', (r) => r <= 0.8],
    ],
    ['Connections: RSS per connection counted from zero connections, KB', 'rssPerConnZero', false, 1, null],
    ['Connections: JS heap per logged-in connection, KB', 'heapPerConn', false, 1, ['≤ 0.8×', (r) => r <= 0.8]],
    ['Connections: logins/s', 'logins', true, 0, ['≥ 1.0×', (r) => r >= 1.0]],
    [
      'Connections: server CPU µs / login (with its `join` and `users` to the room)',
      'loginCpu',
      false,
      1,
      ['≤ 1.0×', (r) => r <= 1.0],
    ],
    ['Connections: connects/s', 'connects', true, 0, null],
    ["Noise: other processes' CPU during fan-out / calls / logins, cores", 'bg', false, 2, null],
  ];
  const cell = (key, fig, digits) => {
    const v = med[key]?.[fig];
    if (v === null || v === undefined) return '–';
    const sp = spread[key][fig];
    const main = fmt(v, v >= 1000 ? undefined : digits);
    return cfg.runs > 1 && sp && sp[0] !== sp[1]
      ? `${main} <sub>(${fmt(sp[0], sp[0] >= 1000 ? undefined : digits)}–${fmt(sp[1], sp[1] >= 1000 ? undefined : digits)})</sub>`
      : main;
  };
  const rc = (r) => (r === null ? '–' : `${r.toFixed(2)}×`);
  /** The Parley/bare ratio and target cells of a figure. */
  const vsBare = (fig, target) => {
    const r = ratio(med[P][fig], med.bare[fig]);
    // a median inside the other server's min–max over runs: a tie, whatever the ratio says
    const inside = (v, sp) => v !== null && v !== undefined && sp && v >= sp[0] && v <= sp[1];
    const tie =
      cfg.runs > 1 &&
      r !== null &&
      r !== 1 &&
      (inside(med[P][fig], spread.bare[fig]) || inside(med.bare[fig], spread[P][fig]));
    return ` ${rc(r)} | ${target ? `${target[0]}${r === null ? '' : target[1](r) ? ' ✅' : ' ❌'}` : ''}${tie ? ' (tie: inside the run-to-run spread)' : ''} |`;
  };
  const known = (fig) => cfg.servers.some((k) => med[k]?.[fig] !== null && med[k]?.[fig] !== undefined);
  const names = cfg.servers.map((k) => SERVERS[k].label);
  let md = `# Parley benchmark — ${cfg.mode} mode${partial ? ' (PARTIAL: deadline reached)' : ''}\n\n`;
  md += `${results.startedAt} · \`${results.command}\` · ${cfg.runs} run(s), medians shown${cfg.runs > 1 ? ' with (min–max) over runs' : ''} · ${results.durationSec}s\n\n`;
  md += `Machine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memGb} GB, ${machine.kernel}, Node ${machine.node}; ${machine.pinning}.\n\n`;
  // the single-node scenarios (the cluster scenario describes itself under its table)
  const singleNode = rows.some(([, fig]) => fig !== 'bg' && known(fig));
  if (singleNode) {
    md +=
      `Load: fan-out ${cfg.fanout.rooms} rooms × ${cfg.fanout.members} members, ${cfg.fanout.messageBytes}-byte \`roomMessage\` with ack, after a warm-up step, offered rate stepped ×${cfg.fanout.factor} from ${cfg.fanout.startRate} msg/s (${cfg.fanout.stepMs} ms per step) until delivery < ${cfg.fanout.minDelivery * 100}% or p99 > ${cfg.fanout.maxP99Ms} ms; ` +
      `call relay ${cfg.calls.pairs} pairs, closed loop call→answer→accepted, then ${cfg.calls.trickle} trickle-ICE signal round trips, then hangup, with ${cfg.calls.signalBytes}-byte call signals for ${cfg.calls.durationMs} ms; ` +
      `connections ${cfg.conns.n} clients logged in to rooms of ${cfg.conns.roomSize}, RSS measured after 2 full GCs (\`--expose-gc\`, same preload for all servers). ` +
      `Load generator: ${cfg.loaders} processes; Socket.IO servers driven by the ${cfg.client === 'lite' ? '"lite" Socket.IO v4 client (Engine.IO/Socket.IO wire protocol on a bare `ws` socket, so the client core is not the limit)' : 'socket.io-client 4.8'}, raw ws by JSON frames.\n\n`;
  }
  // the single-node table (rows nobody has are left out)
  if (singleNode) {
    md += `| Figure | ${names.join(' | ')} |${has(P) && has('bare') ? ' Parley/bare | target |' : ''}${has(P) && has('raw') ? ' Parley/raw |' : ''}\n`;
    md += `|---|${names.map(() => '---:').join('|')}|${has(P) && has('bare') ? '---:|---|' : ''}${has(P) && has('raw') ? '---:|' : ''}\n`;
    for (const [label, fig, , digits, target] of rows) {
      if (fig !== 'bg' && !known(fig)) continue;
      if (fig === 'bg') {
        const b = (k, f) => fmt(med[k]?.[f], 2);
        md += `| ${label} | ${cfg.servers.map((k) => `${b(k, 'bgFanout')} / ${b(k, 'bgCalls')} / ${b(k, 'bgConns')}`).join(' | ')} |`;
        md += `${has(P) && has('bare') ? ' | |' : ''}${has(P) && has('raw') ? ' |' : ''}\n`;
        continue;
      }
      md += `| ${label} | ${cfg.servers.map((k) => cell(k, fig, digits)).join(' | ')} |`;
      if (has(P) && has('bare')) md += vsBare(fig, target);
      if (has(P) && has('raw')) md += ` ${rc(ratio(med[P][fig], med.raw[fig]))} |`;
      md += '\n';
    }
    const noisy = cfg.servers.some((k) => ['bgFanout', 'bgCalls', 'bgConns'].some((f) => (med[k]?.[f] ?? 0) > 0.25));
    if (noisy) {
      md += `\n> **Noisy run:** other processes on this machine used more than a quarter of a core during some measurements (last row). Throughput and latency figures are then unreliable; CPU µs per message and memory are less affected.\n`;
    }
    if (has(P) && has('parley-nohist')) {
      const on = med[P].refTotal;
      const off = med['parley-nohist'].refTotal;
      const r = ratio(on, off);
      md += `\nRoom history's cost: Parley with history on (HISTORY_SIZE default, in memory) ${fmt(on, 2)} µs vs off (HISTORY_SIZE=0) ${fmt(off, 2)} µs of server CPU per delivered message at ${ref} msg/s offered${r === null ? '' : ` (${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%)`}.\n`;
    }
    if (known('refTotal')) {
      md += `\nFan-out CPU per message is measured at the same offered load for all servers (${ref} msg/s offered = ${ref * cfg.fanout.members} deliveries/s, the highest step every server sustained in every run), from \`/proc/<pid>/stat\` utime/stime deltas (CLK_TCK ${CLK_TCK}) over the step and its drain. Latency is measured from send to receipt by every member, the sender included.\n`;
    }
  }
  if (PROBE_SHARES.some((share) => known(`share${share * 100}P99`))) {
    md += `\nThe steps at ${PROBE_SHARES.map((x) => `${x * 100}%`).join(' and ')} of bare Socket.IO's highest sustained offered rate (of the same run) are measured after every ladder of the run, on freshly started servers, after the same warm-up step as the ladders and a second one at the highest probed rate.\n`;
  }
  const svg = fanoutSvg(stepTables, shareTables);
  if (svg) {
    writeFileSync(join(RESULTS, `${cfg.out}-fanout.svg`), svg);
    md += `\n![Fan-out p99 latency against offered load, per server](${cfg.out}-fanout.svg)\n`;
  }
  md += clusterTable(summary, vsBare, cell, rc);
  const laddered = cfg.servers.filter((k) => stepTables[k].length);
  if (laddered.length) md += `\n## Fan-out steps (medians over runs)\n`;
  for (const key of laddered) {
    md += `\n### ${SERVERS[key].label}\n\n| offered msg/s | passed | delivered msg/s | delivery | p50 ms | p95 ms | p99 ms | server µs/msg user | sys | server CPU | load generators' CPU | other processes, cores |\n|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`;
    for (const s of stepTables[key]) {
      md += `| ${s.rate} | ${s.ok} | ${fmt(s.deliveredPerSec)} | ${(s.delivery * 100).toFixed(1)}% | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${fmt(s.userUs, 2)} | ${fmt(s.sysUs, 2)} | ${pct(s.serverCpu)} | ${pct(s.loaderCpu)} | ${fmt(s.foreign, 2)} |\n`;
    }
  }
  if (Object.values(shareTables).some((t) => t.length)) {
    md += `\n## Fan-out at shares of bare Socket.IO's highest sustained rate (medians over runs)\n\n| server | share | offered msg/s | passed | delivered msg/s | delivery | p50 ms | p99 ms | server event-loop delay p99 / max, ms | server µs/msg user | sys | server CPU |\n|---|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`;
    for (const key of cfg.servers) {
      for (const t of shareTables[key]) {
        md += `| ${SERVERS[key].label} | ${t.share * 100}% | ${fmt(t.rate, 0)} | ${t.ok} | ${fmt(t.deliveredPerSec)} | ${(t.delivery * 100).toFixed(1)}% | ${fmt(t.p50)} | ${fmt(t.p99)} | ${fmt(t.loopDelayP99, 2)} / ${fmt(t.loopDelayMax, 1)} | ${fmt(t.userUs, 2)} | ${fmt(t.sysUs, 2)} | ${pct(t.serverCpu)} |\n`;
      }
    }
  }
  const smokeIssues = Object.entries(results.smoke).filter(([, v]) => v.length);
  if (smokeIssues.length || results.errors.length) {
    md += `\n## Problems\n\n`;
    for (const [k, v] of smokeIssues) {
      const base = k.replace(/-cluster$/, '');
      const label = `${SERVERS[base]?.label ?? base}${base === k ? '' : ', two nodes over Redis,'}`;
      md += `- ${label} protocol smoke check: ${v.join('; ')}\n`;
    }
    for (const e of results.errors)
      md += `- run ${e.run} ${SERVERS[e.server]?.label ?? e.server} ${e.scenario}: ${e.error.split('\n')[0]}\n`;
  }
  // (sections that are left out leave blank lines behind)
  md = md.replace(/\n{3,}/g, '\n\n');
  writeFileSync(join(RESULTS, `${cfg.out}.md`), md);
  writeFileSync(join(RESULTS, `${cfg.out}.json`), JSON.stringify(results, null, 2));
  if (!partial && (cfg.out === 'latest' || cfg.out === 'latest-cluster')) updateReadmes(md);
  return md;
}

/**
 * Put the summary (header, machine, command, main table, chart link, cluster table) between
 * the markers <!-- bench:NAME:start --> and <!-- bench:NAME:end --> (NAME: latest, or
 * latest-cluster) of bench/README.md and, when it has them, of the project README.
 */
function updateReadmes(md) {
  // bench:latest for a full run, bench:latest-cluster for npm run bench:cluster
  const START = `<!-- bench:${cfg.out}:start -->`;
  const END = `<!-- bench:${cfg.out}:end -->`;
  const cut = md.indexOf('\n## Fan-out steps');
  const body = (cut > 0 ? md.slice(0, cut) : md)
    .replace(/^# .*\n/, `**${cfg.mode} mode, from \`bench/results/${cfg.out}.md\`**\n`)
    .trim();
  for (const file of [join(BENCH, 'README.md'), join(ROOT, 'README.md')]) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a < 0 || b < a) continue;
    // the chart's link is relative to results/ in the .md: make it relative to this README
    const chart = `${cfg.out}-fanout.svg`;
    const here = body.split(`](${chart})`).join(`](${relative(dirname(file), join(RESULTS, chart))})`);
    writeFileSync(file, `${text.slice(0, a + START.length)}\n${here}\n${text.slice(b)}`);
    log(`updated the results table in ${relative(ROOT, file)}`);
  }
}

async function main() {
  log(
    `Parley benchmark, ${cfg.mode} mode: ${cfg.runs} run(s) × [${cfg.servers.join(', ')}] × [${cfg.scenarios.join(', ')}]; ${machine.pinning}`,
  );
  rmSync(logsDir, { recursive: true, force: true });
  const builtServers = cfg.servers.filter((s) => SERVERS[s].script === SERVERS.parley.script);
  if (builtServers.length) {
    if (cfg.build) {
      log('building Parley (npm run build)…');
      const b = spawnSync('npm', ['run', 'build'], {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 300000,
      });
      if (b.status !== 0) {
        // tsc still emits on type errors; measure what it emitted, but say so
        const emitted = existsSync(join(ROOT, SERVERS.parley.script));
        results.errors.push({
          run: 0,
          server: 'parley',
          scenario: 'build',
          error: `npm run build failed (${b.status ?? b.signal})${emitted ? `; measured the ${SERVERS.parley.script} it emitted anyway` : ''}`,
        });
        log(`build failed: ${emitted ? `measuring the emitted ${SERVERS.parley.script} anyway` : 'Parley is skipped'}`);
      }
    }
    if (!existsSync(join(ROOT, SERVERS.parley.script))) {
      results.errors.push({ run: 0, server: 'parley', scenario: 'build', error: `${SERVERS.parley.script} not found` });
      log(`${SERVERS.parley.script} not found: Parley is skipped`);
      cfg.servers = cfg.servers.filter((s) => !builtServers.includes(s));
    }
  }
  if (cfg.scenarios.includes('cluster')) {
    try {
      (await redisClient()).disconnect();
    } catch (e) {
      const error = `no Redis at ${cfg.cluster.redisUrl} (${e instanceof Error ? e.message : e}): the cluster scenario is skipped`;
      results.errors.push({ run: 0, server: 'all', scenario: 'cluster', error });
      log(error);
      cfg.scenarios = cfg.scenarios.filter((s) => s !== 'cluster');
    }
  }
  const scenarios = { fanout: scenarioFanout, calls: scenarioCalls, conns: scenarioConns };
  for (let run = 1; run <= cfg.runs; run++) {
    const row = {};
    results.runs.push(row);
    // rotate the server order per run so no server always goes first
    const order = cfg.servers.map((_, i) => cfg.servers[(i + run - 1) % cfg.servers.length]);
    for (const key of order) {
      row[key] = {};
      for (const sc of cfg.scenarios) {
        if (SERVERS[key].only && !SERVERS[key].only.includes(sc)) continue;
        if (sc === 'cluster') {
          if (!SERVERS[key].cluster) continue;
          log(`run ${run}/${cfg.runs} · ${SERVERS[key].label} · two nodes over Redis`);
          try {
            await waitQuiet();
            row[key].cluster = await scenarioCluster(key, run);
          } catch (e) {
            const err = e instanceof Error ? e : new Error(String(e));
            log(`  ${key} cluster failed: ${err.message}`);
            results.errors.push({ run, server: key, scenario: sc, error: String(err.stack ?? err) });
          }
          continue;
        }
        log(`run ${run}/${cfg.runs} · ${SERVERS[key].label} · ${sc}`);
        let srv;
        try {
          await waitQuiet();
          srv = await startServer(key);
          if (!results.smoke[key]) {
            results.smoke[key] = await smoke(srv, SERVERS[key].client);
            if (results.smoke[key].length) log(`  smoke check problems: ${results.smoke[key].join('; ')}`);
          }
          row[key][sc] = await scenarios[sc](srv, SERVERS[key].client);
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          log(`  ${key} ${sc} failed: ${err.message}`);
          results.errors.push({ run, server: key, scenario: sc, error: String(err.stack ?? err) });
        } finally {
          await srv?.stop();
        }
      }
    }
    // p99 at shares of bare's highest sustained rate of this run: known only now that its
    // ladder ran, so measured after every ladder, on fresh servers, in the same order
    const bareRate = highestSustainedRate(row.bare?.fanout);
    if (cfg.scenarios.includes('fanout') && cfg.servers.includes('bare') && !bareRate) {
      log(`run ${run}: bare Socket.IO sustained no fan-out step; no steps at shares of its rate`);
    }
    for (const key of bareRate ? order : []) {
      if (!row[key].fanout) continue;
      log(
        `run ${run}/${cfg.runs} · ${SERVERS[key].label} · fan-out at ${PROBE_SHARES.map((x) => `${x * 100}%`).join(', ')} of bare's ${bareRate} msg/s`,
      );
      let srv;
      try {
        await waitQuiet();
        srv = await startServer(key);
        row[key].fanoutAt = await scenarioFanoutAt(srv, SERVERS[key].client, bareRate);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        log(`  ${key} fan-out at shares of bare's rate failed: ${err.message}`);
        results.errors.push({ run, server: key, scenario: 'fanout-at', error: String(err.stack ?? err) });
      } finally {
        await srv?.stop();
      }
    }
    writeOutputs();
  }
  const md = writeOutputs();
  console.log(`\n${md}`);
  log(`wrote ${relative(ROOT, join(RESULTS, cfg.out))}.md and .json`);
}

if (REPORT) {
  const loaded = JSON.parse(readFileSync(REPORT, 'utf8'));
  const out = opt('out', null);
  Object.assign(cfg, loaded.config);
  if (out) cfg.out = out;
  Object.assign(machine, loaded.machine);
  Object.assign(results, loaded);
  console.log(writeOutputs(loaded.partial));
  log(`re-rendered ${relative(ROOT, join(RESULTS, cfg.out))}.md from ${REPORT}`);
  process.exit(0);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    process.exit();
  });
