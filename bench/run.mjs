#!/usr/bin/env node
// Parley benchmark: Parley vs a bare Socket.IO 4.8 server vs a raw `ws` server, same load,
// same machine, same run. See bench/README.md.
//
//   node bench/run.mjs            full mode (3 runs, medians; under 10 minutes)
//   node bench/run.mjs --quick    quick mode (1 run, fewer steps, smaller counts; under 2 minutes)
//
// Options: --runs N, --servers parley,bare,raw, --scenarios fanout,calls,conns,
//   --client lite|sio (Socket.IO client used by the load generator; default lite),
//   --loaders N (load processes, default 2), --rooms N --members N, --pairs N,
//   --conns N --room-size N, --no-build, --profile parley|bare|raw|all (node --cpu-prof
//   into bench/results/profiles), --out NAME (bench/results/NAME.{md,json}), --help.
// Servers: parley (history on, the default HISTORY_SIZE), parley-nohist (HISTORY_SIZE=0,
//   fan-out only: what history costs per message), bare, raw.
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
  --scenarios LIST        fanout,calls,conns (default all)
  --client lite|sio       Socket.IO client of the load generator (default lite)
  --loaders N             load-generator processes (default 2)
  --rooms N --members N   fan-out shape (default 20 x 25)
  --start-rate N          first fan-out step, roomMessage/s offered (default 1000)
  --pairs N               call-relay pairs
  --conns N --room-size N connection scenario
  --no-build              use the existing dist/
  --profile KEYS          run those servers under node --cpu-prof
  --out NAME              bench/results/NAME.{md,json}
  --report FILE.json      re-render the tables from a results JSON, no measuring
  --help                  this text`);
  process.exit(0);
}
const REPORT = opt('report', null); // re-render the tables of a results JSON, no measuring
const QUICK = flag('quick');
const cfg = {
  mode: QUICK ? 'quick' : 'full',
  runs: num('runs', QUICK ? 1 : 3),
  servers: String(opt('servers', 'parley,parley-nohist,bare,raw')).split(','),
  scenarios: String(opt('scenarios', 'fanout,calls,conns')).split(','),
  client: opt('client', 'lite'),
  loaders: num('loaders', 2),
  build: !flag('no-build'),
  profile: String(opt('profile', '')).split(',').filter(Boolean),
  out: opt('out', QUICK ? 'latest-quick' : 'latest'),
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
const SERVERS = {
  parley: { label: 'Parley', script: 'dist/main.js', client: cfg.client },
  // The same server with room history off: the difference is what retaining messages costs.
  'parley-nohist': {
    label: 'Parley, history off',
    script: 'dist/main.js',
    client: cfg.client,
    env: { HISTORY_SIZE: '0' },
    only: ['fanout'],
  },
  bare: { label: 'bare Socket.IO', script: 'bench/baselines/bare-socketio.mjs', client: cfg.client },
  raw: { label: 'raw ws', script: 'bench/baselines/raw-ws.mjs', client: 'ws' },
};
for (const s of cfg.servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`);

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

async function startServer(key) {
  const def = SERVERS[key];
  const port = await freePort();
  const env = { ...process.env, ...COMMON_ENV, ...def.env, PORT: String(port) };
  delete env.NODE_OPTIONS;
  env.BENCH_PARENT_PID = String(process.pid);
  env.BENCH_MEM_FILE = memFile(key);
  const nodeArgs = ['--expose-gc', '--import', pathToFileURL(join(BENCH, 'gc-preload.mjs')).href];
  let profName;
  if (cfg.profile.includes(key) || cfg.profile.includes('all')) {
    mkdirSync(profDir, { recursive: true });
    profName = `${key}-${Date.now()}.cpuprofile`;
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${profName}`);
    env.BENCH_EXIT_ON_TERM = '1';
  }
  const windows = [];
  const args = [process.execPath, ...nodeArgs, def.script];
  const child = HAS_TASKSET
    ? spawn('taskset', ['-c', SERVER_CPUS, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(args[0], args.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  mkdirSync(logsDir, { recursive: true });
  const out = createWriteStream(join(logsDir, `${key}.log`), { flags: 'a' });
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
async function smoke(srv, kind) {
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
  const b = await Conn.open(srv.port);
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

async function scenarioFanout(srv, kind) {
  const f = cfg.fanout;
  const P = Math.min(cfg.loaders, f.rooms);
  const loaders = await startLoaders(P);
  try {
    // whole rooms per load process, so a message's sender and receivers share a clock
    const per = loaders.map(() => ({ names: [], rooms: [] }));
    for (let r = 0; r < f.rooms; r++) {
      for (let m = 0; m < f.members; m++) {
        per[r % P].names.push(`user${r}-${m}`);
        per[r % P].rooms.push(`bench-room-${r}`);
      }
    }
    const total = f.rooms * f.members;
    const conn = await Promise.all(
      loaders.map((l, i) => l.call('connect', { kind, port: srv.port, n: per[i].names.length })),
    );
    const errs = conn.reduce((s, c) => s + c.errors, 0);
    if (errs) throw new Error(`fan-out: ${errs} connections failed: ${conn.find((c) => c.firstError)?.firstError}`);
    const lg = await Promise.all(loaders.map((l, i) => l.call('login', per[i])));
    const bad = lg.reduce((s, x) => s + x.refused + x.errors, 0);
    if (bad)
      throw new Error(
        `fan-out: ${bad} logins failed: ${lg.find((x) => x.firstRefusal || x.firstError)?.firstRefusal ?? lg.find((x) => x.firstError)?.firstError}`,
      );
    await sleep(500);

    const steps = [];
    const warmups = [];
    let stepNo = 0;
    const runStep = async (rate, refine = false, warmup = false) => {
      const step = ++stepNo;
      const durationMs = warmup ? Math.min(f.stepMs, 1500) : f.stepMs;
      const c0 = readCpu(srv.pid);
      const l0 = loadersCpu(loaders);
      const pr = probe([srv.pid, ...loaders.map((l) => l.child.pid)]);
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
      const c1 = readCpu(srv.pid);
      const l1 = loadersCpu(loaders);
      const bg = pr.end();
      srv.mark(`fanout ${rate}`, m0, monoUs());
      const d = cpuDelta(c0, c1);
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
        serverCpuUtil: (d.userUs + d.sysUs) / d.wallUs,
        loaderCpuUtil: loadersUtil(l0, l1),
        ...bg,
      };
      if (warmup) {
        s.warmup = true;
        warmups.push(s);
      } else steps.push(s);
      log(
        `  ${srv.key} fan-out ${String(rate).padStart(6)} msg/s offered: ${warmup ? 'warm-up' : ok ? 'ok  ' : 'FAIL'} delivered ${Math.round(s.deliveredPerSec)}/s (${(delivery * 100).toFixed(1)}%)` +
          ` p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} ms, server ${fmt(s.serverUserUsPerMsg)}+${fmt(s.serverSysUsPerMsg)} µs/msg, cpu ${pct(s.serverCpuUtil)}, load ${s.loaderCpuUtil.map(pct).join('/')}, others ${s.foreignCores.toFixed(2)}` +
          (s.firstAckError ? ` ack error ${s.firstAckError}` : '') +
          (shapeError ? ` bad broadcast ${shapeError}` : ''),
      );
      await sleep(f.pauseMs);
      return s;
    };
    // warm-up (JIT, buffers), not reported: half the first rate
    await runStep(Math.round(f.startRate / 2), false, true);
    let lastOk = null;
    let firstFail = null;
    let retries = f.retries;
    for (const rate of ladder()) {
      let s = await runStep(rate);
      if (srv.exited) throw new Error(`${srv.key} exited: ${srv.tail()}`);
      // one more try at the same rate (bounded per scenario), so that a transient stall of
      // the machine does not end the ladder; the failed attempt stays in the JSON
      if (!s.ok && retries > 0) {
        retries--;
        s.superseded = true;
        log(`  ${srv.key} fan-out: retrying ${rate} msg/s once`);
        s = await runStep(rate);
      }
      if (!s.ok) {
        firstFail = rate;
        break;
      }
      lastOk = rate;
    }
    for (let i = 0; i < f.refine && lastOk && firstFail; i++) {
      const mid = Math.round(Math.sqrt(lastOk * firstFail) / 10) * 10;
      const s = await runStep(mid, true);
      if (s.ok) lastOk = mid;
      else firstFail = mid;
    }
    const best =
      steps.filter((s) => s.ok && !s.superseded).sort((a, b) => b.deliveredPerSec - a.deliveredPerSec)[0] ?? null;
    return {
      clients: total,
      loaders: P,
      warmups,
      steps,
      maxDeliveredPerSec: best ? best.deliveredPerSec : 0,
      maxRate: best?.rate ?? 0,
    };
  } finally {
    await Promise.all(loaders.map((l) => l.stop()));
  }
}

async function scenarioCalls(srv, kind) {
  const c = cfg.calls;
  const P = cfg.loaders;
  const loaders = await startLoaders(P);
  try {
    const pairsPer = split(c.pairs, P);
    const conn = await Promise.all(
      loaders.map((l, i) => l.call('connect', { kind, port: srv.port, n: pairsPer[i] * 2 })),
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
        }),
      ),
    );
    // CPU over the measured window only (the load processes count round trips in the same window)
    await sleep(c.warmupMs);
    const c0 = readCpu(srv.pid);
    const l0 = loadersCpu(loaders);
    const pr = probe([srv.pid, ...loaders.map((l) => l.child.pid)]);
    const m0 = monoUs();
    await sleep(c.durationMs);
    const c1 = readCpu(srv.pid);
    const l1 = loadersCpu(loaders);
    const bg = pr.end();
    srv.mark('calls', m0, monoUs());
    const res = await running;
    const d = cpuDelta(c0, c1);
    const hist = new Hist();
    for (const r of res) hist.merge(r.hist);
    const done = res.reduce((s, r) => s + r.done, 0);
    const relayed = res.reduce((s, r) => s + (r.relayed ?? 0), 0);
    const errors = res.reduce((s, r) => s + r.errors, 0);
    const lat = hist.summary();
    const out = {
      pairs: c.pairs,
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
      ...bg,
    };
    log(
      `  ${srv.key} calls: ${Math.round(out.roundTripsPerSec)} round trips/s, p50 ${fmt(out.p50)} p99 ${fmt(out.p99)} ms, errors ${errors}${out.firstError ? ` (${out.firstError})` : ''}, cpu ${pct(out.serverCpuUtil)}, load ${out.loaderCpuUtil.map(pct).join('/')}, others ${out.foreignCores.toFixed(2)}`,
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
      const lg = await Promise.all(loaders.map((l, i) => l.call('login', args[i])));
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
    bgFanout: (r) => median(r.fanout.steps.map((s) => s.foreignCores)),
    bgCalls: (r) => r.calls.foreignCores,
    bgConns: (r) => r.conns.foreignCores,
    rssPerConn: (r) => r.conns.rssPerConnKb,
    rssPerConnZero: (r) => r.conns.rssPerConnFromZeroKb,
    heapPerConn: (r) => r.conns.heapPerConnKb,
    logins: (r) => r.conns.loginsPerSec,
    connects: (r) => r.conns.connectsPerSec,
  };
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
  return { ref, med, spread, stepTables };
}

function ratio(a, b) {
  return a === null || b === null || a === undefined || b === undefined || b === 0 ? null : a / b;
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
  const { med, spread, ref, stepTables } = summary;
  const has = (k) => cfg.servers.includes(k);
  const P = 'parley';
  /** @type {Array<[string, string, boolean, number, [string, (r: number) => boolean] | null]>} */
  const rows = [
    // [label, figure, higherIsBetter, digits, target vs bare]
    ['Fan-out: highest sustained delivered msg/s', 'maxDelivered', true, 0, ['≥ 1.0×', (r) => r >= 1.0]],
    [
      `Fan-out @ ${ref} msg/s offered: server CPU µs / delivered msg, user`,
      'refUser',
      false,
      2,
      ['≤ 1.0×', (r) => r <= 1.0],
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
    ['Call relay: round trips/s', 'callsRate', true, 0, ['≥ 0.9×', (r) => r >= 0.9]],
    ['Call relay: p50 latency, ms', 'callsP50', false, 2, null],
    ['Call relay: p99 latency, ms', 'callsP99', false, 2, ['≤ 1.1×', (r) => r <= 1.1]],
    ['Call relay: server CPU µs / round trip (call, answer, accepted, hangup)', 'callsCpu', false, 1, null],
    [
      'Connections: RSS per logged-in connection (slope n/4→n), KB',
      'rssPerConn',
      false,
      1,
      ['≤ 1.0× (aim 0.7×)', (r) => r <= 1.0],
    ],
    ['Connections: RSS per connection counted from zero connections, KB', 'rssPerConnZero', false, 1, null],
    ['Connections: JS heap per logged-in connection, KB', 'heapPerConn', false, 1, null],
    ['Connections: logins/s', 'logins', true, 0, ['≥ 0.9×', (r) => r >= 0.9]],
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
  const names = cfg.servers.map((k) => SERVERS[k].label);
  let md = `# Parley benchmark — ${cfg.mode} mode${partial ? ' (PARTIAL: deadline reached)' : ''}\n\n`;
  md += `${results.startedAt} · \`${results.command}\` · ${cfg.runs} run(s), medians shown${cfg.runs > 1 ? ' with (min–max) over runs' : ''} · ${results.durationSec}s\n\n`;
  md += `Machine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memGb} GB, ${machine.kernel}, Node ${machine.node}; ${machine.pinning}.\n\n`;
  md +=
    `Load: fan-out ${cfg.fanout.rooms} rooms × ${cfg.fanout.members} members, ${cfg.fanout.messageBytes}-byte \`roomMessage\` with ack, after a warm-up step, offered rate stepped ×${cfg.fanout.factor} from ${cfg.fanout.startRate} msg/s (${cfg.fanout.stepMs} ms per step) until delivery < ${cfg.fanout.minDelivery * 100}% or p99 > ${cfg.fanout.maxP99Ms} ms; ` +
    `call relay ${cfg.calls.pairs} pairs, closed loop call→answer→accepted, then ${cfg.calls.trickle} trickle-ICE signal round trips, then hangup, with ${cfg.calls.signalBytes}-byte call signals for ${cfg.calls.durationMs} ms; ` +
    `connections ${cfg.conns.n} clients logged in to rooms of ${cfg.conns.roomSize}, RSS measured after 2 full GCs (\`--expose-gc\`, same preload for all servers). ` +
    `Load generator: ${cfg.loaders} processes; Socket.IO servers driven by the ${cfg.client === 'lite' ? '"lite" Socket.IO v4 client (Engine.IO/Socket.IO wire protocol on a bare `ws` socket, so the client core is not the limit)' : 'socket.io-client 4.8'}, raw ws by JSON frames.\n\n`;
  md += `| Figure | ${names.join(' | ')} |${has(P) && has('bare') ? ' Parley/bare | target |' : ''}${has(P) && has('raw') ? ' Parley/raw |' : ''}\n`;
  md += `|---|${names.map(() => '---:').join('|')}|${has(P) && has('bare') ? '---:|---|' : ''}${has(P) && has('raw') ? '---:|' : ''}\n`;
  for (const [label, fig, , digits, target] of rows) {
    if (fig === 'bg') {
      const b = (k, f) => fmt(med[k]?.[f], 2);
      md += `| ${label} | ${cfg.servers.map((k) => `${b(k, 'bgFanout')} / ${b(k, 'bgCalls')} / ${b(k, 'bgConns')}`).join(' | ')} |`;
      md += `${has(P) && has('bare') ? ' | |' : ''}${has(P) && has('raw') ? ' |' : ''}\n`;
      continue;
    }
    md += `| ${label} | ${cfg.servers.map((k) => cell(k, fig, digits)).join(' | ')} |`;
    if (has(P) && has('bare')) {
      const r = ratio(med[P][fig], med.bare[fig]);
      // a median inside the other server's min–max over runs: a tie, whatever the ratio says
      const inside = (v, sp) => v !== null && v !== undefined && sp && v >= sp[0] && v <= sp[1];
      const tie =
        cfg.runs > 1 &&
        r !== null &&
        r !== 1 &&
        (inside(med[P][fig], spread.bare[fig]) || inside(med.bare[fig], spread[P][fig]));
      md += ` ${rc(r)} | ${target ? `${target[0]}${r === null ? '' : target[1](r) ? ' ✅' : ' ❌'}` : ''}${tie ? ' (tie: inside the run-to-run spread)' : ''} |`;
    }
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
  md += `\nFan-out CPU per message is measured at the same offered load for all servers (${ref} msg/s offered = ${ref * cfg.fanout.members} deliveries/s, the highest step every server sustained in every run), from \`/proc/<pid>/stat\` utime/stime deltas (CLK_TCK ${CLK_TCK}) over the step and its drain. Latency is measured from send to receipt by every member, the sender included.\n`;
  md += `\n## Fan-out steps (medians over runs)\n`;
  for (const key of cfg.servers) {
    md += `\n### ${SERVERS[key].label}\n\n| offered msg/s | passed | delivered msg/s | delivery | p50 ms | p95 ms | p99 ms | server µs/msg user | sys | server CPU | load generators' CPU | other processes, cores |\n|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`;
    for (const s of stepTables[key]) {
      md += `| ${s.rate} | ${s.ok} | ${fmt(s.deliveredPerSec)} | ${(s.delivery * 100).toFixed(1)}% | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${fmt(s.userUs, 2)} | ${fmt(s.sysUs, 2)} | ${pct(s.serverCpu)} | ${pct(s.loaderCpu)} | ${fmt(s.foreign, 2)} |\n`;
    }
  }
  const smokeIssues = Object.entries(results.smoke).filter(([, v]) => v.length);
  if (smokeIssues.length || results.errors.length) {
    md += `\n## Problems\n\n`;
    for (const [k, v] of smokeIssues) md += `- ${SERVERS[k].label} protocol smoke check: ${v.join('; ')}\n`;
    for (const e of results.errors)
      md += `- run ${e.run} ${SERVERS[e.server]?.label ?? e.server} ${e.scenario}: ${e.error.split('\n')[0]}\n`;
  }
  writeFileSync(join(RESULTS, `${cfg.out}.md`), md);
  writeFileSync(join(RESULTS, `${cfg.out}.json`), JSON.stringify(results, null, 2));
  if (!partial && cfg.out === 'latest') updateReadmes(md);
  return md;
}

/**
 * Put the summary (header, machine, command, main table) between the markers
 * <!-- bench:latest:start --> and <!-- bench:latest:end --> of bench/README.md and, when it
 * has them, of the project README.
 */
function updateReadmes(md) {
  const START = '<!-- bench:latest:start -->';
  const END = '<!-- bench:latest:end -->';
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
    writeFileSync(file, `${text.slice(0, a + START.length)}\n${body}\n${text.slice(b)}`);
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
