/**
 * A typed client for the Parley wire protocol (docs/PROTOCOL.md), over socket.io-client.
 * Works in the browser and in Node. Every request returns a promise that resolves with the
 * ack's success value or rejects with a {@link ParleyError} carrying the protocol `code`.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type {
  ClientToServerEvents,
  ErrorReply,
  LoginPayload,
  RTCIceServerLike,
  ServerToClientEvents,
  User,
} from '../src/common/events.js';

export type ParleySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

import type { ClientErrorCode } from '../src/common/errors/error-codes.js';

/**
 * Protocol codes, the `connect_error` codes of a refused handshake, and the two the client
 * itself produces (`TIMEOUT`, `DISCONNECTED`): all from the server's one error table.
 */
export type { ClientErrorCode };

export class ParleyError extends Error {
  override readonly name = 'ParleyError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** The client-to-server event that failed. */
    readonly event?: string,
  ) {
    super(message);
  }

  static is(value: unknown, code?: ClientErrorCode): value is ParleyError {
    return value instanceof ParleyError && (code === undefined || value.code === code);
  }
}

export function isErrorReply(value: unknown): value is ErrorReply {
  return (
    typeof value === 'object' &&
    value !== null &&
    'error' in value &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

export interface ParleyClientOptions {
  /** Server URL; omit in a page served by the Parley server itself (same origin). */
  url?: string;
  /** JWT for servers with `AUTH_JWT_SECRET` set (sent as `auth.token`). */
  token?: string;
  /** Milliseconds to wait for an ack before rejecting with `TIMEOUT` (default 10000). */
  ackTimeoutMs?: number;
  /** Connect right away (default true). */
  autoConnect?: boolean;
  /** Anything else to hand to socket.io-client's `io()`. */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/** Everything the server may emit, with the payload each listener receives. */
export type ServerEvent = keyof ServerToClientEvents;
export type Listener<E extends ServerEvent> = ServerToClientEvents[E];
export type Unsubscribe = () => void;

export interface SdpLike {
  type: string;
  sdp?: string;
}

type AckValue<E extends keyof ClientToServerEvents> =
  Parameters<ClientToServerEvents[E]> extends [...unknown[], ((reply: infer R) => void) | undefined]
    ? Exclude<R, ErrorReply>
    : never;

export class ParleyClient {
  readonly socket: ParleySocket;
  private readonly ackTimeoutMs: number;
  private currentUser: User | undefined;

  constructor(options: ParleyClientOptions = {}) {
    const opts: Partial<ManagerOptions & SocketOptions> = {
      autoConnect: options.autoConnect ?? true,
      ...options.socketOptions,
    };
    if (options.token !== undefined) opts.auth = { ...(opts.auth as object), token: options.token };
    this.socket = (options.url === undefined ? io(opts) : io(options.url, opts)) as ParleySocket;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    // Keep `user` in step with the server: a reconnect that is not a recovered session
    // (docs/PROTOCOL.md, "Reconnection") is a new socket, logged out.
    this.socket.on('connect', () => {
      if (!this.socket.recovered) this.currentUser = undefined;
    });
  }

  /** The socket id (also the user id once logged in), when connected. */
  get id(): string | undefined {
    return this.socket.id;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** The logged-in user, from the last successful `login` ack. */
  get user(): User | undefined {
    return this.currentUser;
  }

  /** Resolve once connected (with the socket id); reject on `connect_error` (e.g. `UNAUTHORIZED`). */
  ready(): Promise<string> {
    if (this.socket.connected && this.socket.id) return Promise.resolve(this.socket.id);
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        cleanup();
        resolve(this.socket.id!);
      };
      const onError = (err: Error) => {
        cleanup();
        const code = /^[A-Z_]+$/.test(err.message) ? err.message : 'DISCONNECTED';
        reject(new ParleyError(code as ClientErrorCode, err.message, 'connect'));
      };
      const cleanup = () => {
        this.socket.off('connect', onConnect);
        this.socket.off('connect_error', onError);
      };
      this.socket.on('connect', onConnect);
      this.socket.on('connect_error', onError);
      if (!this.socket.active) this.socket.connect();
    });
  }

  /** Subscribe to a server event; returns a function that unsubscribes. */
  on<E extends ServerEvent>(event: E, listener: Listener<E>): Unsubscribe {
    // The typed overloads of component-emitter do not accept a generic key; the map above is the contract.
    (this.socket as unknown as { on(e: string, l: unknown): void }).on(event, listener);
    return () => this.off(event, listener);
  }

  once<E extends ServerEvent>(event: E, listener: Listener<E>): Unsubscribe {
    (this.socket as unknown as { once(e: string, l: unknown): void }).once(event, listener);
    return () => this.off(event, listener);
  }

  off<E extends ServerEvent>(event: E, listener?: Listener<E>): void {
    (this.socket as unknown as { off(e: string, l?: unknown): void }).off(event, listener);
  }

  /** Resolve with the next `event` payload (first argument), optionally matching a predicate. */
  next<E extends ServerEvent>(
    event: E,
    predicate: (payload: Parameters<Listener<E>>[0]) => boolean = () => true,
    timeoutMs = this.ackTimeoutMs,
  ): Promise<Parameters<Listener<E>>[0]> {
    return new Promise((resolve, reject) => {
      const listener = ((payload: Parameters<Listener<E>>[0]) => {
        if (!predicate(payload)) return;
        clearTimeout(timer);
        this.off(event, listener);
        resolve(payload);
      }) as Listener<E>;
      const timer = setTimeout(() => {
        this.off(event, listener);
        reject(new ParleyError('TIMEOUT', `no "${event}" event within ${timeoutMs} ms`, event));
      }, timeoutMs);
      this.on(event, listener);
    });
  }

  /** Send `event` with `args` and settle with its ack. */
  private request<E extends keyof ClientToServerEvents>(event: E, ...args: unknown[]): Promise<AckValue<E>> {
    return new Promise((resolve, reject) => {
      const emitter = this.socket.timeout(this.ackTimeoutMs) as unknown as {
        emit(ev: string, ...rest: unknown[]): void;
      };
      emitter.emit(event, ...args, (err: Error | null, reply: unknown) => {
        if (err) {
          reject(new ParleyError('TIMEOUT', `no reply to "${event}" within ${this.ackTimeoutMs} ms`, event));
        } else if (isErrorReply(reply)) {
          reject(new ParleyError(reply.code, reply.error, event));
        } else {
          resolve(reply as AckValue<E>);
        }
      });
    });
  }

  // ---- chat ----

  async login(payload: LoginPayload): Promise<User> {
    const { user } = await this.request('login', payload);
    this.currentUser = user;
    return user;
  }

  async logout(): Promise<void> {
    await this.request('logout');
    this.currentUser = undefined;
  }

  /** Send a (client-encrypted) message to the room; resolves with the server's id and time. */
  sendMessage(message: string): Promise<{ id: string; at: number }> {
    return this.request('roomMessage', { message });
  }

  /** One opaque payload per recipient (socket ids of other members of this room). */
  direct(items: Array<{ to: string; payload: unknown }>): Promise<{ at: number }> {
    return this.request('direct', { items });
  }

  async listUsers(): Promise<User[]> {
    const { users } = await this.request('listUsers');
    return users;
  }

  /** Round trip to the server; resolves with this socket's id. */
  ping(): Promise<string> {
    return this.request('ping') as Promise<string>;
  }

  // ---- call signaling ----

  /** Ring `userToCall` (a socket id), optionally with an SDP offer or other signal. */
  async call(userToCall: string, options: { signal?: unknown; name?: string } = {}): Promise<void> {
    await this.request('call', { userToCall, ...options });
  }

  /** Answer with an SDP (peer gets `answer`) or, simple-peer style, with `{ signal }` (peer gets `accepted`). */
  async answer(to: string, answer: { sdp: unknown } | { signal: unknown }): Promise<void> {
    await this.request('answer', { to, ...answer });
  }

  async offer(to: string, sdp: unknown): Promise<void> {
    await this.request('offer', { to, sdp });
  }

  async candidate(to: string, candidate: unknown): Promise<void> {
    await this.request('candidate', { to, candidate });
  }

  async signal(to: string, signal: unknown): Promise<void> {
    await this.request('signal', { to, signal });
  }

  async hangup(to: string): Promise<void> {
    await this.request('hangup', { to });
  }

  /** STUN/TURN servers for `RTCPeerConnection` (works before login). */
  async iceServers(): Promise<RTCIceServerLike[]> {
    const { iceServers } = await this.request('iceServers');
    return iceServers;
  }

  disconnect(): void {
    this.currentUser = undefined;
    this.socket.disconnect();
  }

  connect(): void {
    this.socket.connect();
  }
}

/** Shorthand for `new ParleyClient({ url, ...options })`. */
export function connectParley(url?: string, options: Omit<ParleyClientOptions, 'url'> = {}): ParleyClient {
  return new ParleyClient({ ...options, url });
}
