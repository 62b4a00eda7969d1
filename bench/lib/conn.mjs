// Load-generator client connections, one interface for three wire formats:
//   'lite' — a minimal Socket.IO v4 client (Engine.IO v4 over a bare `ws` WebSocket:
//            open '0', connect '40', events '42', acks '43', ping '2' / pong '3'), so
//            that the load generator spends little CPU per received message;
//   'sio'  — the real socket.io-client 4.8 (websocket transport only);
//   'ws'   — the raw-ws baseline's JSON frames {e, d, a}.
// conn.on(event, fn) keeps one handler per event; conn.emit(event, data, ack?).
import { WebSocket } from 'ws';

const ORIGIN = 'http://localhost';

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

class Base {
  constructor() {
    this.handlers = new Map();
    this.acks = new Map();
    this.nextAck = 1;
    this.id = undefined;
    this.closed = false;
  }
  on(event, fn) {
    this.handlers.set(event, fn);
  }
  off(event) {
    this.handlers.delete(event);
  }
  _dispatch(event, arg) {
    const fn = this.handlers.get(event);
    if (fn) fn(arg);
  }
  _ack(id, value) {
    const fn = this.acks.get(id);
    if (fn) {
      this.acks.delete(id);
      fn(value);
    }
  }
}

export class LiteSioConn extends Base {
  static open(port, timeoutMs = 20000) {
    const c = new LiteSioConn();
    return withTimeout(c._open(port), timeoutMs, 'socket.io connect').catch((e) => {
      c.close();
      throw e;
    });
  }
  _open(port) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
        headers: { origin: ORIGIN },
        perMessageDeflate: false,
      });
      this.ws = ws;
      this._onConnect = resolve;
      ws.on('message', (data) => this._frame(data.toString()));
      ws.on('error', (e) => reject(e));
      ws.on('close', () => {
        this.closed = true;
        reject(new Error('closed before connect'));
      });
      this._onConnectError = reject;
    }).then(() => this);
  }
  _frame(s) {
    const t = s.charCodeAt(0);
    if (t === 52 /* '4' message */) {
      const k = s.charCodeAt(1);
      if (k === 50 /* '2' EVENT */) {
        const i = s.indexOf('[', 2);
        const arr = JSON.parse(i === 2 ? s.slice(2) : s.slice(i));
        this._dispatch(arr[0], arr[1]);
      } else if (k === 51 /* '3' ACK */) {
        const i = s.indexOf('[', 2);
        const arr = JSON.parse(s.slice(i));
        this._ack(Number(s.slice(2, i)), arr[0]);
      } else if (k === 48 /* '0' CONNECT */) {
        this.id = JSON.parse(s.slice(2)).sid;
        this._onConnect();
      } else if (k === 52 /* '4' CONNECT_ERROR */) {
        this._onConnectError(new Error(`connect_error ${s.slice(2)}`));
      }
    } else if (t === 50 /* '2' ping */) {
      this.ws.send('3');
    } else if (t === 48 /* '0' open */) {
      this.ws.send('40');
    }
  }
  emit(event, data, ack) {
    if (this.ws.readyState !== 1) return false;
    if (ack) {
      const id = this.nextAck++;
      this.acks.set(id, ack);
      this.ws.send(`42${id}${JSON.stringify([event, data])}`);
    } else {
      this.ws.send(`42${JSON.stringify([event, data])}`);
    }
    return true;
  }
  close() {
    this.closed = true;
    try {
      this.ws?.terminate();
    } catch {}
  }
}

export class RawWsConn extends Base {
  static open(port, timeoutMs = 20000) {
    const c = new RawWsConn();
    return withTimeout(c._open(port), timeoutMs, 'ws connect').catch((e) => {
      c.close();
      throw e;
    });
  }
  _open(port) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { origin: ORIGIN }, perMessageDeflate: false });
      this.ws = ws;
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.a !== undefined) this._ack(f.a, f.d);
        else if (f.e === 'me' && this.id === undefined) {
          this.id = f.d;
          resolve(this);
        } else this._dispatch(f.e, f.d);
      });
      ws.on('error', (e) => reject(e));
      ws.on('close', () => {
        this.closed = true;
        reject(new Error('closed before connect'));
      });
    });
  }
  emit(event, data, ack) {
    if (this.ws.readyState !== 1) return false;
    if (ack) {
      const id = this.nextAck++;
      this.acks.set(id, ack);
      this.ws.send(JSON.stringify({ e: event, d: data, a: id }));
    } else {
      this.ws.send(JSON.stringify({ e: event, d: data }));
    }
    return true;
  }
  close() {
    this.closed = true;
    try {
      this.ws?.terminate();
    } catch {}
  }
}

let ioFactory;
export class SioConn extends Base {
  /** @type {import('socket.io-client').Socket | undefined} */
  s;
  static async open(port, timeoutMs = 20000) {
    if (!ioFactory) ioFactory = (await import('socket.io-client')).io;
    const c = new SioConn();
    return withTimeout(
      new Promise((resolve, reject) => {
        const s = ioFactory(`http://127.0.0.1:${port}`, {
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
          extraHeaders: { origin: ORIGIN },
          perMessageDeflate: false,
        });
        c.s = s;
        s.on('connect', () => {
          c.id = s.id;
          resolve(c);
        });
        s.on('connect_error', (e) => reject(e));
        s.onAny((event, arg) => c._dispatch(event, arg));
      }),
      timeoutMs,
      'socket.io-client connect',
    ).catch((e) => {
      c.close();
      throw e;
    });
  }
  emit(event, data, ack) {
    if (!this.s.connected) return false;
    if (ack) this.s.emit(event, data, ack);
    else this.s.emit(event, data);
    return true;
  }
  close() {
    this.closed = true;
    try {
      this.s?.disconnect();
    } catch {}
  }
}

export function connClass(kind) {
  if (kind === 'lite') return LiteSioConn;
  if (kind === 'sio') return SioConn;
  if (kind === 'ws') return RawWsConn;
  throw new Error(`unknown client kind ${kind}`);
}
