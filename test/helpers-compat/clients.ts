/**
 * Clients for the compatibility specs: plain Socket.IO clients, either the current
 * socket.io-client or the older 4.0.x (`socket.io-client-40`), that record every event they
 * receive, so a spec can replay a client of an older server event by event.
 */
import type { AddressInfo } from 'node:net';
import { io as ioLatest } from 'socket.io-client';
import { io as io40 } from 'socket.io-client-40';
import { createApp } from '../../src/app.js';

export type App = Awaited<ReturnType<typeof createApp>>;

export const TIMEOUT = 3000;
export const QUIET_MS = 250;

export interface Server {
  app: App;
  url: string;
  close(): Promise<void>;
}

const servers = new Set<Server>();

/** A Parley app on a free port; ADMIN_TOKEN is 't' unless overridden. */
export async function startApp(env: Record<string, string> = {}): Promise<Server> {
  const app = await createApp({ env: { ADMIN_TOKEN: 't', ...env }, logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const server: Server = {
    app,
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (!servers.delete(server)) return;
      await app.close();
    },
  };
  servers.add(server);
  return server;
}

/** The minimal surface both client versions share. */
interface AnySocket {
  id?: string;
  connected: boolean;
  onAny(listener: (event: string, ...args: unknown[]) => void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
  io: { engine?: { close(): void } };
}

export interface Received {
  event: string;
  args: unknown[];
  consumed: boolean;
}

export interface ClientOptions {
  /** 'latest' (default) or the older '4.0' client. */
  version?: 'latest' | '4.0';
  auth?: Record<string, unknown>;
  query?: Record<string, string>;
  transports?: string[];
  /** Default true; false gives a socket that has not started connecting. */
  autoConnect?: boolean;
  /** Default false. */
  reconnection?: boolean;
}

const open = new Set<Client>();

let counter = 0;
/** A fresh name, unique in this process (rooms, names, peer ids). */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 6)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Waiter = { event: string; filter: (args: unknown[]) => boolean; resolve: (r: Received) => void };

export class Client {
  readonly socket: AnySocket;
  readonly log: Received[] = [];
  private readonly waiters: Waiter[] = [];
  /** The id the server announced with `me`. */
  id = '';

  constructor(url: string, options: ClientOptions = {}) {
    const io = (options.version === '4.0' ? io40 : ioLatest) as unknown as (url: string, opts: object) => AnySocket;
    this.socket = io(url, {
      transports: options.transports ?? ['websocket'],
      forceNew: true,
      reconnection: options.reconnection ?? false,
      reconnectionDelay: 50,
      autoConnect: options.autoConnect ?? true,
      ...(options.auth && { auth: options.auth }),
      ...(options.query && { query: options.query }),
    });
    this.socket.onAny((event, ...args) => this.record(event, args));
    this.socket.on('disconnect', (reason) => this.record('disconnect', [reason]));
    open.add(this);
  }

  private record(event: string, args: unknown[]): void {
    const rec: Received = { event, args, consumed: false };
    this.log.push(rec);
    for (const w of [...this.waiters]) {
      if (w.event === event && w.filter(args)) {
        rec.consumed = true;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(rec);
        return;
      }
    }
  }

  /** The first unconsumed `event` whose args pass `filter`, received already or within `timeout`. */
  next(event: string, filter: (args: unknown[]) => boolean = () => true, timeout = TIMEOUT): Promise<unknown[]> {
    const found = this.log.find((r) => !r.consumed && r.event === event && filter(r.args));
    if (found) {
      found.consumed = true;
      return Promise.resolve(found.args);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        event,
        filter,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r.args);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.id || 'client'}: no '${event}' within ${timeout} ms; got ${this.log.map((r) => r.event).join(', ') || 'nothing'}`));
      }, timeout);
      this.waiters.push(waiter);
    });
  }

  /** The first argument of the next `event` (optionally matching `filter` on it). */
  async waitFor<T = unknown>(event: string, filter: (payload: T) => boolean = () => true, timeout = TIMEOUT): Promise<T> {
    const args = await this.next(event, (a) => filter(a[0] as T), timeout);
    return args[0] as T;
  }

  /** Every first argument of `event` received so far. */
  received<T = unknown>(event: string): T[] {
    return this.log.filter((r) => r.event === event).map((r) => r.args[0] as T);
  }

  /** Emit with a callback as the last argument; resolves to what the callback received first. */
  request<T = unknown>(event: string, ...args: unknown[]): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.id}: no ack for '${event}'`)), TIMEOUT);
      this.socket.emit(event, ...args, (...replies: unknown[]) => {
        clearTimeout(timer);
        resolve(replies[0] as T);
      });
    });
  }

  send(event: string, ...args: unknown[]): void {
    this.socket.emit(event, ...args);
  }

  /** A `ping` round trip: everything the server sent before has arrived. */
  async barrier(): Promise<void> {
    expectString(await this.request('ping'));
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  close(): void {
    open.delete(this);
    this.socket.disconnect();
    this.socket.io.engine?.close();
  }
}

function expectString(v: unknown): void {
  if (typeof v !== 'string') throw new Error(`ping answered ${JSON.stringify(v)}`);
}

/** A connected client that has received `me`. */
export async function connect(server: Server | string, options: ClientOptions = {}): Promise<Client> {
  const client = new Client(typeof server === 'string' ? server : server.url, options);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timeout')), TIMEOUT);
    client.socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    client.socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err as Error);
    });
  });
  client.id = await client.waitFor<string>('me');
  return client;
}

/**
 * Asserts that none of `clients` receives any of `events` (all events when omitted)
 * after `marks` (each client's log length when marked): a ping barrier, then a quiet window.
 */
export async function expectQuiet(clients: Client[], marks: number[], events?: string[]): Promise<void> {
  await Promise.all(clients.filter((c) => c.connected).map((c) => c.barrier()));
  await sleep(QUIET_MS);
  clients.forEach((c, i) => {
    const got = c.log.slice(marks[i]).filter((r) => (events ? events.includes(r.event) : r.event !== 'disconnect'));
    if (got.length > 0) {
      throw new Error(`${c.id} unexpectedly received ${got.map((r) => `${r.event} ${JSON.stringify(r.args)}`).join('; ')}`);
    }
  });
}

/** Each client's log length now, for expectQuiet. */
export function marks(clients: Client[]): number[] {
  return clients.map((c) => c.log.length);
}

export function waitDisconnect(client: Client, timeout = TIMEOUT): Promise<string> {
  if (!client.connected) return Promise.resolve('already');
  return client.waitFor<string>('disconnect', () => true, timeout);
}

/** A GET on an admin route with the test token. */
export async function adminGet(server: Server, path: string, token = 't'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

export function closeClients(): void {
  for (const c of [...open]) c.close();
}

export async function closeServers(): Promise<void> {
  closeClients();
  await Promise.all([...servers].map((s) => s.close()));
}
