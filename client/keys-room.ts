/**
 * One device's state in a "keys" room: the members' published bundles (trust on first use
 * per room and name), this device's sender keys, the keys the others shared, and the
 * rotation rules:
 *  - on entering, make a sender key and share it with every member who published a bundle;
 *  - when anyone leaves, make a new key and share it with those who remain, so a leaver
 *    cannot read what follows;
 *  - when someone joins, share the current key with the newcomer only, so it cannot read
 *    what came before.
 * Transport-agnostic: feed it `users`, `direct` and `roomMessage` events; it sends shares
 * through the given transport.
 */
import type { DirectMessage, RoomMessage, User } from '../src/common/events.js';
import { bytesToBase64 } from './crypto.js';
import { parseBundle, type DeviceIdentity, type PublicBundle } from './identity-bundle.js';
import {
  createKeyShare,
  decryptEnvelope,
  generateSenderKey,
  isKeyShare,
  openKeyShare,
  parseEnvelope,
  sealMessage,
  verifyEnvelope,
  type OpenFailure,
  type SenderKey,
} from './sender-keys.js';

export interface KeysTransport {
  direct(items: Array<{ to: string; payload: unknown }>): Promise<unknown>;
}

/** Fingerprints seen per room and name (trust on first use). */
export interface TrustStore {
  get(room: string, name: string): string | undefined;
  set(room: string, name: string, fingerprint: string): void;
}

export function memoryTrustStore(): TrustStore {
  const map = new Map<string, string>();
  const k = (room: string, name: string) => JSON.stringify([room, name.toLocaleLowerCase('en-US')]);
  return { get: (r, n) => map.get(k(r, n)), set: (r, n, f) => void map.set(k(r, n), f) };
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
}

export type MessageState =
  | { ok: true; text: string }
  | {
      ok: false;
      reason:
        | OpenFailure
        /** No sender key for it arrived in time. */
        | 'no-key'
        /** Sent before this device joined: it was never given that key. */
        | 'before-join'
        /** The sender published no valid bundle, so the message cannot be verified. */
        | 'unknown-sender';
    };

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
  /** Current members by socket id (without this device). */
  private members = new Map<string, Member>();
  /** Everyone ever seen in this session, so messages still in flight from a leaver verify. */
  private readonly seen = new Map<string, Member>();
  private current?: SenderKey;
  private readonly own = new Map<string, SenderKey>();
  /** Keys others shared with this device, by `${socketId}/${keyId}`. */
  private readonly received = new Map<string, { from: string; fromId: string; key: SenderKey }>();
  private readonly listeners = new Set<() => void>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** How many rotations this device made (for the page and tests). */
  rotations = 0;

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
  }

  /**
   * Carries over what this device held in the room under its previous socket (a rejoin
   * after a dropped connection), so the messages it could read then stay readable, its own
   * included. The new socket still gets fresh keys: the others rotate when the old one goes.
   */
  adopt(previous: KeysRoom): void {
    if (previous === this || previous.room !== this.room || previous.identity !== this.identity) return;
    for (const [id, member] of previous.seen) if (!this.seen.has(id)) this.seen.set(id, member);
    for (const [k, v] of previous.received) if (!this.received.has(k)) this.received.set(k, v);
    const self: PublicBundle = {
      bundle: this.identity.bundle,
      ecdh: this.identity.ecdh.publicKey,
      ecdsa: this.identity.ecdsa.publicKey,
      fingerprint: this.identity.fingerprint,
    };
    this.seen.set(previous.id, {
      id: previous.id,
      name: previous.name,
      bundle: self,
      fingerprint: self.fingerprint,
      trust: 'known',
    });
    for (const key of previous.own.values()) {
      this.received.set(`${previous.id}/${key.id}`, { from: previous.name, fromId: previous.id, key });
    }
    this.notify();
  }

  get currentKey(): SenderKey | undefined {
    return this.current;
  }

  memberList(): Member[] {
    return [...this.members.values()];
  }

  member(id: string): Member | undefined {
    return this.seen.get(id);
  }

  /** Keys this device holds from others (raw, base64): what a leaver would take with it. */
  heldKeys(): Array<{ from: string; fromId: string; keyId: string; raw: string }> {
    return [...this.received.values()].map((r) => ({
      from: r.from,
      fromId: r.fromId,
      keyId: r.key.id,
      raw: bytesToBase64(r.key.raw),
    }));
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  /** A new `users` list for the room. Serialised: lists are handled in the order they came. */
  updateMembers(users: User[]): Promise<void> {
    const run = this.queue.then(() => this.applyMembers(users));
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
    this.onMembers?.(this.memberList());

    if (!this.current || removed.length > 0) {
      // Entering, or someone left: a fresh key for those here now.
      if (this.current) this.rotations += 1;
      this.current = await generateSenderKey();
      this.own.set(this.current.id, this.current);
      await this.share(this.current, [...next.values()]);
    } else if (added.length > 0) {
      await this.share(this.current, added);
    }
    this.notify();
  }

  private async admit(u: User): Promise<Member> {
    const bundle = (await parseBundle(u.publicKey)) ?? undefined;
    let trust: TrustState = 'no-key';
    if (bundle) {
      const remembered = this.trust.get(this.room, u.name);
      trust = remembered === undefined ? 'new' : remembered === bundle.fingerprint ? 'known' : 'changed';
      this.trust.set(this.room, u.name, bundle.fingerprint);
    }
    const member: Member = {
      id: u.id,
      name: u.name,
      trust,
      ...(bundle && { bundle, fingerprint: bundle.fingerprint }),
    };
    this.seen.set(u.id, member);
    return member;
  }

  private async share(key: SenderKey, to: Member[]): Promise<void> {
    const recipients = to.filter((m) => m.bundle);
    if (recipients.length === 0) return;
    const me = { identity: this.identity, name: this.name };
    const items = await Promise.all(
      recipients.map(async (m) => ({
        to: m.id,
        payload: await createKeyShare(key, me, { name: m.name, bundle: m.bundle! }, this.room),
      })),
    );
    // A member gone meanwhile makes the request fail (NOT_FOUND): the `users` list that
    // follows its departure rotates and shares again.
    await this.transport.direct(items).catch(() => undefined);
  }

  /** A `direct` event: a key share from a member. */
  async receiveDirect(msg: DirectMessage): Promise<boolean> {
    if (msg.room !== this.room || !isKeyShare(msg.payload)) return false;
    const sender = await this.waitFor(() => this.seen.get(msg.fromId));
    if (!sender?.bundle) return false;
    const result = await openKeyShare(
      msg.payload,
      { identity: this.identity, name: this.name, room: this.room },
      { name: sender.name, bundle: sender.bundle },
    );
    if (!result.ok) return false;
    this.received.set(`${msg.fromId}/${result.key.id}`, { from: sender.name, fromId: msg.fromId, key: result.key });
    this.notify();
    return true;
  }

  async encrypt(text: string): Promise<string> {
    await this.queue;
    const key = this.current;
    if (!key) throw new Error('No sender key yet');
    return sealMessage(key, this.identity.ecdsa.privateKey, { room: this.room, sender: this.name }, text);
  }

  /** Verifies and decrypts a room message, waiting briefly for a sender key still on its way. */
  async open(m: RoomMessage): Promise<MessageState> {
    const parsed = parseEnvelope(m.message);
    if ('error' in parsed) return { ok: false, reason: parsed.error };
    const ctx = { room: m.room, sender: m.from };
    if (m.room !== this.room) return { ok: false, reason: 'undecryptable' };
    const mine = m.fromId === this.id;
    const verifyKey = mine
      ? this.identity.ecdsa.publicKey
      : (await this.waitFor(() => this.seen.get(m.fromId)?.bundle))?.ecdsa;
    if (!verifyKey) return { ok: false, reason: m.at < this.joinedAt ? 'before-join' : 'unknown-sender' };
    if (!mine && this.seen.get(m.fromId)?.name !== m.from) return { ok: false, reason: 'unverified' };
    if (!(await verifyEnvelope(parsed, ctx, verifyKey))) return { ok: false, reason: 'unverified' };
    const find = () => (mine ? this.own.get(parsed.keyId) : this.received.get(`${m.fromId}/${parsed.keyId}`)?.key);
    // History from before this device joined can never get a key: say so at once.
    const key = find() ?? (m.at < this.joinedAt ? undefined : await this.waitFor(find));
    if (!key) return { ok: false, reason: m.at < this.joinedAt ? 'before-join' : 'no-key' };
    return decryptEnvelope(parsed, ctx, key);
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
