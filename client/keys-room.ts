/**
 * One device's state in a "keys" room (docs/ENCRYPTION.md): the members' published bundles
 * (trust on first use per room and name, verification, key changes held until accepted),
 * this device's sender chain, the chains the others shared, and the rotation rules:
 *  - on entering, make a sender chain and share it (at index 0) with every member whose
 *    bundle has a login session;
 *  - when anyone leaves, make a new chain and share it with those who remain, so a leaver
 *    cannot read what follows;
 *  - when someone joins, share the current chain *at its current index* with the newcomer
 *    only: it derives the keys of later messages, never of earlier ones.
 * Every message carries its chain index under the sender's signature: an index opened
 * before is a replay (refused), indices skipped over are a gap (reported), and message
 * keys are dropped once used. A member missing a chain asks its sender for it; shares the
 * server refuses (`RATE_LIMITED`, `UNAVAILABLE`, …) are sent again with backoff.
 * Transport-agnostic: feed it `users`, `direct` and `roomMessage` events; it sends shares
 * and key requests through the given transport.
 */
import type { DirectMessage, RoomMessage, User } from '../src/common/events.js';
import { bytesToBase64, legacyFingerprint } from './crypto.js';
import {
  parseBundle,
  roomCode,
  safetyNumber,
  sameDevice,
  type DeviceIdentity,
  type PublicBundle,
} from './identity-bundle.js';
import { InboundChain, isChainId, OutboundChain, type InboundChainState, type RatchetStore } from './ratchet.js';
import {
  createChainShare,
  decryptChainEnvelope,
  isChainShare,
  openChainShare,
  parseEnvelope,
  sealChainMessage,
  verifyEnvelope,
  type ChainShare,
  type OpenFailure,
} from './sender-keys.js';

export interface KeysTransport {
  direct(items: Array<{ to: string; payload: unknown }>): Promise<unknown>;
}

/** Fingerprints seen per room and name (trust on first use), and which were verified. */
export interface TrustStore {
  get(room: string, name: string): string | undefined;
  set(room: string, name: string, fingerprint: string): void;
  /** The fingerprint the user verified for this name (compared safety numbers), if any. */
  getVerified?(room: string, name: string): string | undefined;
  /** Remembers (or, with `undefined`, forgets) a verified fingerprint. */
  setVerified?(room: string, name: string, fingerprint: string | undefined): void;
}

export function memoryTrustStore(): TrustStore {
  const map = new Map<string, string>();
  const verified = new Map<string, string>();
  const k = (room: string, name: string) => JSON.stringify([room, name.toLocaleLowerCase('en-US')]);
  return {
    get: (r, n) => map.get(k(r, n)),
    set: (r, n, f) => void map.set(k(r, n), f),
    getVerified: (r, n) => verified.get(k(r, n)),
    setVerified: (r, n, f) => void (f === undefined ? verified.delete(k(r, n)) : verified.set(k(r, n), f)),
  };
}

export type TrustState =
  /** First time this name is seen in this room: its fingerprint is now remembered. */
  | 'new'
  /** The same fingerprint as remembered. */
  | 'known'
  /** A different fingerprint from the one remembered for this name: flag it. */
  | 'changed'
  /** No bundle, or not a valid one: nothing can be shared with it or verified from it. */
  | 'no-key';

export interface Member {
  id: string;
  name: string;
  bundle?: PublicBundle;
  fingerprint?: string;
  trust: TrustState;
  /** The name was never seen in this room on this device before (same as trust `new`). */
  firstSeen?: boolean;
  /** The user verified this key (compared safety numbers) and it has not changed since. */
  verified?: boolean;
  /**
   * A changed key not accepted yet: it gets no sender chain until {@link KeysRoom.accept}.
   * Always so for a member whose verified key changed; for others with `keyChanges: 'hold'`.
   */
  held?: boolean;
  /** For a changed key: the fingerprint remembered before. */
  previousFingerprint?: string;
  /** The bundle has no login session (an older client): nothing can be shared with it. */
  outdated?: boolean;
}

export type MessageState =
  | {
      ok: true;
      text: string;
      /** Messages of this sender's chain skipped over before this one (not received yet). */
      gap?: number;
      /** A message arriving after later ones of its chain (it had been counted in a gap). */
      late?: boolean;
    }
  | {
      ok: false;
      reason:
        | OpenFailure
        /** No sender key for it arrived in time. */
        | 'no-key'
        /** Sent before this device joined (or before its chain was shared): never readable here. */
        | 'before-join'
        /** The sender published no valid bundle, so the message cannot be verified. */
        | 'unknown-sender'
        /** An index of the sender's chain already opened, in another message: refused. */
        | 'replay';
    };

/** Thrown by {@link KeysRoom.encrypt} while a verified member's key change is not accepted. */
export class KeyChangeBlockedError extends Error {
  override readonly name = 'KeyChangeBlockedError';
  readonly code = 'KEY_CHANGE_BLOCKED';
  constructor(readonly members: string[]) {
    super(`The verified key of ${members.join(', ')} changed: accept or remove it before sending`);
  }
}

/** A `direct` payload asking a member to send its chain again (not signed: it only triggers a resend). */
export interface KeyRequest {
  v: 'kr1';
  room: string;
  from: string;
  to: string;
  chain: string;
}

export function isKeyRequest(value: unknown): value is KeyRequest {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  return (
    r.v === 'kr1' &&
    typeof r.room === 'string' &&
    typeof r.from === 'string' &&
    typeof r.to === 'string' &&
    isChainId(r.chain)
  );
}

/** Error codes after which a share is sent again (later). */
const RETRYABLE = new Set(['RATE_LIMITED', 'UNAVAILABLE', 'TIMEOUT', 'DISCONNECTED']);
const OPENED_CACHE = 10_000;
/** Most records of each kind a {@link RatchetStore} keeps per device, room and name. */
const KEPT = { member: 2000, own: 200, sent: OPENED_CACHE, chain: 1000, opened: OPENED_CACHE } as const;
type Kind = keyof typeof KEPT;

export interface KeysRoomOptions {
  identity: DeviceIdentity;
  /** This device's user, as the login ack gave it. */
  user: User;
  transport: KeysTransport;
  trust?: TrustStore;
  /** How long a message waits for its sender key (ms, default 5000). */
  holdMs?: number;
  /** Called when the member list or a member's trust state changes. */
  onMembers?: (members: Member[]) => void;
  /**
   * What a changed key (a name seen before, with another fingerprint) gets:
   * - `'hold'`: no sender chain and the remembered fingerprint kept, until {@link KeysRoom.accept};
   * - `'warn'` (default, the behaviour of earlier versions, for pages without an accept
   *   button): flagged `changed`, remembered and shared with at once.
   * A member whose *verified* key changed is always held, and sending stops until accepted.
   */
  keyChanges?: 'hold' | 'warn';
  /** Delays before each new attempt of a refused share (ms; default 500, 2000, 8000, 30000). */
  retryDelaysMs?: number[];
  /** Least time between two key requests for one chain (ms, default 3000). */
  requestIntervalMs?: number;
  /**
   * Where this device keeps what it can read in this room across reloads and rejoins (the
   * chains it was given at their current index, the messages it opened, its own messages
   * and the members it saw), per device, room and name. Without one, all is in memory.
   */
  store?: RatchetStore;
}

interface Received {
  from: string;
  fromId: string;
  chain: InboundChain;
}

/** A {@link RatchetStore} record of one kind, in the order it was written (`t`). */
interface Stored {
  t: number;
}

export class KeysRoom {
  readonly room: string;
  readonly name: string;
  readonly id: string;
  readonly joinedAt: number;
  private readonly identity: DeviceIdentity;
  private readonly transport: KeysTransport;
  private readonly trust: TrustStore;
  private readonly holdMs: number;
  private readonly onMembers?: (members: Member[]) => void;
  private readonly keyChanges: 'hold' | 'warn';
  private readonly retryDelays: number[];
  private readonly requestInterval: number;
  /** Current members by socket id (without this device). */
  private members = new Map<string, Member>();
  /** Everyone ever seen in this session, so messages still in flight from a leaver verify. */
  private readonly seen = new Map<string, Member>();
  /** Socket ids of this device (this one and those it adopted). */
  private readonly ownIds = new Set<string>();
  private outbound?: OutboundChain;
  /** What this device sent, by `${chain}/${index}`: its own messages read back from here. */
  private readonly ownSent = new Map<string, { envelope: string; text: string }>();
  /** Chains others shared with this device, by `${socketId}/${chainId}`. */
  private readonly received = new Map<string, Received>();
  /** Messages opened, by `${socketId}/${chainId}/${index}`: a re-render gets the same text. */
  private readonly opened = new Map<string, { messageId: string; text: string }>();
  /** The share of the current chain each member was sent (to send again on request). */
  private sharesSent = new Map<string, { chain: string; payload: ChainShare }>();
  private readonly lastRequest = new Map<string, number>();
  private readonly lastResend = new Map<string, number>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly listeners = new Set<() => void>();
  private queue: Promise<void>;
  private closed = false;
  private readonly store?: RatchetStore;
  /** The store's key prefix for this device, room and name. */
  private readonly prefix: string;
  /** Keys of the records written, per kind, oldest first (to bound them). */
  private readonly kept: Record<Kind, string[]> = { member: [], own: [], sent: [], chain: [], opened: [] };
  private seq = 0;
  /** Resolves once what the store held is loaded (at once without a store). */
  readonly ready: Promise<void>;
  /** How many rotations this device made (for the page and tests). */
  rotations = 0;
  /** Shares given up on after every retry (or refused for good), for the page and tests. */
  readonly failedShares: Array<{ to: string; name: string; code: string }> = [];

  constructor(options: KeysRoomOptions) {
    this.identity = options.identity;
    this.room = options.user.room;
    this.name = options.user.name;
    this.id = options.user.id;
    this.joinedAt = options.user.joinedAt;
    this.transport = options.transport;
    this.trust = options.trust ?? memoryTrustStore();
    this.holdMs = options.holdMs ?? 5000;
    this.onMembers = options.onMembers;
    this.keyChanges = options.keyChanges ?? 'warn';
    this.retryDelays = options.retryDelaysMs ?? [500, 2000, 8000, 30000];
    this.requestInterval = options.requestIntervalMs ?? 3000;
    this.ownIds.add(this.id);
    this.store = options.store;
    this.prefix = `k2/${JSON.stringify([this.identity.fingerprint, this.room, this.name.toLocaleLowerCase('en-US')])}/`;
    this.ready = this.restore().catch(() => undefined);
    this.queue = this.ready;
    if (this.store) void this.ready.then(() => this.persist('own', this.id, {}));
  }

  /** The sender device's key for chains and opened indices: its fingerprint, not its socket. */
  private static chainKey(fingerprint: string, chain: string): string {
    return `${fingerprint}/${chain}`;
  }

  /** Writes a record (best effort) and drops the oldest of its kind beyond the bound. */
  private persist(kind: Kind, id: string, value: object): void {
    const store = this.store;
    if (!store || this.closed) return;
    const key = `${this.prefix}${kind}/${id}`;
    const list = this.kept[kind];
    const at = list.indexOf(key);
    if (at >= 0) list.splice(at, 1);
    list.push(key);
    void store.put(key, { ...value, t: Date.now() * 1000 + (this.seq++ % 1000) }).catch(() => undefined);
    while (list.length > KEPT[kind]) void store.delete(list.shift()!).catch(() => undefined);
  }

  /** Loads what this device kept for this room and name (see {@link KeysRoomOptions.store}). */
  private async restore(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const all = store.entries
      ? await store.entries(this.prefix)
      : await Promise.all((await store.keys(this.prefix)).map(async (k) => [k, await store.get(k)] as const));
    const records = all as Array<readonly [string, Stored | undefined]>;
    records.sort((a, b) => (a[1]?.t ?? 0) - (b[1]?.t ?? 0));
    for (const [key, value] of records) {
      if (!value || typeof value !== 'object') continue;
      const rest = key.slice(this.prefix.length);
      const slash = rest.indexOf('/');
      const kind = rest.slice(0, slash) as Kind;
      const id = rest.slice(slash + 1);
      if (!(kind in KEPT)) continue;
      this.kept[kind].push(key);
      const v = value as unknown as Record<string, unknown>;
      if (kind === 'member' && typeof v.name === 'string' && !this.seen.has(id)) {
        const bundle = (await parseBundle(v.publicKey)) ?? undefined;
        if (bundle) this.seen.set(id, { id, name: v.name, bundle, fingerprint: bundle.fingerprint, trust: 'known' });
      } else if (kind === 'own') {
        this.ownIds.add(id);
      } else if (kind === 'sent' && typeof v.envelope === 'string' && typeof v.text === 'string') {
        this.ownSent.set(id, { envelope: v.envelope, text: v.text });
      } else if (kind === 'chain' && typeof v.from === 'string' && typeof v.fromId === 'string') {
        const chain = InboundChain.fromState(v.state as InboundChainState);
        if (chain && !this.received.has(id)) this.received.set(id, { from: v.from, fromId: v.fromId, chain });
      } else if (kind === 'opened' && typeof v.messageId === 'string' && typeof v.text === 'string') {
        this.opened.set(id, { messageId: v.messageId, text: v.text });
      }
    }
  }

  private async persistChain(key: string, r: Received): Promise<void> {
    if (!this.store) return;
    this.persist('chain', key, { from: r.from, fromId: r.fromId, state: await r.chain.state() });
  }

  /**
   * Carries over what this device held in the room under its previous socket (a rejoin
   * after a dropped connection), so the messages it could read then stay readable, its own
   * included, and replays stay refused. The new socket still gets fresh chains: the others
   * rotate when the old one goes.
   */
  adopt(previous: KeysRoom): void {
    if (previous === this || previous.room !== this.room || !sameDevice(previous.identity, this.identity)) return;
    for (const [id, member] of previous.seen) if (!this.seen.has(id)) this.seen.set(id, member);
    for (const [k, v] of previous.received) if (!this.received.has(k)) this.received.set(k, v);
    for (const [k, v] of previous.opened) if (!this.opened.has(k)) this.opened.set(k, v);
    for (const [k, v] of previous.ownSent) if (!this.ownSent.has(k)) this.ownSent.set(k, v);
    for (const id of previous.ownIds) this.ownIds.add(id);
    this.notify();
  }

  /**
   * This device's current sender chain (its `id` is the chain id). Version 1 returned a
   * `SenderKey` here; `sealMessage` accepts either.
   */
  get currentKey(): OutboundChain | undefined {
    return this.outbound;
  }

  memberList(): Member[] {
    return [...this.members.values()];
  }

  member(id: string): Member | undefined {
    return this.seen.get(id);
  }

  /**
   * Chains this device holds from others, each at the index it has reached (base64 chain
   * key): what a leaver takes with it. `keyId` is the chain id.
   */
  heldKeys(): Array<{ from: string; fromId: string; keyId: string; raw: string; index: number }> {
    return [...this.received.values()].map((r) => {
      const s = r.chain.snapshot();
      return { from: r.from, fromId: r.fromId, keyId: s.id, raw: bytesToBase64(s.chainKey), index: s.index };
    });
  }

  /** Members whose verified key changed and was not accepted: sending waits for them. */
  get blockedBy(): Member[] {
    return this.memberList().filter((m) => m.held && m.previousFingerprint !== undefined && this.wasVerified(m));
  }

  /** True while {@link encrypt} refuses (a verified member's key changed). */
  get sendingBlocked(): boolean {
    return this.blockedBy.length > 0;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.notify();
  }

  /** A new `users` list for the room. Serialised: lists are handled in the order they came. */
  updateMembers(users: User[]): Promise<void> {
    return this.serial(() => this.applyMembers(users));
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyMembers(users: User[]): Promise<void> {
    if (this.closed || users.some((u) => u.room !== this.room)) return;
    const next = new Map<string, Member>();
    const added: Member[] = [];
    for (const u of users) {
      if (u.id === this.id) continue;
      const known = this.members.get(u.id);
      if (known) {
        next.set(u.id, known);
        continue;
      }
      const member = await this.admit(u);
      next.set(u.id, member);
      added.push(member);
    }
    const removed = [...this.members.keys()].filter((id) => !next.has(id));
    this.members = next;
    for (const id of removed) this.sharesSent.delete(id);
    this.onMembers?.(this.memberList());

    if (!this.outbound || removed.length > 0) {
      // Entering, or someone left: a fresh chain for those here now.
      if (this.outbound) this.rotations += 1;
      this.outbound = OutboundChain.create();
      this.sharesSent = new Map();
      await this.shareChain([...next.values()]);
    } else if (added.length > 0) {
      await this.shareChain(added);
    }
    this.notify();
  }

  private wasVerified(m: Member): boolean {
    const v = this.trust.getVerified?.(this.room, m.name);
    return v !== undefined && v === (m.previousFingerprint ?? m.fingerprint);
  }

  private async admit(u: User): Promise<Member> {
    const bundle = (await parseBundle(u.publicKey)) ?? undefined;
    const member: Member = { id: u.id, name: u.name, trust: 'no-key' };
    if (bundle) {
      member.bundle = bundle;
      member.fingerprint = bundle.fingerprint;
      if (!bundle.session) member.outdated = true;
      let remembered = this.trust.get(this.room, u.name);
      // A fingerprint remembered by an earlier version (64 bits over the bundle string).
      if (remembered !== undefined && remembered !== bundle.fingerprint && remembered.length === 19) {
        if (remembered === (await legacyFingerprint(u.publicKey!))) {
          const verified = this.trust.getVerified?.(this.room, u.name);
          if (verified === remembered) this.trust.setVerified?.(this.room, u.name, bundle.fingerprint);
          this.trust.set(this.room, u.name, bundle.fingerprint);
          remembered = bundle.fingerprint;
        }
      }
      if (remembered === undefined) {
        member.trust = 'new';
        member.firstSeen = true;
        this.trust.set(this.room, u.name, bundle.fingerprint);
      } else if (remembered === bundle.fingerprint) {
        member.trust = 'known';
        if (this.trust.getVerified?.(this.room, u.name) === bundle.fingerprint) member.verified = true;
      } else {
        member.trust = 'changed';
        member.previousFingerprint = remembered;
        if (this.keyChanges === 'hold' || this.wasVerified(member)) {
          // Not remembered and not shared with until the user accepts it.
          member.held = true;
        } else {
          this.trust.set(this.room, u.name, bundle.fingerprint);
        }
      }
    }
    this.seen.set(u.id, member);
    if (bundle) this.persist('member', u.id, { name: u.name, publicKey: u.publicKey });
    return member;
  }

  /**
   * Accepts a member's changed key: it is remembered (no longer verified: compare safety
   * numbers again) and gets the current chain at its current index. Resolves false when
   * there is nothing to accept.
   */
  accept(memberId: string): Promise<boolean> {
    let accepted = false;
    return this.serial(async () => {
      const m = this.members.get(memberId);
      if (!m?.held || !m.fingerprint) return;
      this.trust.set(this.room, m.name, m.fingerprint);
      if (this.wasVerified(m)) this.trust.setVerified?.(this.room, m.name, undefined);
      m.held = false;
      m.verified = false;
      accepted = true;
      this.onMembers?.(this.memberList());
      if (this.outbound) await this.shareChain([m]);
      this.notify();
    }).then(() => accepted);
  }

  /** Marks a member's current key as verified (the user compared safety numbers). */
  markVerified(memberId: string, verified = true): boolean {
    const m = this.seen.get(memberId);
    if (!m?.fingerprint || m.held) return false;
    this.trust.setVerified?.(this.room, m.name, verified ? m.fingerprint : undefined);
    m.verified = verified && this.trust.getVerified !== undefined;
    this.onMembers?.(this.memberList());
    return m.verified === verified;
  }

  /** The 60-digit safety number of this device and a member (both sides compute the same). */
  async safetyNumber(memberId: string): Promise<string | undefined> {
    const m = this.seen.get(memberId);
    if (!m?.bundle) return undefined;
    return safetyNumber(
      { name: this.name, publicKey: this.identity.bundle },
      { name: m.name, publicKey: m.bundle.bundle },
    );
  }

  /** The room code of the member list as this device sees it (itself included). */
  roomCode(): Promise<string> {
    return roomCode(this.room, [
      { name: this.name, publicKey: this.identity.bundle },
      ...this.memberList().map((m) => ({ name: m.name, publicKey: m.bundle?.bundle })),
    ]);
  }

  private async shareChain(to: Member[]): Promise<void> {
    const chain = this.outbound;
    if (!chain) return;
    const recipients = to.filter((m) => m.bundle?.session && !m.held);
    if (recipients.length === 0) return;
    const snapshot = await chain.snapshot();
    const me = { identity: this.identity, name: this.name };
    const items = await Promise.all(
      recipients.map(async (m) => {
        const payload = await createChainShare(snapshot, me, { name: m.name, bundle: m.bundle! }, this.room);
        this.sharesSent.set(m.id, { chain: chain.id, payload });
        return { to: m.id, payload };
      }),
    );
    snapshot.chainKey.fill(0);
    await this.send(items, 0);
  }

  /** Still worth sending: the recipient is a member and the share is of the current chain. */
  private current(item: { to: string; payload: unknown }): boolean {
    const sent = this.sharesSent.get(item.to);
    return !this.closed && this.members.has(item.to) && sent?.payload === item.payload;
  }

  /**
   * Sends shares; a refusal worth retrying (`RATE_LIMITED`, `UNAVAILABLE`, a timeout or a
   * lost connection) sends them again after the next delay, to those still members; a
   * `NOT_FOUND` (a recipient gone meanwhile) sends each again on its own.
   */
  private async send(items: Array<{ to: string; payload: unknown }>, attempt: number): Promise<void> {
    if (items.length === 0) return;
    try {
      await this.transport.direct(items);
    } catch (err) {
      const code = String((err as { code?: unknown })?.code ?? 'ERROR');
      const delay = this.retryDelays[attempt];
      const retry = RETRYABLE.has(code) || (code === 'NOT_FOUND' && items.length > 1);
      if (!retry || delay === undefined || this.closed) {
        for (const it of items) {
          if (this.current(it)) this.failedShares.push({ to: it.to, name: this.members.get(it.to)!.name, code });
        }
        return;
      }
      const again = () => {
        const left = items.filter((it) => this.current(it));
        if (code === 'NOT_FOUND') for (const it of left) void this.send([it], attempt + 1);
        else void this.send(left, attempt + 1);
      };
      if (code === 'NOT_FOUND') return again();
      const jittered = delay * (0.75 + Math.random() * 0.5);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        again();
      }, jittered);
      this.timers.add(timer);
    }
  }

  /** A `direct` event: a key share or a key request from a member. */
  async receiveDirect(msg: DirectMessage): Promise<boolean> {
    if (msg.room !== this.room) return false;
    if (isKeyRequest(msg.payload)) return this.answerRequest(msg.fromId, msg.payload);
    if (!isChainShare(msg.payload)) return false;
    const sender = await this.waitFor(() => this.seen.get(msg.fromId));
    if (!sender?.bundle) return false;
    const result = await openChainShare(
      msg.payload,
      { identity: this.identity, name: this.name, room: this.room },
      { name: sender.name, bundle: sender.bundle },
    );
    if (!result.ok) return false;
    await this.ready;
    // By the sender's device, not its socket: the same share replayed by another socket
    // presenting that device's bundle is the same chain.
    const key = KeysRoom.chainKey(sender.bundle.fingerprint, result.snapshot.id);
    // A chain already held is never reset (that would reopen indices): a duplicate or a replay.
    if (this.received.has(key)) return false;
    const received: Received = {
      from: sender.name,
      fromId: msg.fromId,
      chain: InboundChain.fromSnapshot(result.snapshot),
    };
    this.received.set(key, received);
    result.snapshot.chainKey.fill(0);
    await this.persistChain(key, received);
    this.notify();
    return true;
  }

  private async answerRequest(fromId: string, r: KeyRequest): Promise<boolean> {
    const m = this.members.get(fromId);
    const sent = this.sharesSent.get(fromId);
    if (!m || m.held || r.room !== this.room || r.to !== this.name || r.from !== m.name) return false;
    if (!sent || sent.chain !== r.chain || sent.payload.toSession !== m.bundle?.session?.id) return false;
    const now = Date.now();
    const k = `${fromId}/${r.chain}`;
    if (now - (this.lastResend.get(k) ?? -Infinity) < this.requestInterval) return false;
    this.lastResend.set(k, now);
    await this.send([{ to: fromId, payload: sent.payload }], 0);
    return true;
  }

  private requestKey(fromId: string, chain: string): void {
    const m = this.members.get(fromId);
    if (!m || this.closed) return;
    const k = `${fromId}/${chain}`;
    const now = Date.now();
    if (now - (this.lastRequest.get(k) ?? -Infinity) < this.requestInterval) return;
    this.lastRequest.set(k, now);
    const payload: KeyRequest = { v: 'kr1', room: this.room, from: this.name, to: m.name, chain };
    this.transport.direct([{ to: fromId, payload }]).catch(() => undefined);
  }

  /**
   * Encrypts `text` under the next index of this device's chain (an `s2` envelope). Throws
   * {@link KeyChangeBlockedError} while a verified member's key change waits for acceptance.
   */
  async encrypt(text: string): Promise<string> {
    await this.queue;
    const chain = this.outbound;
    if (!chain) throw new Error('No sender key yet');
    const blocked = this.blockedBy;
    if (blocked.length > 0) throw new KeyChangeBlockedError(blocked.map((m) => m.name));
    const { envelope, index } = await sealChainMessage(
      chain,
      this.identity.ecdsa.privateKey,
      { room: this.room, sender: this.name },
      text,
    );
    this.ownSent.set(`${chain.id}/${index}`, { envelope, text });
    this.persist('sent', `${chain.id}/${index}`, { envelope, text });
    return envelope;
  }

  /**
   * The sender identity of a socket of this room for edits (client/chat-envelope.ts): the
   * fingerprint of its device (this device's own for its sockets), undefined when unknown.
   */
  senderIdentity(fromId: string): string | undefined {
    if (this.ownIds.has(fromId)) return this.identity.fingerprint;
    return this.seen.get(fromId)?.fingerprint;
  }

  /** Verifies and decrypts a room message, waiting briefly for a sender chain still on its way. */
  async open(m: RoomMessage): Promise<MessageState> {
    await this.ready;
    const parsed = parseEnvelope(m.message);
    if ('error' in parsed) return { ok: false, reason: parsed.error };
    const ctx = { room: m.room, sender: m.from };
    if (m.room !== this.room) return { ok: false, reason: 'undecryptable' };
    const mine = this.ownIds.has(m.fromId);
    if (mine && m.from !== this.name) return { ok: false, reason: 'unverified' };
    const verifyKey = mine
      ? this.identity.ecdsa.publicKey
      : (await this.waitFor(() => this.seen.get(m.fromId)?.bundle))?.ecdsa;
    if (!verifyKey) return { ok: false, reason: m.at < this.joinedAt ? 'before-join' : 'unknown-sender' };
    if (!mine && this.seen.get(m.fromId)?.name !== m.from) return { ok: false, reason: 'unverified' };
    if (!(await verifyEnvelope(parsed, ctx, verifyKey))) return { ok: false, reason: 'unverified' };
    // Version 1 envelopes carry no index: nothing tells a replay from a new message.
    if (parsed.version !== 's2' || parsed.index === undefined) return { ok: false, reason: 'unsupported-version' };
    const index = parsed.index;

    if (mine) {
      const sent = this.ownSent.get(`${parsed.keyId}/${index}`);
      if (sent) return sent.envelope === m.message ? { ok: true, text: sent.text } : { ok: false, reason: 'replay' };
      return { ok: false, reason: m.at < this.joinedAt ? 'before-join' : 'no-key' };
    }

    // Keyed by the sender's device (its fingerprint), not its socket: another socket
    // presenting the same bundle and relaying a recorded message is a replay too.
    const fp = this.seen.get(m.fromId)!.fingerprint!;
    const chainKey = KeysRoom.chainKey(fp, parsed.keyId);
    const openedKey = `${chainKey}/${index}`;
    const before = this.opened.get(openedKey);
    if (before) return before.messageId === m.id ? { ok: true, text: before.text } : { ok: false, reason: 'replay' };

    const find = () => this.received.get(chainKey)?.chain;
    let chain = find();
    if (!chain && m.at >= this.joinedAt) {
      this.requestKey(m.fromId, parsed.keyId);
      chain = await this.waitFor(find);
    }
    if (!chain) return { ok: false, reason: m.at < this.joinedAt ? 'before-join' : 'no-key' };
    const r = await chain.open(index, async (keys) => {
      const result = await decryptChainEnvelope(parsed, ctx, keys);
      return result.ok ? result.text : null;
    });
    if (r.ok) {
      this.opened.set(openedKey, { messageId: m.id, text: r.value });
      while (this.opened.size > OPENED_CACHE) this.opened.delete(this.opened.keys().next().value!);
      if (this.store) {
        this.persist('opened', openedKey, { messageId: m.id, text: r.value });
        const held = this.received.get(chainKey);
        if (held) await this.persistChain(chainKey, held);
      }
      return { ok: true, text: r.value, ...(r.gap > 0 && { gap: r.gap }), ...(r.late && { late: true }) };
    }
    switch (r.reason) {
      case 'before-start':
        return { ok: false, reason: 'before-join' };
      case 'replay':
        // Opened before, but no longer in the cache: a re-render of an old message or a replay.
        return { ok: false, reason: 'replay' };
      case 'expired':
        return { ok: false, reason: 'no-key' };
      default:
        return { ok: false, reason: 'undecryptable' };
    }
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** `check()` now, or when state changes within holdMs; undefined after that. */
  private waitFor<T>(check: () => T | undefined): Promise<T | undefined> {
    const now = check();
    if (now !== undefined || this.closed) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (v: T | undefined) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(v);
      };
      const listener = () => {
        const v = check();
        if (v !== undefined || this.closed) done(v);
      };
      const timer = setTimeout(() => done(undefined), this.holdMs);
      this.listeners.add(listener);
    });
  }
}
