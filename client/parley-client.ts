/**
 * A typed client for the Parley wire protocol (docs/PROTOCOL.md), over socket.io-client.
 * Works in the browser and in Node. Every request returns a promise that resolves with the
 * ack's success value or rejects with a {@link ParleyError} carrying the protocol `code`.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type {
  CallPeer,
  ClientToServerEvents,
  ErrorReply,
  HistoryPayload,
  HistoryReply,
  RedactedMessage,
  LoginPayload,
  MessageAck,
  ReadReceipt,
  RoomMessage,
  RTCIceServerLike,
  ServerToClientEvents,
  User,
  UserStatus,
} from '../src/common/events.js';
import {
  ReadReporter,
  TypingNotifier,
  type ReadReporterOptions,
  type TypingNotifierOptions,
  type TypingTracker,
} from './chat-timing.js';

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
  /**
   * After a reconnect that Socket.IO did not recover (a new socket), log in again and
   * fetch what was missed with `history` (default true). See {@link ResumeEvent}.
   */
  resume?: boolean;
}

/**
 * What a resume after a reconnect found. `complete: true` means nothing was missed: every
 * message sent meanwhile has been delivered through `onMessage`. `complete: false` means
 * some messages may be missing (expired, cut, or the room's epoch changed), a gap the
 * application should show.
 */
export interface ResumeEvent {
  room: string;
  complete: boolean;
  /** Messages sent while away and delivered by this resume (through `onMessage`). */
  missed: number;
  /** The room's epoch changed: the server lost track of its offsets (a restart, a Redis loss). */
  epochChanged: boolean;
  /** The new login, when it succeeded. */
  user?: User;
  /** Why the resume failed (the client is then not logged in). */
  error?: ParleyError;
}

/** Where the client stands in a room: every offset up to `confirmed` seen, and some above. */
interface RoomPosition {
  room: string;
  epoch: string;
  confirmed: number;
  above: Set<number>;
}

/** How many recent message ids are kept to drop a message delivered twice. */
const DELIVERED_IDS = 4096;

/** Everything the server may emit, with the payload each listener receives. */
export type ServerEvent = keyof ServerToClientEvents;
export type Listener<E extends ServerEvent> = ServerToClientEvents[E];
export type Unsubscribe = () => void;

export interface SdpLike {
  type: string;
  sdp?: string;
}

/** The ack callback an event takes (its optional last argument). */
type AckOf<E extends keyof ClientToServerEvents> = Extract<
  Parameters<ClientToServerEvents[E]>[number],
  (reply: never) => void
>;
/** What that ack receives on success. */
type AckValue<E extends keyof ClientToServerEvents> =
  AckOf<E> extends (reply: infer R) => void ? Exclude<R, ErrorReply> : never;

export class ParleyClient {
  readonly socket: ParleySocket;
  private readonly ackTimeoutMs: number;
  private currentUser: User | undefined;
  private readonly resumeEnabled: boolean;
  private lastLogin?: LoginPayload;
  private position?: RoomPosition;
  private readonly delivered = new Set<string>();
  private readonly deliveredOrder: string[] = [];
  private readonly messageListeners = new Set<(message: RoomMessage) => void>();
  private readonly resumeListeners = new Set<(event: ResumeEvent) => void>();
  private readonly rejoinListeners = new Set<(user: User) => void | Promise<void>>();
  /** Live messages held back while a resume fetches what came before them. */
  private held?: RoomMessage[];

  constructor(options: ParleyClientOptions = {}) {
    const opts: Partial<ManagerOptions & SocketOptions> = {
      autoConnect: options.autoConnect ?? true,
      ...options.socketOptions,
    };
    if (options.token !== undefined) opts.auth = { ...(opts.auth as object), token: options.token };
    this.socket = (options.url === undefined ? io(opts) : io(options.url, opts)) as ParleySocket;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.resumeEnabled = options.resume ?? true;
    // Keep `user` in step with the server: a reconnect that is not a recovered session
    // (docs/PROTOCOL.md, "Reconnection") is a new socket, logged out.
    this.socket.on('connect', () => {
      if (this.socket.recovered) return;
      const previous = this.currentUser;
      this.currentUser = undefined;
      if (previous && this.resumeEnabled && this.lastLogin) void this.resume(this.lastLogin);
    });
    this.socket.on('roomMessage', (m) => this.receive(m));
  }

  /**
   * Every room message once: live ones as they arrive, and after a resume the ones missed
   * while away, in offset order. Messages `history()` returned are not delivered again.
   */
  onMessage(listener: (message: RoomMessage) => void): Unsubscribe {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** After each reconnect that was not recovered: the resume's outcome (see {@link ResumeEvent}). */
  onResume(listener: (event: ResumeEvent) => void): Unsubscribe {
    this.resumeListeners.add(listener);
    return () => this.resumeListeners.delete(listener);
  }

  /**
   * During a resume, right after the new login succeeded and before the missed messages
   * are fetched and delivered: the place to set up per-socket state (e.g. encryption keys
   * for the new socket id). The resume waits for the returned promise.
   */
  onRejoin(listener: (user: User) => void | Promise<void>): Unsubscribe {
    this.rejoinListeners.add(listener);
    return () => this.rejoinListeners.delete(listener);
  }

  /** The last offset (every one up to it seen) and epoch in the current room. */
  get lastSeen(): { room: string; offset: number; epoch: string } | undefined {
    const p = this.position;
    return p && { room: p.room, offset: p.confirmed, epoch: p.epoch };
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
    this.lastLogin = payload;
    // Where the room stands now, so a later resume asks for exactly what comes after.
    if (this.resumeEnabled && this.position?.room !== user.room)
      await this.history({ limit: 1 }).catch(() => undefined);
    return user;
  }

  /**
   * The room's retained messages (`history`, docs/PROTOCOL.md): all of them, or with
   * `since` and `epoch` those after it. Also moves the client's position forward, and the
   * returned messages are not delivered again through `onMessage`.
   */
  async history(query: HistoryPayload = {}): Promise<HistoryReply> {
    const reply = await this.request('history', query);
    if (!isHistoryReply(reply)) throw new ParleyError('INTERNAL', 'history: the server sent no history', 'history');
    const room = this.currentUser?.room;
    for (const m of reply.messages) this.markDelivered(m.id);
    if (room) this.advance(room, reply);
    return reply;
  }

  async logout(): Promise<void> {
    await this.request('logout');
    this.currentUser = undefined;
  }

  /** Send a (client-encrypted) message to the room; resolves with its id, time, offset and epoch. */
  sendMessage(message: string): Promise<MessageAck> {
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

  // ---- presence, typing, read receipts, redaction (docs/PROTOCOL.md, v1.2) ----

  /** Set this member's status; the room (this socket included) gets `presence` when it changed. */
  async setStatus(status: UserStatus): Promise<void> {
    await this.request('setStatus', { status });
  }

  /**
   * Remove the text of a retained message this socket sent (`FORBIDDEN` for another's,
   * `NOT_FOUND` when not retained); every member gets `redacted`, history keeps a tombstone.
   */
  async redact(offset: number, epoch: string): Promise<void> {
    await this.request('redact', { offset, epoch });
  }

  /** Relay `typing { active }` to the other members (nothing stored). See {@link typingNotifier}. */
  async typing(active: boolean): Promise<void> {
    await this.request('typing', { active });
  }

  /**
   * Report having read the room up to `offset` of `epoch`; resolves with the member's position
   * after it (positions only move forward). See {@link readReporter} for the rate limit.
   */
  async read(offset: number, epoch: string): Promise<number> {
    const { offset: position } = await this.request('read', { offset, epoch });
    return position;
  }

  /** The read position of every member of the room that has one in the current epoch. */
  async receipts(): Promise<ReadReceipt[]> {
    const { receipts } = await this.request('receipts');
    return receipts;
  }

  /**
   * A {@link TypingNotifier} sending this client's `typing`: call its `input()` on keystrokes,
   * `sent()` after sending, `stop()` when the field is cleared or left.
   */
  typingNotifier(options?: TypingNotifierOptions): TypingNotifier {
    return new TypingNotifier((active) => this.typing(active), options);
  }

  /**
   * Feed a {@link TypingTracker} from this client: `typing` events, room messages (their
   * sender stops typing) and `users` lists (who left stops typing). Returns the unsubscribe.
   */
  trackTyping(tracker: TypingTracker): Unsubscribe {
    const offs = [
      this.on('typing', (e) => tracker.event(e)),
      this.onMessage((m) => tracker.message(m.fromId)),
      this.on('users', (users) => tracker.members(users.map((u) => u.id))),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** A {@link ReadReporter} sending this client's `read`, at most once a second and only forward. */
  readReporter(options?: ReadReporterOptions): ReadReporter {
    return new ReadReporter((offset, epoch) => this.read(offset, epoch), options);
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

  // ---- room calls (docs/PROTOCOL.md, "Room calls", v1.2) ----

  /**
   * Join the room's call: resolves with the participants that were already there, oldest
   * first (this socket sends each of them the first offer). Every member also gets `roomCall`.
   * Rejects with `CALL_FULL` past `MAX_CALL_PEERS`, `ALREADY_IN_CALL` when already in it.
   */
  async joinCall(): Promise<CallPeer[]> {
    const { peers } = await this.request('joinCall');
    return peers;
  }

  /** Leave the room's call (`NO_CALL` when not a participant). */
  async leaveCall(): Promise<void> {
    await this.request('leaveCall');
  }

  /** Relay opaque `data` (`{ description }`, `{ candidate }`, …) to another participant. */
  async callSignal(to: string, data: unknown): Promise<void> {
    await this.request('callSignal', { to, data });
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

  // ---- resume ----

  /** A new socket after a drop: log in again, then deliver what was missed, in offset order. */
  private async resume(login: LoginPayload): Promise<void> {
    this.held = [];
    const before = this.position?.room === login.room ? { ...this.position } : undefined;
    try {
      const user = await this.loginAgain(login);
      for (const l of [...this.rejoinListeners]) await Promise.resolve(l(user)).catch(() => undefined);
      const query: HistoryPayload = before ? { since: before.confirmed, epoch: before.epoch } : {};
      const reply = await this.request('history', query);
      if (!isHistoryReply(reply)) throw new ParleyError('INTERNAL', 'history: the server sent no history', 'history');
      // A tombstone has no text to deliver; it is history's news only.
      const missed = reply.messages.filter((m): m is RoomMessage => !isRedacted(m) && !this.delivered.has(m.id));
      const live = this.held;
      this.held = undefined;
      // The missed ones first, then what arrived meanwhile, each once, by offset within the reply's epoch.
      const queue = [...missed, ...live.filter((m) => !missed.some((x) => x.id === m.id))];
      queue.sort((x, y) => (x.epoch === y.epoch ? x.offset - y.offset : x.epoch === reply.epoch ? 1 : -1));
      for (const m of queue) this.receive(m);
      this.advance(login.room, reply);
      this.emitResume({
        room: login.room,
        complete: reply.complete,
        missed: missed.length,
        epochChanged: before !== undefined && before.epoch !== reply.epoch,
        user,
      });
    } catch (err) {
      const live = this.held ?? [];
      this.held = undefined;
      for (const m of live) this.receive(m);
      const error = err instanceof ParleyError ? err : new ParleyError('DISCONNECTED', String(err), 'login');
      this.emitResume({ room: login.room, complete: false, missed: 0, epochChanged: false, error });
    }
  }

  /**
   * `login` for a resume. The old socket may still hold the name for the server's recovery
   * window (NAME_TAKEN): try again each second for a while.
   */
  private async loginAgain(login: LoginPayload): Promise<User> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { user } = await this.request('login', login);
        this.currentUser = user;
        return user;
      } catch (err) {
        if (!ParleyError.is(err, 'NAME_TAKEN') || attempt >= 60 || !this.socket.connected) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private emitResume(event: ResumeEvent): void {
    for (const l of [...this.resumeListeners]) l(event);
  }

  private receive(m: RoomMessage): void {
    if (this.held) {
      this.held.push(m);
      return;
    }
    if (this.delivered.has(m.id)) return;
    this.markDelivered(m.id);
    this.track(m);
    for (const l of [...this.messageListeners]) l(m);
  }

  private markDelivered(id: string): void {
    if (this.delivered.has(id)) return;
    this.delivered.add(id);
    this.deliveredOrder.push(id);
    if (this.deliveredOrder.length > DELIVERED_IDS) this.delivered.delete(this.deliveredOrder.shift()!);
  }

  /** Moves the position over one message (offsets may arrive out of order across senders). */
  private track(m: RoomMessage): void {
    if (typeof m.offset !== 'number' || typeof m.epoch !== 'string') return;
    let p = this.position;
    if (!p || p.room !== m.room || p.epoch !== m.epoch) {
      p = this.position = { room: m.room, epoch: m.epoch, confirmed: m.offset - 1, above: new Set() };
    }
    if (m.offset === p.confirmed + 1) {
      p.confirmed += 1;
      while (p.above.delete(p.confirmed + 1)) p.confirmed += 1;
    } else if (m.offset > p.confirmed + 1) {
      p.above.add(m.offset);
    }
  }

  /** After a `history` answer the room is known up to its latest offset. */
  private advance(room: string, reply: HistoryReply): void {
    const p = this.position;
    if (!p || p.room !== room || p.epoch !== reply.epoch) {
      this.position = { room, epoch: reply.epoch, confirmed: reply.offset, above: new Set() };
      return;
    }
    if (reply.offset <= p.confirmed) return;
    p.confirmed = reply.offset;
    for (const o of p.above) if (o <= p.confirmed) p.above.delete(o);
    while (p.above.delete(p.confirmed + 1)) p.confirmed += 1;
  }

  connect(): void {
    this.socket.connect();
  }
}

/** Whether a history entry is a redacted message's tombstone (v1.2): no text, `redacted: true`. */
export function isRedacted(m: RoomMessage | RedactedMessage): m is RedactedMessage {
  return (m as RedactedMessage).redacted === true;
}

function isHistoryReply(value: unknown): value is HistoryReply {
  const r = value as HistoryReply | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    Array.isArray(r.messages) &&
    typeof r.offset === 'number' &&
    typeof r.epoch === 'string'
  );
}

/** Shorthand for `new ParleyClient({ url, ...options })`. */
export function connectParley(url?: string, options: Omit<ParleyClientOptions, 'url'> = {}): ParleyClient {
  return new ParleyClient({ ...options, url });
}
