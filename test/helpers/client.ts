/**
 * The one recording test client: a Socket.IO client (the current socket.io-client, or the
 * older 4.0.x with `version: '4.0'`, for the compatibility specs) that records every event
 * it receives, its acks and its disconnect (with a global sequence number, so the order of
 * events and acks on one socket can be checked), plus helpers to await events and acks with
 * timeouts and to assert that nothing was received.
 */
import { io, type Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { io as io40 } from 'socket.io-client-40';
import type { ClientToServerEvents, RoomMessage, ServerToClientEvents, User } from '../../src/common/events.js';
import type { TestServer } from './server.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ServerEvent = keyof ServerToClientEvents;
export type Payload<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0];

/** Untyped view of a socket, to send malformed payloads on purpose. */
interface RawEmitter {
  emit(event: string, ...args: unknown[]): unknown;
}

export interface Received {
  event: string;
  args: unknown[];
  seq: number;
  consumed: boolean;
}

export const DEFAULT_TIMEOUT = 3000;
/** Window used to assert that something is NOT received, after a barrier. */
export const QUIET_MS = 250;

let seqCounter = 0;
/** The current global sequence number: records with a higher seq arrived later. */
export function mark(): number {
  return seqCounter;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let roomCounter = 0;
/** A fresh room name, unique within the test process. */
export function uniqueRoom(prefix = 'room'): string {
  roomCounter += 1;
  return `${prefix}-${roomCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

let nameCounter = 0;
export function uniqueName(prefix = 'user'): string {
  nameCounter += 1;
  return `${prefix}${nameCounter}`;
}

type Waiter = {
  event: string;
  filter: (payload: unknown, args: unknown[]) => boolean;
  resolve: (rec: Received) => void;
};

const openClients = new Set<TestClient>();

export type ClientOptions = Partial<ManagerOptions & SocketOptions> & {
  /** 'latest' (default) or the older '4.0' client. */
  version?: 'latest' | '4.0';
};

export class TestClient {
  readonly socket: ClientSocket;
  readonly log: Received[] = [];
  private waiters: Waiter[] = [];
  /** The id announced by `me` (also socket.id). */
  id = '';

  constructor(url: string, { version, ...opts }: ClientOptions = {}) {
    const connectTo = (version === '4.0' ? io40 : io) as unknown as typeof io;
    this.socket = connectTo(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ...opts,
    });
    this.socket.onAny((event: string, ...args: unknown[]) => this.record(event, args));
    this.socket.on('disconnect', (reason) => this.record('disconnect', [reason]));
    openClients.add(this);
  }

  private record(event: string, args: unknown[]): void {
    seqCounter += 1;
    const rec: Received = { event, args, seq: seqCounter, consumed: false };
    this.log.push(rec);
    for (const w of [...this.waiters]) {
      if (!rec.consumed && w.event === event && w.filter(args[0], args)) {
        rec.consumed = true;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(rec);
      }
    }
  }

  get raw(): RawEmitter {
    return this.socket as unknown as RawEmitter;
  }

  /**
   * The first not-yet-consumed `event` (optionally matching `filter`), already received
   * or arriving within `timeout` ms; it is marked consumed.
   */
  waitForRecord(
    event: string,
    filter: (payload: unknown, args: unknown[]) => boolean = () => true,
    timeout = DEFAULT_TIMEOUT,
  ): Promise<Received> {
    const existing = this.log.find((r) => !r.consumed && r.event === event && filter(r.args[0], r.args));
    if (existing) {
      existing.consumed = true;
      return Promise.resolve(existing);
    }
    return new Promise<Received>((resolve, reject) => {
      const waiter: Waiter = {
        event,
        filter,
        resolve: (rec) => {
          clearTimeout(timer);
          resolve(rec);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        const seen = this.log.map((r) => r.event).join(', ') || 'nothing';
        reject(new Error(`client ${this.id}: no '${event}' within ${timeout} ms (received: ${seen})`));
      }, timeout);
      this.waiters.push(waiter);
    });
  }

  /** The first argument of the next `event` (optionally matching `filter` on it). */
  waitFor<E extends ServerEvent>(
    event: E,
    filter?: (payload: Payload<E>) => boolean,
    timeout?: number,
  ): Promise<Payload<E>>;
  waitFor<T = unknown>(event: string, filter?: (payload: T) => boolean, timeout?: number): Promise<T>;
  async waitFor(
    event: string,
    filter: (payload: unknown) => boolean = () => true,
    timeout = DEFAULT_TIMEOUT,
  ): Promise<unknown> {
    const rec = await this.waitForRecord(event, (p) => filter(p), timeout);
    return rec.args[0];
  }

  /** Every argument of the next `event` whose arguments pass `filter`. */
  async next(
    event: string,
    filter: (args: unknown[]) => boolean = () => true,
    timeout = DEFAULT_TIMEOUT,
  ): Promise<unknown[]> {
    return (await this.waitForRecord(event, (_p, args) => filter(args), timeout)).args;
  }

  /** Every payload of `event` received (after `since`, a seq from mark()). */
  received<E extends ServerEvent>(event: E, since?: number): Payload<E>[];
  received<T = unknown>(event: string, since?: number): T[];
  received(event: string, since = 0): unknown[] {
    return this.log.filter((r) => r.event === event && r.seq > since).map((r) => r.args[0]);
  }

  /** Every event name received after `since`, acks and the disconnect excluded. */
  eventsSince(since: number): string[] {
    return this.log
      .filter((r) => r.seq > since && !r.event.startsWith('ack:') && r.event !== 'disconnect')
      .map((r) => r.event);
  }

  /**
   * Emit `event` with `args` and an ack callback; resolves with the ack's value. The ack is
   * recorded in the log as `ack:<event>` so its order against events can be checked.
   * Pass no args to send an event that carries only a callback.
   */
  request<T = unknown>(event: string, ...args: unknown[]): Promise<T> {
    return this.requestWithTimeout<T>(DEFAULT_TIMEOUT, event, ...args);
  }

  requestWithTimeout<T = unknown>(timeout: number, event: string, ...args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`client ${this.id}: no ack for '${event}' within ${timeout} ms`)),
        timeout,
      );
      this.raw.emit(event, ...args, (...replies: unknown[]) => {
        clearTimeout(timer);
        this.record(`ack:${event}`, replies);
        resolve(replies[0] as T);
      });
    });
  }

  /** Emit without an ack callback. */
  send(event: string, ...args: unknown[]): void {
    this.raw.emit(event, ...args);
  }

  /** A ping round trip: everything the server sent this socket before is now received. */
  async barrier(): Promise<void> {
    const id = await this.request<unknown>('ping');
    if (id !== this.id) throw new Error(`ping barrier answered ${JSON.stringify(id)} instead of ${this.id}`);
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  close(): void {
    openClients.delete(this);
    this.socket.disconnect();
    this.socket.io.engine?.close();
  }
}

/** Connect a client and wait for `connect` and the server's `me`. */
export async function connect(server: TestServer | string, opts: ClientOptions = {}): Promise<TestClient> {
  const url = typeof server === 'string' ? server : server.url;
  const client = new TestClient(url, opts);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timeout')), DEFAULT_TIMEOUT);
    client.socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    client.socket.once('connect_error', (err: Error) => {
      clearTimeout(timer);
      client.close();
      reject(err);
    });
  });
  const me = await client.waitFor('me');
  client.id = me;
  return client;
}

export async function connectMany(server: TestServer, n: number): Promise<TestClient[]> {
  return Promise.all(Array.from({ length: n }, () => connect(server)));
}

/** Close every client created and not yet closed. */
export function closeAllClients(): void {
  for (const c of [...openClients]) c.close();
}

export interface ErrorAck {
  error: string;
  code: string;
}

export function isErrorReply(v: unknown): v is ErrorAck {
  return typeof v === 'object' && v !== null && 'error' in v;
}

/** Log `client` in and return its User (throws on an error ack). */
export async function login(
  client: TestClient,
  name: string,
  room: string,
  extra: Record<string, unknown> = {},
): Promise<User> {
  const reply = await client.request<{ user: User } | ErrorAck>('login', { name, room, ...extra });
  if (isErrorReply(reply)) throw new Error(`login ${name}@${room} failed: ${reply.code} ${reply.error}`);
  return reply.user;
}

/**
 * Log each client into `room` in turn (names given or generated), waiting after each login
 * until every member has received the `users` list that includes the newcomer, so that
 * later assertions see a settled room. Returns the users in join order.
 */
export async function joinRoom(clients: TestClient[], room: string, names?: string[]): Promise<User[]> {
  const users: User[] = [];
  for (let i = 0; i < clients.length; i += 1) {
    const c = clients[i];
    const user = await login(c, names?.[i] ?? uniqueName(), room);
    users.push(user);
    const count = i + 1;
    await Promise.all(clients.slice(0, count).map((m) => m.waitFor('users', (list) => list.length === count)));
  }
  return users;
}

/** `n` clients on `server`, all logged in to one new room (named from `prefix`). */
export async function newRoom(
  server: TestServer,
  n: number,
  prefix = 'room',
): Promise<{ name: string; members: TestClient[] }> {
  const name = uniqueRoom(prefix);
  const members = await connectMany(server, n);
  await joinRoom(members, name);
  return { name, members };
}

/** Sends `text` as a room message; resolves to it as the room delivered it (with its offset and epoch). */
export async function say(c: TestClient, text: string): Promise<RoomMessage> {
  const ack = await c.request<{ id: string }>('roomMessage', { message: text });
  return c.waitFor<RoomMessage>('roomMessage', (m) => m.id === ack.id);
}

/**
 * Assert that none of `clients` received any of `events` after `since`: a ping round trip
 * on each client first (barrier), then a quiet window.
 */
export async function expectNothing(
  clients: TestClient[],
  events: string[],
  since: number,
  windowMs = QUIET_MS,
): Promise<void> {
  await Promise.all(clients.filter((c) => c.connected).map((c) => c.barrier()));
  await sleep(windowMs);
  for (const c of clients) {
    const got = c.log.filter((r) => r.seq > since && events.includes(r.event));
    if (got.length > 0) {
      throw new Error(
        `client ${c.id} unexpectedly received: ${got.map((r) => `${r.event} ${JSON.stringify(r.args)}`).join('; ')}`,
      );
    }
  }
}

/** Wait until the socket is disconnected (or fail after timeout). */
export function waitDisconnect(client: TestClient, timeout = DEFAULT_TIMEOUT): Promise<string> {
  if (!client.socket.connected) return Promise.resolve('already');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no disconnect')), timeout);
    client.socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}
