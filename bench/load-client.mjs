// Load-generator process for bench/run.mjs. Controlled over the IPC channel:
//   {id, cmd, ...args} -> {id, ok: true, result} | {id, ok: false, error}
// Commands: connect, login, fanoutStep, callRelay, close. Exits when the parent goes away
// and on a hard deadline (BENCH_LOADER_DEADLINE_MS), so nothing outlives the run.
import { performance } from 'node:perf_hooks';
import { connClass } from './lib/conn.mjs';
import { Hist } from './lib/hist.mjs';

if (!process.send) {
  console.error('load-client.mjs is started by bench/run.mjs');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), Number(process.env.BENCH_LOADER_DEADLINE_MS || 15 * 60e3)).unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

/** @type {{conn: any, name?: string, room?: string, user?: any}[]} */
let clients = [];
let kind = 'lite';
let port = 0;

/** Run task(i) for i in [0, n) with at most `concurrency` in flight. */
async function pool(n, concurrency, task) {
  let next = 0;
  let errors = 0;
  let firstError;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      try {
        await task(i);
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return { errors, firstError };
}

function request(conn, event, data, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${event} ack timed out`)), timeoutMs);
    const sent = conn.emit(event, data, (v) => {
      clearTimeout(t);
      resolve(v);
    });
    if (!sent) {
      clearTimeout(t);
      reject(new Error(`${event}: connection closed`));
    }
  });
}

const commands = {
  /**
   * Open n connections (kind: lite | sio | ws) to `port`, or, given `ports` (several nodes
   * of one cluster), the i-th of them to ports[i % ports.length].
   */
  async connect({ kind: k, port: p, ports, n, concurrency = 64 }) {
    kind = k;
    port = p;
    const Conn = connClass(kind);
    const base = clients.length;
    const t0 = now();
    const r = await pool(n, concurrency, async (i) => {
      const conn = await Conn.open(ports ? ports[i % ports.length] : port);
      clients[base + i] = { conn };
    });
    clients = clients.filter(Boolean);
    return { ms: now() - t0, connected: clients.length, ...r };
  },

  /** Log client i in as names[i] / rooms[i] (arrays aligned with the connect order). */
  async login({ names, rooms, offset = 0, concurrency = 64 }) {
    const t0 = now();
    let refused = 0;
    let firstRefusal;
    const r = await pool(names.length, concurrency, async (i) => {
      const c = clients[offset + i];
      if (!c) throw new Error(`no connection ${offset + i}`);
      const res = await request(c.conn, 'login', { name: names[i], room: rooms[i] });
      if (!res || res.error || !res.user || res.user.id !== c.conn.id) {
        refused++;
        firstRefusal ??= JSON.stringify(res);
        return;
      }
      c.name = names[i];
      c.room = rooms[i];
      c.user = res.user;
    });
    return { ms: now() - t0, refused, firstRefusal, ...r };
  },

  /**
   * One fan-out step: the clients of this process send `rate` roomMessage/s in total
   * (round robin over senders) for durationMs, each 256-byte message carrying the step and
   * its send time; every member (sender included) measures its latency on receipt.
   * Returns after all expected deliveries arrived or drainMs after the last send.
   */
  async fanoutStep({ step, rate, durationMs, drainMs, messageBytes = 256 }) {
    const logged = clients.filter((c) => c.room);
    const roomSize = new Map();
    for (const c of logged) roomSize.set(c.room, (roomSize.get(c.room) || 0) + 1);
    const hist = new Hist();
    let received = 0;
    let late = 0;
    let acked = 0;
    let ackErrors = 0;
    let firstAckError;
    let expected = 0;
    let shapeError;
    const tag = `B${step}:`;
    const onMessage = (d) => {
      const t = now();
      const m = d?.message;
      if (typeof m !== 'string' || !m.startsWith(tag)) {
        late++;
        return;
      }
      const j = m.indexOf(':', tag.length);
      hist.add(t - Number(m.slice(tag.length, j)));
      received++;
      if (shapeError === undefined && received === 1) {
        shapeError =
          typeof d.id === 'string' &&
          typeof d.at === 'number' &&
          typeof d.from === 'string' &&
          typeof d.fromId === 'string' &&
          typeof d.room === 'string'
            ? null
            : JSON.stringify(d).slice(0, 200);
      }
    };
    for (const c of logged) c.conn.on('roomMessage', onMessage);
    const onAck = (v) => {
      if (v && typeof v.id === 'string' && typeof v.at === 'number' && v.error === undefined) acked++;
      else {
        ackErrors++;
        firstAckError ??= JSON.stringify(v);
      }
    };
    const pad = 'Q'.repeat(messageBytes);
    const total = Math.floor((rate * durationMs) / 1000);
    let sent = 0;
    let k = 0;
    const t0 = now();
    await new Promise((resolve) => {
      const tick = () => {
        const el = Math.min(now() - t0, durationMs);
        const target = Math.min(total, Math.floor((el * rate) / 1000));
        while (sent < target && logged.length) {
          const c = logged[k++ % logged.length];
          const head = `${tag}${now().toFixed(3)}:`;
          if (c.conn.emit('roomMessage', { message: head + pad.slice(head.length) }, onAck)) {
            expected += roomSize.get(c.room);
          }
          sent++;
        }
        if (sent >= total || now() - t0 > durationMs + 5000) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, 4);
    });
    const sendMs = now() - t0;
    const drainEnd = now() + drainMs;
    while (received < expected && now() < drainEnd) await sleep(10);
    const totalMs = now() - t0;
    for (const c of logged) c.conn.off('roomMessage');
    return {
      offered: total,
      sent,
      expected,
      received,
      late,
      acked,
      ackErrors,
      firstAckError,
      shapeError,
      sendMs,
      totalMs,
      hist: hist.toJSON(),
    };
  },

  /**
   * Call relay, closed loop: clients pair up (2i calls 2i+1). Caller emits
   * call {userToCall, signal} (ack), callee answers answer {to, signal} (ack), caller gets
   * `accepted` -> one round trip; then `trickle` trickle-ICE round trips (the caller sends
   * `signal {to, signal}` with ack, the callee sends one back, the caller receives it), as
   * in a real call; the caller then hangs up (ack) and calls again. Every round trip counts;
   * `relayed` counts the messages the server relayed (call, answer, 2 per trickle, hangup).
   * With paceMs, a pair starts its calls at most every paceMs (an offered rate instead of
   * a closed loop at full speed), from a random phase so that the pairs spread out.
   */
  async callRelay({ warmupMs, durationMs, signalBytes = 1024, trickle = 4, paceMs = 0 }) {
    const mkSignal = (type) => {
      const base = { type, sdp: '' };
      const len = JSON.stringify(base).length;
      base.sdp = 'v=0 o=- 1 2 IN IP4 127.0.0.1 s=- t=0 0 a=bench '.padEnd(signalBytes - len, 'x');
      return base;
    };
    const offer = mkSignal('offer');
    const answer = mkSignal('answer');
    const candidate = {
      candidate: 'candidate:1 1 udp 2122260223 192.168.1.10 54321 typ host generation 0 ufrag abcd',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    const hist = new Hist();
    let done = 0;
    let relayed = 0;
    let errors = 0;
    let firstError;
    const note = (e) => {
      errors++;
      firstError ??= String(e?.message ?? e);
    };
    const t0 = now();
    const measureFrom = t0 + warmupMs;
    const measureTo = measureFrom + durationMs;
    let stop = false;
    const pairs = [];
    for (let i = 0; i + 1 < clients.length; i += 2) pairs.push([clients[i].conn, clients[i + 1].conn]);
    for (const [, callee] of pairs) {
      callee.on('call', (d) => {
        callee.emit('answer', { to: d.from, signal: answer }, (v) => {
          if (!v || v.error) note(`answer: ${JSON.stringify(v)}`);
        });
      });
      callee.on('ended', () => {});
      callee.on('signal', (d) => {
        callee.emit('signal', { to: d.from, signal: d.signal }, (v) => {
          if (!v || v.error) note(`signal back: ${JSON.stringify(v)}`);
        });
      });
    }
    const trickleOnce = (caller, callee) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no signal back within 10 s')), 10000);
        caller.on('signal', () => {
          clearTimeout(t);
          resolve();
        });
        const ok = caller.emit('signal', { to: callee.id, signal: candidate }, (v) => {
          if (!v || v.error) {
            clearTimeout(t);
            reject(new Error(`signal: ${JSON.stringify(v)}`));
          }
        });
        if (!ok) reject(new Error('connection closed'));
      });
    const loop = async ([caller, callee]) => {
      if (paceMs) await sleep(Math.random() * paceMs);
      while (!stop) {
        const ts = now();
        try {
          await new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('no accepted within 10 s')), 10000);
            caller.on('accepted', (sig) => {
              clearTimeout(t);
              if (!sig || sig.type !== 'answer')
                reject(new Error(`bad accepted payload ${JSON.stringify(sig).slice(0, 80)}`));
              else resolve();
            });
            const ok = caller.emit('call', { userToCall: callee.id, signal: offer }, (v) => {
              if (!v || v.error) {
                clearTimeout(t);
                reject(new Error(`call: ${JSON.stringify(v)}`));
              }
            });
            if (!ok) reject(new Error('connection closed'));
          });
          const te = now();
          const counted = ts >= measureFrom && te <= measureTo;
          if (counted) {
            hist.add(te - ts);
            done++;
            relayed += 2;
          }
          for (let k = 0; k < trickle && !stop; k++) {
            const t1 = now();
            await trickleOnce(caller, callee);
            const t2 = now();
            if (t1 >= measureFrom && t2 <= measureTo) {
              hist.add(t2 - t1);
              done++;
              relayed += 2;
            }
          }
        } catch (e) {
          note(e);
        }
        try {
          const v = await request(caller, 'hangup', { to: callee.id }, 10000);
          if (now() <= measureTo) relayed++;
          if (v?.error && v.code !== 'NO_CALL') note(`hangup: ${JSON.stringify(v)}`);
        } catch (e) {
          note(e);
          await sleep(100);
        }
        if (now() >= measureTo) stop = true;
        const idle = ts + paceMs - now();
        if (paceMs && !stop && idle > 0) await sleep(Math.min(idle, measureTo - now()));
      }
    };
    const guard = setTimeout(() => (stop = true), warmupMs + durationMs + 1000);
    await Promise.all(pairs.map(loop));
    clearTimeout(guard);
    for (const [caller, callee] of pairs) {
      caller.off('accepted');
      caller.off('signal');
      callee.off('call');
      callee.off('signal');
    }
    return { pairs: pairs.length, done, relayed, errors, firstError, ms: durationMs, hist: hist.toJSON() };
  },

  async close() {
    for (const c of clients) c.conn.close();
    clients = [];
    await sleep(50);
    return {};
  },
};

process.on('message', async (/** @type {{ id: number, cmd: string, args?: object }} */ msg) => {
  const fn = commands[msg.cmd];
  try {
    if (!fn) throw new Error(`unknown command ${msg.cmd}`);
    const result = await fn(msg.args || {});
    process.send({ id: msg.id, ok: true, result });
  } catch (e) {
    process.send({ id: msg.id, ok: false, error: e instanceof Error ? String(e.stack ?? e) : String(e) });
  }
});
process.send({ ready: true });
