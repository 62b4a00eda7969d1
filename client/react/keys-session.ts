/**
 * A KeysRoom (the library's member-keys state) wired to a ParleyClient: fed with the
 * socket's `users` and `direct` events, sending its key shares as `direct` requests. One per
 * login (and per socket: a rejoin makes a new one that adopts the old one's keys).
 */
import {
  KeysRoom,
  type CallAuthSession,
  type DeviceIdentity,
  type DirectMessage,
  type Member,
  type MessageState,
  type ParleyClient,
  type RatchetStore,
  type RoomMessage,
  type TrustStore,
  type User,
} from '../index.js';

/** How long a key share that arrived before its session started is worth keeping. */
const EARLY_DIRECT_MS = 10_000;
const EARLY_DIRECT_MAX = 500;

/**
 * Key shares may arrive between the login ack and the session's start (another member saw
 * the new `users` list first): keeps the latest few for a moment, for the next session.
 */
export class EarlyDirects {
  private readonly held: Array<{ msg: DirectMessage; until: number }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Holds every `direct` the client receives; returns the unsubscribe. */
  watch(client: Pick<ParleyClient, 'on'>): () => void {
    return client.on('direct', (msg) => this.push(msg));
  }

  push(msg: DirectMessage): void {
    this.held.push({ msg, until: this.now() + EARLY_DIRECT_MS });
    while (this.held.length > EARLY_DIRECT_MAX) this.held.shift();
  }

  /** The still-fresh ones, once. */
  take(): DirectMessage[] {
    const now = this.now();
    return this.held.splice(0).flatMap((e) => (e.until > now ? [e.msg] : []));
  }
}

export class KeysSession {
  readonly room: KeysRoom;
  private readonly unsubscribe: Array<() => void>;
  private readonly identity: DeviceIdentity;

  constructor(
    client: Pick<ParleyClient, 'on' | 'direct'>,
    options: {
      identity: DeviceIdentity;
      user: User;
      trust: TrustStore;
      early?: EarlyDirects;
      onMembers: (members: Member[]) => void;
      /** What a changed key gets (the library's default is 'warn'; the page holds it). */
      keyChanges?: 'hold' | 'warn';
      /** Where ratchet state lasts across reloads and rejoins. */
      store?: RatchetStore;
    },
  ) {
    this.identity = options.identity;
    this.room = new KeysRoom({
      identity: options.identity,
      user: options.user,
      trust: options.trust,
      transport: { direct: (items) => client.direct(items) },
      onMembers: options.onMembers,
      keyChanges: options.keyChanges,
      store: options.store,
    });
    this.unsubscribe = [
      client.on('users', (list) => void this.room.updateMembers(list)),
      client.on('direct', (msg) => void this.room.receiveDirect(msg)),
    ];
    for (const msg of options.early?.take() ?? []) void this.room.receiveDirect(msg);
  }

  updateMembers(users: User[]): Promise<void> {
    return this.room.updateMembers(users);
  }

  encrypt(text: string): Promise<string> {
    return this.room.encrypt(text);
  }

  open(m: RoomMessage): Promise<MessageState> {
    return this.room.open(m);
  }

  /**
   * What signs and checks call proofs (client/call-auth.ts) in this session: a member's key
   * counts while it is a valid bundle that is not held (a changed key not accepted yet).
   */
  callAuth(): CallAuthSession {
    return {
      room: this.room.room,
      id: this.room.id,
      identity: this.identity,
      memberKey: (peerId) => {
        const m = this.room.member(peerId);
        return m?.bundle && !m.held ? m.bundle : undefined;
      },
    };
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.room.close();
  }
}
