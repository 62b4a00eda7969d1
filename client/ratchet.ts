/**
 * The per-sender hash ratchet of the "keys" room mode (docs/ENCRYPTION.md, "Sender chains"),
 * as in Signal's sender keys and Matrix's Megolm: a chain key that only moves forward.
 *
 *   MK_i     = HMAC-SHA-256(CK_i, 0x01)       message key of index i
 *   CK_i+1   = HMAC-SHA-256(CK_i, 0x02)       the next chain key; CK_i is then dropped
 *   aes_i    = HMAC-SHA-256(MK_i, "parley/s2/aes")      AES-256-GCM key of message i
 *   commit_i = HMAC-SHA-256(MK_i, "parley/s2/commit")   key commitment, signed with the message
 *
 * Whoever holds CK_k derives every message key from index k on, and none before: a member
 * given the chain at its current index reads from its join on. A receiver keeps the chain key
 * at its next expected index, the message keys of indices it skipped (bounded), and the set
 * of indices it has opened, so a repeated index is a replay and a skipped one a gap.
 * Used message keys are dropped (and their bytes zeroed, as far as JavaScript allows).
 */
import { base64ToBytes, bytesToBase64, bytesToHex } from './crypto.js';

export const CHAIN_KEY_BYTES = 32;
/** The furthest one message may move a receiving chain ahead (a larger jump is refused). */
export const MAX_SKIP = 2000;
/** Message keys of skipped indices kept per chain for late arrivals; the oldest go first. */
export const MAX_SKIPPED_KEYS = 2000;
const CHAIN_ID_RE = /^[0-9a-f]{16}$/;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('Web Crypto is unavailable (needs a secure context: https or localhost)');
  return s;
}

const utf8 = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const k = await subtle().importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await subtle().sign('HMAC', k, data as Uint8Array<ArrayBuffer>));
}

const MESSAGE_KEY_SEED = new Uint8Array([0x01]);
const CHAIN_KEY_SEED = new Uint8Array([0x02]);
const AES_LABEL = utf8('parley/s2/aes');
const COMMIT_LABEL = utf8('parley/s2/commit');
const CHAIN_COMMIT_LABEL = utf8('parley/ks2/commit');

/** One step: the message key of this index and the chain key of the next. */
export async function chainStep(
  chainKey: Uint8Array,
): Promise<{ messageKey: Uint8Array<ArrayBuffer>; next: Uint8Array<ArrayBuffer> }> {
  const [messageKey, next] = await Promise.all([hmac(chainKey, MESSAGE_KEY_SEED), hmac(chainKey, CHAIN_KEY_SEED)]);
  return { messageKey, next };
}

export interface MessageKeys {
  /** AES-256-GCM, not extractable. */
  aes: CryptoKey;
  /** 32 bytes committing to the message key; the sender signs it with the message. */
  commitment: Uint8Array<ArrayBuffer>;
}

/** The AES key and the key commitment of one message key (whose bytes are then zeroed). */
export async function messageKeys(messageKey: Uint8Array): Promise<MessageKeys> {
  const [aesRaw, commitment] = await Promise.all([hmac(messageKey, AES_LABEL), hmac(messageKey, COMMIT_LABEL)]);
  const aes = await subtle().importKey('raw', aesRaw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  aesRaw.fill(0);
  messageKey.fill(0);
  return { aes, commitment };
}

/** HMAC-SHA-256(CK, "parley/ks2/commit"): a key share signs this for the chain key it carries. */
export function chainCommitment(chainKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hmac(chainKey, CHAIN_COMMIT_LABEL);
}

/** Constant-time-ish comparison of two byte strings (lengths are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function isChainId(value: unknown): value is string {
  return typeof value === 'string' && CHAIN_ID_RE.test(value);
}

/** Runs `fn` after everything queued before it; errors do not block what follows. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A chain at one index, as a key share carries it (and as state is stored). */
export interface ChainSnapshot {
  /** 16 hex digits, random per chain. */
  id: string;
  index: number;
  chainKey: Uint8Array<ArrayBuffer>;
}

/** Serialisable state of an outbound chain (for a {@link RatchetStore}). */
export interface OutboundChainState {
  id: string;
  index: number;
  chainKey: string;
}

/** This device's sending chain. Every index is used once. */
export class OutboundChain {
  private readonly lock = new Lock();
  private constructor(
    readonly id: string,
    private chainKey: Uint8Array<ArrayBuffer>,
    private nextIndex: number,
  ) {}

  static create(): OutboundChain {
    const id = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(8)));
    const ck = globalThis.crypto.getRandomValues(new Uint8Array(new ArrayBuffer(CHAIN_KEY_BYTES)));
    return new OutboundChain(id, ck, 0);
  }

  /** Deterministic chains for test vectors. */
  static fromSnapshot(s: ChainSnapshot): OutboundChain {
    if (!isChainId(s.id) || !Number.isSafeInteger(s.index) || s.index < 0 || s.chainKey.length !== CHAIN_KEY_BYTES) {
      throw new TypeError('invalid chain snapshot');
    }
    return new OutboundChain(s.id, s.chainKey.slice(), s.index);
  }

  static fromState(s: OutboundChainState): OutboundChain | null {
    const ck = base64ToBytes(s?.chainKey);
    try {
      return ck ? OutboundChain.fromSnapshot({ id: s.id, index: s.index, chainKey: ck }) : null;
    } catch {
      return null;
    }
  }

  /** The index the next message will use. */
  get index(): number {
    return this.nextIndex;
  }

  /** The chain at its current index (what a newcomer gets), after any message in progress. */
  snapshot(): Promise<ChainSnapshot> {
    return this.lock.run(async () => ({ id: this.id, index: this.nextIndex, chainKey: this.chainKey.slice() }));
  }

  state(): Promise<OutboundChainState> {
    return this.lock.run(async () => ({ id: this.id, index: this.nextIndex, chainKey: bytesToBase64(this.chainKey) }));
  }

  /** The keys of the next index; the chain moves past it first, so it is never used twice. */
  next(): Promise<{ index: number; keys: MessageKeys }> {
    return this.lock.run(async () => {
      const index = this.nextIndex;
      const { messageKey, next } = await chainStep(this.chainKey);
      this.chainKey.fill(0);
      this.chainKey = next;
      this.nextIndex = index + 1;
      return { index, keys: await messageKeys(messageKey) };
    });
  }
}

export type RatchetFailure =
  /** Before the index this device was given the chain at: it never had that key. */
  | 'before-start'
  /** An index already opened: the same message again, or a replay. */
  | 'replay'
  /** Further ahead than {@link MAX_SKIP}. */
  | 'too-far'
  /** A skipped index whose kept key was dropped (more than {@link MAX_SKIPPED_KEYS} behind). */
  | 'expired'
  /** The keys did not open it (the caller's check failed); the chain did not move. */
  | 'rejected';

export type RatchetResult<T> =
  | {
      ok: true;
      value: T;
      /** Indices skipped over by this message (not received yet): a gap, when > 0. */
      gap: number;
      /** An index that had been skipped, arriving late. */
      late: boolean;
    }
  | { ok: false; reason: RatchetFailure };

export interface InboundChainState {
  id: string;
  firstIndex: number;
  nextIndex: number;
  chainKey: string;
  skipped: Array<[number, string]>;
  opened: number[];
}

/** A chain another member shared with this device, from the index it was shared at. */
export class InboundChain {
  private readonly lock = new Lock();
  private readonly skipped = new Map<number, Uint8Array<ArrayBuffer>>();
  private readonly opened = new Set<number>();

  private constructor(
    readonly id: string,
    /** The index the chain was shared at: nothing before it can be opened. */
    readonly firstIndex: number,
    private chainKey: Uint8Array<ArrayBuffer>,
    private nextIndex: number,
  ) {}

  static fromSnapshot(s: ChainSnapshot): InboundChain {
    if (!isChainId(s.id) || !Number.isSafeInteger(s.index) || s.index < 0 || s.chainKey.length !== CHAIN_KEY_BYTES) {
      throw new TypeError('invalid chain snapshot');
    }
    return new InboundChain(s.id, s.index, s.chainKey.slice(), s.index);
  }

  static fromState(s: InboundChainState): InboundChain | null {
    const ck = base64ToBytes(s?.chainKey);
    if (!ck || !isChainId(s.id) || ck.length !== CHAIN_KEY_BYTES) return null;
    if (![s.firstIndex, s.nextIndex].every((n) => Number.isSafeInteger(n) && n >= 0) || s.nextIndex < s.firstIndex)
      return null;
    const chain = new InboundChain(s.id, s.firstIndex, ck, s.nextIndex);
    for (const [i, mk] of s.skipped ?? []) {
      const raw = base64ToBytes(mk);
      if (raw && Number.isSafeInteger(i)) chain.skipped.set(i, raw);
    }
    for (const i of s.opened ?? []) if (Number.isSafeInteger(i)) chain.opened.add(i);
    return chain;
  }

  /** The next index this device expects (everything below it was opened, skipped or lost). */
  get index(): number {
    return this.nextIndex;
  }

  /** The current chain key (what a device that stopped being a member takes with it). */
  snapshot(): ChainSnapshot {
    return { id: this.id, index: this.nextIndex, chainKey: this.chainKey.slice() };
  }

  state(): Promise<InboundChainState> {
    return this.lock.run(async () => ({
      id: this.id,
      firstIndex: this.firstIndex,
      nextIndex: this.nextIndex,
      chainKey: bytesToBase64(this.chainKey),
      skipped: [...this.skipped].map(([i, mk]) => [i, bytesToBase64(mk)] as [number, string]),
      opened: [...this.opened],
    }));
  }

  /**
   * Derives the keys of `index` and hands them to `use`; only when `use` returns a value
   * (the message authenticated and decrypted) does the chain move: the index is marked
   * opened, its key dropped, and the keys of any indices skipped over are kept for late
   * arrivals. A failure of `use` (null) leaves the chain as it was.
   */
  open<T>(index: number, use: (keys: MessageKeys) => Promise<T | null>): Promise<RatchetResult<T>> {
    return this.lock.run(async (): Promise<RatchetResult<T>> => {
      if (!Number.isSafeInteger(index) || index < 0) return { ok: false, reason: 'rejected' };
      if (index < this.firstIndex) return { ok: false, reason: 'before-start' };
      if (this.opened.has(index)) return { ok: false, reason: 'replay' };
      if (index < this.nextIndex) {
        const mk = this.skipped.get(index);
        if (!mk) return { ok: false, reason: 'expired' };
        const value = await use(await messageKeys(mk.slice()));
        if (value === null) return { ok: false, reason: 'rejected' };
        this.skipped.get(index)?.fill(0);
        this.skipped.delete(index);
        this.opened.add(index);
        return { ok: true, value, gap: 0, late: true };
      }
      if (index - this.nextIndex > MAX_SKIP) return { ok: false, reason: 'too-far' };
      let ck = this.chainKey;
      const passed: Array<[number, Uint8Array<ArrayBuffer>]> = [];
      for (let i = this.nextIndex; i < index; i++) {
        const step = await chainStep(ck);
        passed.push([i, step.messageKey]);
        ck = step.next;
      }
      const { messageKey, next } = await chainStep(ck);
      const value = await use(await messageKeys(messageKey));
      if (value === null) return { ok: false, reason: 'rejected' };
      const gap = index - this.nextIndex;
      for (const [i, mk] of passed) this.skipped.set(i, mk);
      while (this.skipped.size > MAX_SKIPPED_KEYS) {
        const oldest = Math.min(...this.skipped.keys());
        this.skipped.get(oldest)!.fill(0);
        this.skipped.delete(oldest);
      }
      this.chainKey.fill(0);
      this.chainKey = next;
      this.nextIndex = index + 1;
      this.opened.add(index);
      return { ok: true, value, gap, late: false };
    });
  }
}

/**
 * Where a device keeps its ratchet state between page loads (IndexedDB in the browser,
 * wrapped under a non-extractable device key; memory in tests). Keys are opaque strings
 * chosen by the caller (e.g. room, sender and chain id).
 */
export interface RatchetStore {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  /** Every record under a prefix at once (optional: else `keys` and `get` each). */
  entries?(prefix: string): Promise<Array<[string, unknown]>>;
}

export function memoryRatchetStore(): RatchetStore & { size(): number } {
  const map = new Map<string, string>();
  return {
    // JSON round trip: what is stored is data, never a live object.
    get: async (k) => (map.has(k) ? JSON.parse(map.get(k)!) : undefined),
    put: async (k, v) => void map.set(k, JSON.stringify(v)),
    delete: async (k) => void map.delete(k),
    keys: async (prefix) => [...map.keys()].filter((k) => k.startsWith(prefix)),
    entries: async (prefix) =>
      [...map].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k, JSON.parse(v)] as [string, unknown]),
    size: () => map.size,
  };
}
