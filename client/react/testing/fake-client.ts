/**
 * A stand-in for ParleyClient in hook tests: server events are emitted by hand, requests
 * answer from plain fields, and what the hooks asked for is recorded. Only the surface the
 * hooks use is there.
 */
import type {
  DirectMessage,
  HistoryReply,
  ParleyClient,
  ResumeEvent,
  RoomMessage,
  ServerEvent,
  User,
} from '../../index.js';

type Handler = (...args: unknown[]) => void;

class Emitter {
  private readonly handlers = new Map<string, Set<Handler>>();
  on(event: string, h: Handler): this {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(h);
    return this;
  }
  off(event: string, h?: Handler): this {
    if (h) this.handlers.get(event)?.delete(h);
    else this.handlers.delete(event);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const h of [...(this.handlers.get(event) ?? [])]) h(...args);
  }
  count(event: string): number {
    return this.handlers.get(event)?.size ?? 0;
  }
}

export class FakeClient {
  readonly socket = Object.assign(new Emitter(), { connected: true, id: 'me-1' as string | undefined });
  private readonly messageListeners = new Set<(m: RoomMessage) => void>();
  private readonly resumeListeners = new Set<(e: ResumeEvent) => void>();
  private readonly rejoinListeners = new Set<(u: User) => void | Promise<void>>();
  /** What `listUsers` answers (the logged-in user is added by `login`). */
  users: User[] = [];
  historyReply: HistoryReply = { messages: [], offset: 0, epoch: 'e1', complete: true };
  lastSeen: { room: string; offset: number; epoch: string } | undefined;
  readonly sent: string[] = [];
  readonly hungUp: string[] = [];
  loginError: Error | undefined;

  get id(): string | undefined {
    return this.socket.id;
  }

  on(event: ServerEvent, listener: unknown): () => void {
    this.socket.on(event, listener as Handler);
    return () => this.socket.off(event, listener as Handler);
  }

  /** A server event, as if it came over the socket. */
  serverEmit(event: ServerEvent, payload: unknown): void {
    this.socket.emit(event, payload);
  }

  onMessage(l: (m: RoomMessage) => void): () => void {
    this.messageListeners.add(l);
    return () => this.messageListeners.delete(l);
  }
  onResume(l: (e: ResumeEvent) => void): () => void {
    this.resumeListeners.add(l);
    return () => this.resumeListeners.delete(l);
  }
  onRejoin(l: (u: User) => void | Promise<void>): () => void {
    this.rejoinListeners.add(l);
    return () => this.rejoinListeners.delete(l);
  }

  deliver(m: RoomMessage): void {
    for (const l of [...this.messageListeners]) l(m);
  }
  async rejoin(user: User): Promise<void> {
    this.socket.id = user.id;
    for (const l of [...this.rejoinListeners]) await l(user);
  }
  resume(e: ResumeEvent): void {
    for (const l of [...this.resumeListeners]) l(e);
  }
  listeners(): { messages: number; resumes: number; rejoins: number } {
    return {
      messages: this.messageListeners.size,
      resumes: this.resumeListeners.size,
      rejoins: this.rejoinListeners.size,
    };
  }

  async ready(): Promise<string> {
    return this.socket.id!;
  }
  async login(p: { name: string; room: string; publicKey?: string }): Promise<User> {
    if (this.loginError) throw this.loginError;
    const user: User = {
      id: this.socket.id!,
      name: p.name,
      room: p.room,
      publicKey: p.publicKey,
      joinedAt: Date.now(),
    };
    this.users = [...this.users.filter((u) => u.id !== user.id), user];
    return user;
  }
  async logout(): Promise<void> {}
  async listUsers(): Promise<User[]> {
    return this.users;
  }
  async history(): Promise<HistoryReply> {
    return this.historyReply;
  }
  async sendMessage(message: string): Promise<{ id: string; at: number; offset: number; epoch: string }> {
    this.sent.push(message);
    return { id: `m${this.sent.length}`, at: Date.now(), offset: this.sent.length, epoch: 'e1' };
  }
  async direct(_items: Array<{ to: string; payload: unknown }>): Promise<{ at: number }> {
    return { at: Date.now() };
  }
  async hangup(to: string): Promise<void> {
    this.hungUp.push(to);
  }
  async iceServers(): Promise<[]> {
    return [];
  }

  /** Typed as the real client, for the hooks. */
  get asClient(): ParleyClient {
    return this as unknown as ParleyClient;
  }
}

export function roomMessage(over: Partial<RoomMessage> & Pick<RoomMessage, 'offset' | 'message'>): RoomMessage {
  return {
    id: `id-${over.epoch ?? 'e1'}-${over.offset}`,
    room: 'r',
    from: 'bob',
    fromId: 'bob-1',
    at: Date.now(),
    epoch: 'e1',
    ...over,
  };
}

export type { DirectMessage };
