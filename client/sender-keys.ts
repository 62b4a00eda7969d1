/**
 * Sender keys for the "keys" room mode (docs/ENCRYPTION.md has the formats in full).
 *
 * Current formats (version 2):
 * - A sender chain (client/ratchet.ts) gives every message its own key; a `ks2` key share
 *   carries the chain at its current index, sealed with HPKE (RFC 9180) to the recipient's
 *   login session key (a fresh ephemeral each share), signed by the sender over the room,
 *   both names, the recipient's session id, the chain id and index, and a commitment to the
 *   chain key.
 * - A room message is `s2.<chain>.<index>.<iv>.<ciphertext>.<commitment>.<signature>`, the
 *   signature covering the room, sender name and everything before it, the commitment
 *   binding the one message key that opens it (AES-GCM alone does not commit to its key).
 *
 * Version 1 (kept for compatibility; a `KeysRoom` no longer sends it):
 * - A sender key is a random AES-256-GCM key with a random 64-bit id (16 hex digits).
 * - A key share (a `direct` payload) carries one sender key to one member: the raw key is
 *   AES-GCM-encrypted under a key derived with HKDF-SHA-256 from the ECDH secret of the two
 *   devices, and the share is signed with the sender's ECDSA key.
 * - A room message envelope is `s1.<keyId>.<iv>.<ciphertext>.<signature>`: encrypted under
 *   the sender's current key with the room, sender name and key id as additional data,
 *   then signed (ECDSA P-256, SHA-256) over the same context plus IV and ciphertext.
 * Nothing here throws on bad input from the network: failures come back as results.
 */
import { base64ToBytes, bytesToBase64 } from './crypto.js';
import { hpkeOpen, hpkeSeal } from './hpke.js';
import { SIGN_PARAMS, type DeviceIdentity, type PublicBundle } from './identity-bundle.js';
import {
  chainCommitment,
  equalBytes,
  isChainId,
  OutboundChain,
  type ChainSnapshot,
  type MessageKeys,
} from './ratchet.js';

export const SHARE_VERSION = 'ks1';
export const MESSAGE_VERSION = 's1';
export const CHAIN_SHARE_VERSION = 'ks2';
export const CHAIN_MESSAGE_VERSION = 's2';
const INDEX_RE = /^(?:0|[1-9][0-9]{0,14})$/;
const IV_BYTES = 12;
const KEY_BYTES = 32;
const KEY_ID_RE = /^[0-9a-f]{16}$/;
const HKDF_SALT = 'parley/ks1';

export interface SenderKey {
  id: string;
  key: CryptoKey;
  /** The raw key bytes, kept to share the key with members who join later. */
  raw: Uint8Array<ArrayBuffer>;
}

/** A sender key as it travels in a `direct` item's payload. */
export interface KeyShare {
  v: typeof SHARE_VERSION;
  room: string;
  /** The sender's name and the recipient's name (login names, as the server shows them). */
  from: string;
  to: string;
  keyId: string;
  /** base64 of the 12-byte IV and of the wrapped key (32 bytes + 16-byte tag). */
  iv: string;
  wrapped: string;
  /** base64 of the ECDSA P-256 signature (r‖s, 64 bytes). */
  sig: string;
}

export interface MessageContext {
  room: string;
  /** The sender's login name (the server-stamped `from`). */
  sender: string;
}

export type OpenFailure =
  /** Not an envelope of any known form. */
  | 'malformed'
  /** A Parley envelope of another mode or version (e.g. a passphrase-mode `p1`). */
  | 'unsupported-version'
  /** The signature does not verify against the sender's published bundle. */
  | 'unverified'
  /** Signed correctly, but the key does not open it. */
  | 'undecryptable';

export type OpenResult = { ok: true; text: string } | { ok: false; reason: OpenFailure };

export interface ParsedEnvelope {
  /** `s1` (one key per sender key) or `s2` (a sender chain: one key per index). */
  version?: 's1' | 's2';
  /** For `s1` the sender key id; for `s2` the chain id. */
  keyId: string;
  /** `s2`: the message's index in its chain. */
  index?: number;
  /** `s2`: the signed commitment to the message key (32 bytes). */
  commitment?: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
  /** The signed part: everything before the last dot. */
  signed: string;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('Web Crypto is unavailable (needs a secure context: https or localhost)');
  return s;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const utf8 = (s: string) => encoder.encode(s) as Uint8Array<ArrayBuffer>;
const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(new ArrayBuffer(n)));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export async function importSenderKey(id: string, raw: Uint8Array<ArrayBuffer>): Promise<SenderKey> {
  const key = await subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  return { id, key, raw };
}

export function generateSenderKey(): Promise<SenderKey> {
  return importSenderKey(hex(random(8)), random(KEY_BYTES));
}

// ---------- key shares ----------

/** The bytes the share signature covers. */
function shareSigned(s: Omit<KeyShare, 'sig'>): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify([s.v, s.room, s.from, s.to, s.keyId, s.iv, s.wrapped]));
}

function shareAad(room: string, from: string, to: string, keyId: string): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify([SHARE_VERSION, room, from, to, keyId]));
}

/**
 * The key that wraps shares from `from` to `to` in `room`: HKDF-SHA-256 over the 32-byte
 * ECDH secret, salt `parley/ks1`, info the JSON `["ks1", room, from, to]`. Each direction
 * has its own key.
 */
export async function deriveWrappingKey(
  ownEcdhPrivate: CryptoKey,
  peerEcdhPublic: CryptoKey,
  info: { room: string; from: string; to: string },
): Promise<CryptoKey> {
  const secret = await subtle().deriveBits({ name: 'ECDH', public: peerEcdhPublic }, ownEcdhPrivate, 256);
  const ikm = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: utf8(HKDF_SALT),
      info: utf8(JSON.stringify([SHARE_VERSION, info.room, info.from, info.to])),
    },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export async function createKeyShare(
  key: SenderKey,
  sender: { identity: DeviceIdentity; name: string },
  recipient: { name: string; bundle: PublicBundle },
  room: string,
): Promise<KeyShare> {
  const from = sender.name;
  const to = recipient.name;
  const wrapKey = await deriveWrappingKey(sender.identity.ecdh.privateKey, recipient.bundle.ecdh, { room, from, to });
  const iv = random(IV_BYTES);
  const wrapped = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: shareAad(room, from, to, key.id) },
    wrapKey,
    key.raw,
  );
  const unsigned = {
    v: SHARE_VERSION,
    room,
    from,
    to,
    keyId: key.id,
    iv: bytesToBase64(iv),
    wrapped: bytesToBase64(new Uint8Array(wrapped)),
  } as const;
  const sig = await subtle().sign(SIGN_PARAMS, sender.identity.ecdsa.privateKey, shareSigned(unsigned));
  return { ...unsigned, sig: bytesToBase64(new Uint8Array(sig)) };
}

export function isKeyShare(value: unknown): value is KeyShare {
  if (value === null || typeof value !== 'object') return false;
  const s = value as Record<string, unknown>;
  return (
    s.v === SHARE_VERSION &&
    ['room', 'from', 'to', 'keyId', 'iv', 'wrapped', 'sig'].every((k) => typeof s[k] === 'string') &&
    KEY_ID_RE.test(s.keyId as string)
  );
}

export type ShareResult =
  { ok: true; key: SenderKey } | { ok: false; reason: 'malformed' | 'misaddressed' | 'unverified' | 'undecryptable' };

/**
 * Opens a share addressed to `me` from `sender` (whose bundle the server published): the
 * share must name this room, this recipient and that sender, verify against the sender's
 * ECDSA key, and unwrap under the pair's ECDH-derived key.
 */
export async function openKeyShare(
  payload: unknown,
  me: { identity: DeviceIdentity; name: string; room: string },
  sender: { name: string; bundle: PublicBundle },
): Promise<ShareResult> {
  if (!isKeyShare(payload)) return { ok: false, reason: 'malformed' };
  const s = payload;
  if (s.room !== me.room || s.to !== me.name || s.from !== sender.name) return { ok: false, reason: 'misaddressed' };
  const iv = base64ToBytes(s.iv);
  const wrapped = base64ToBytes(s.wrapped);
  const sig = base64ToBytes(s.sig);
  if (!iv || iv.length !== IV_BYTES || !wrapped || !sig) return { ok: false, reason: 'malformed' };
  const { sig: _sig, ...unsigned } = s;
  let valid = false;
  try {
    valid = await subtle().verify(SIGN_PARAMS, sender.bundle.ecdsa, sig, shareSigned(unsigned));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'unverified' };
  try {
    const unwrapKey = await deriveWrappingKey(me.identity.ecdh.privateKey, sender.bundle.ecdh, {
      room: s.room,
      from: s.from,
      to: s.to,
    });
    const raw = new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv, additionalData: shareAad(s.room, s.from, s.to, s.keyId) },
        unwrapKey,
        wrapped,
      ),
    );
    if (raw.length !== KEY_BYTES) return { ok: false, reason: 'malformed' };
    return { ok: true, key: await importSenderKey(s.keyId, raw) };
  } catch {
    return { ok: false, reason: 'undecryptable' };
  }
}

// ---------- room messages ----------

function messageAad(ctx: MessageContext, keyId: string): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify([MESSAGE_VERSION, ctx.room, ctx.sender, keyId]));
}

/** What the message signature covers: the context and the envelope's first four parts. */
function messageSigned(ctx: MessageContext, signed: string): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify([MESSAGE_VERSION, ctx.room, ctx.sender, signed]));
}

/**
 * Encrypts and signs `text`: into an `s2` envelope under the next index of a sender chain
 * (the chain moves on), or into a version-1 `s1` envelope under a sender key.
 */
export async function sealMessage(
  key: SenderKey | OutboundChain,
  signingKey: CryptoKey,
  ctx: MessageContext,
  text: string,
): Promise<string> {
  if (key instanceof OutboundChain) return (await sealChainMessage(key, signingKey, ctx, text)).envelope;
  const iv = random(IV_BYTES);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: messageAad(ctx, key.id) },
    key.key,
    utf8(text),
  );
  const signed = `${MESSAGE_VERSION}.${key.id}.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ct))}`;
  const sig = await subtle().sign(SIGN_PARAMS, signingKey, messageSigned(ctx, signed));
  return `${signed}.${bytesToBase64(new Uint8Array(sig))}`;
}

/** Splits an `s2` or `s1` envelope; a failure reason for anything else. */
export function parseEnvelope(envelope: unknown): ParsedEnvelope | { error: 'malformed' | 'unsupported-version' } {
  if (typeof envelope !== 'string') return { error: 'malformed' };
  const parts = envelope.split('.');
  if (parts[0] === CHAIN_MESSAGE_VERSION) return parseChainEnvelope(parts);
  if (parts[0] !== MESSAGE_VERSION)
    return { error: /^[a-z]+\d+$/.test(parts[0] ?? '') && parts.length > 1 ? 'unsupported-version' : 'malformed' };
  if (parts.length !== 5 || !KEY_ID_RE.test(parts[1]!)) return { error: 'malformed' };
  const iv = base64ToBytes(parts[2]!);
  const ciphertext = base64ToBytes(parts[3]!);
  const signature = base64ToBytes(parts[4]!);
  if (!iv || iv.length !== IV_BYTES || !ciphertext || ciphertext.length < 16 || !signature)
    return { error: 'malformed' };
  return { version: 's1', keyId: parts[1]!, iv, ciphertext, signature, signed: parts.slice(0, 4).join('.') };
}

function parseChainEnvelope(parts: string[]): ParsedEnvelope | { error: 'malformed' } {
  if (parts.length !== 7 || !isChainId(parts[1]) || !INDEX_RE.test(parts[2]!)) return { error: 'malformed' };
  const index = Number(parts[2]);
  const iv = base64ToBytes(parts[3]!);
  const ciphertext = base64ToBytes(parts[4]!);
  const commitment = base64ToBytes(parts[5]!);
  const signature = base64ToBytes(parts[6]!);
  if (!Number.isSafeInteger(index) || !iv || iv.length !== IV_BYTES || !ciphertext || ciphertext.length < 16)
    return { error: 'malformed' };
  if (!commitment || commitment.length !== 32 || !signature) return { error: 'malformed' };
  return {
    version: 's2',
    keyId: parts[1]!,
    index,
    iv,
    ciphertext,
    commitment,
    signature,
    signed: parts.slice(0, 6).join('.'),
  };
}

export async function verifyEnvelope(
  parsed: ParsedEnvelope,
  ctx: MessageContext,
  verifyKey: CryptoKey,
): Promise<boolean> {
  try {
    const signed = parsed.version === 's2' ? chainMessageSigned(ctx, parsed.signed) : messageSigned(ctx, parsed.signed);
    return await subtle().verify(SIGN_PARAMS, verifyKey, parsed.signature, signed);
  } catch {
    return false;
  }
}

export async function decryptEnvelope(
  parsed: ParsedEnvelope,
  ctx: MessageContext,
  key: SenderKey,
): Promise<OpenResult> {
  if (key.id !== parsed.keyId) return { ok: false, reason: 'undecryptable' };
  try {
    const aad =
      parsed.version === 's2' ? chainMessageAad(ctx, parsed.keyId, parsed.index ?? -1) : messageAad(ctx, parsed.keyId);
    const plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: parsed.iv, additionalData: aad },
      key.key,
      parsed.ciphertext,
    );
    return { ok: true, text: decoder.decode(plain) };
  } catch {
    return { ok: false, reason: 'undecryptable' };
  }
}

/** Verify, then decrypt: the whole check for an envelope whose key and sender are at hand. */
export async function openMessage(
  envelope: unknown,
  ctx: MessageContext,
  verifyKey: CryptoKey,
  key: SenderKey,
): Promise<OpenResult> {
  const parsed = parseEnvelope(envelope);
  if ('error' in parsed) return { ok: false, reason: parsed.error };
  if (!(await verifyEnvelope(parsed, ctx, verifyKey))) return { ok: false, reason: 'unverified' };
  return decryptEnvelope(parsed, ctx, key);
}

// ---------- version 2: chain shares (ks2) and chain messages (s2) ----------

/** A sender chain at one index, sealed to one member's login session. */
export interface ChainShare {
  v: typeof CHAIN_SHARE_VERSION;
  room: string;
  from: string;
  to: string;
  /** The recipient's login session id (from its `k2` bundle). */
  toSession: string;
  /** The chain id (16 hex) and the index the chain key is at. */
  chain: string;
  index: number;
  /** base64: HPKE `enc` (65 bytes), the sealed chain key (32 + 16), and its commitment (32). */
  enc: string;
  ct: string;
  commit: string;
  /** base64 ECDSA P-256 signature (r‖s) over all of the above. */
  sig: string;
}

const chainShareInfo = (s: Pick<ChainShare, 'room' | 'from' | 'to' | 'toSession'>) =>
  utf8(JSON.stringify([CHAIN_SHARE_VERSION, s.room, s.from, s.to, s.toSession]));
const chainShareAad = (s: Pick<ChainShare, 'chain' | 'index' | 'commit'>) =>
  utf8(JSON.stringify([CHAIN_SHARE_VERSION, s.chain, s.index, s.commit]));
const chainShareSigned = (s: Omit<ChainShare, 'sig'>) =>
  utf8(
    JSON.stringify([CHAIN_SHARE_VERSION, s.room, s.from, s.to, s.toSession, s.chain, s.index, s.enc, s.ct, s.commit]),
  );

/**
 * Seals the chain `snapshot` to `recipient`'s current login session: HPKE base mode with a
 * fresh ephemeral key, info = `["ks2", room, from, to, toSession]`, aad = `["ks2", chain,
 * index, commit]`; signed by the sender's device key. Throws when the recipient's bundle has
 * no session (an older client).
 */
export async function createChainShare(
  snapshot: ChainSnapshot,
  sender: { identity: DeviceIdentity; name: string },
  recipient: { name: string; bundle: PublicBundle },
  room: string,
): Promise<ChainShare> {
  const session = recipient.bundle.session;
  if (!session) throw new Error(`${recipient.name} published no login session`);
  const head = {
    v: CHAIN_SHARE_VERSION,
    room,
    from: sender.name,
    to: recipient.name,
    toSession: session.id,
    chain: snapshot.id,
    index: snapshot.index,
    commit: bytesToBase64(await chainCommitment(snapshot.chainKey)),
  } as const;
  const { enc, ct } = await hpkeSeal(session.publicRaw, chainShareInfo(head), chainShareAad(head), snapshot.chainKey);
  const unsigned = { ...head, enc: bytesToBase64(enc), ct: bytesToBase64(ct) };
  const sig = await subtle().sign(SIGN_PARAMS, sender.identity.ecdsa.privateKey, chainShareSigned(unsigned));
  return { ...unsigned, sig: bytesToBase64(new Uint8Array(sig)) };
}

export function isChainShare(value: unknown): value is ChainShare {
  if (value === null || typeof value !== 'object') return false;
  const s = value as Record<string, unknown>;
  return (
    s.v === CHAIN_SHARE_VERSION &&
    ['room', 'from', 'to', 'toSession', 'chain', 'enc', 'ct', 'commit', 'sig'].every((k) => typeof s[k] === 'string') &&
    isChainId(s.chain) &&
    isChainId(s.toSession) &&
    Number.isSafeInteger(s.index) &&
    (s.index as number) >= 0
  );
}

export type ChainShareResult =
  | { ok: true; snapshot: ChainSnapshot }
  | {
      ok: false;
      reason:
        | 'malformed'
        | 'misaddressed'
        /** Sealed to another (earlier) login session of this device: a replay, or too late. */
        | 'stale-session'
        | 'unverified'
        | 'undecryptable';
    };

/**
 * Opens a `ks2` share addressed to `me` (this room, this name, this login session) from
 * `sender`: the signature must verify against the sender's published ECDSA key, the HPKE
 * seal must open with this session's private key, and the chain key must match the signed
 * commitment.
 */
export async function openChainShare(
  payload: unknown,
  me: { identity: DeviceIdentity; name: string; room: string },
  sender: { name: string; bundle: PublicBundle },
): Promise<ChainShareResult> {
  if (!isChainShare(payload)) return { ok: false, reason: 'malformed' };
  const s = payload;
  if (s.room !== me.room || s.to !== me.name || s.from !== sender.name) return { ok: false, reason: 'misaddressed' };
  const session = me.identity.session;
  if (!session || s.toSession !== session.id) return { ok: false, reason: 'stale-session' };
  const enc = base64ToBytes(s.enc);
  const ct = base64ToBytes(s.ct);
  const commit = base64ToBytes(s.commit);
  const sig = base64ToBytes(s.sig);
  if (!enc || !ct || !commit || commit.length !== 32 || !sig) return { ok: false, reason: 'malformed' };
  const { sig: _sig, ...unsigned } = s;
  let valid = false;
  try {
    valid = await subtle().verify(SIGN_PARAMS, sender.bundle.ecdsa, sig, chainShareSigned(unsigned));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'unverified' };
  const chainKey = await hpkeOpen(
    enc,
    session.keyPair.privateKey,
    session.publicRaw,
    chainShareInfo(s),
    chainShareAad(s),
    ct,
  );
  if (!chainKey || chainKey.length !== 32 || !equalBytes(await chainCommitment(chainKey), commit))
    return { ok: false, reason: 'undecryptable' };
  return { ok: true, snapshot: { id: s.chain, index: s.index, chainKey } };
}

function chainMessageAad(ctx: MessageContext, chain: string, index: number): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify([CHAIN_MESSAGE_VERSION, ctx.room, ctx.sender, chain, index]));
}

function chainMessageSigned(ctx: MessageContext, signed: string): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify([CHAIN_MESSAGE_VERSION, ctx.room, ctx.sender, signed]));
}

/** Encrypts `text` under the chain's next index and signs it: an `s2` envelope. */
export async function sealChainMessage(
  chain: OutboundChain,
  signingKey: CryptoKey,
  ctx: MessageContext,
  text: string,
): Promise<{ envelope: string; index: number }> {
  const { index, keys } = await chain.next();
  const iv = random(IV_BYTES);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: chainMessageAad(ctx, chain.id, index) },
    keys.aes,
    utf8(text),
  );
  const signed = [
    CHAIN_MESSAGE_VERSION,
    chain.id,
    String(index),
    bytesToBase64(iv),
    bytesToBase64(new Uint8Array(ct)),
    bytesToBase64(keys.commitment),
  ].join('.');
  const sig = await subtle().sign(SIGN_PARAMS, signingKey, chainMessageSigned(ctx, signed));
  return { envelope: `${signed}.${bytesToBase64(new Uint8Array(sig))}`, index };
}

/**
 * Decrypts a parsed (and already verified) `s2` envelope with the keys of its index: the
 * signed commitment must be the one of these keys, then AES-GCM must open it.
 */
export async function decryptChainEnvelope(
  parsed: ParsedEnvelope,
  ctx: MessageContext,
  keys: MessageKeys,
): Promise<OpenResult> {
  if (parsed.version !== 's2' || parsed.index === undefined || !parsed.commitment)
    return { ok: false, reason: 'malformed' };
  if (!equalBytes(parsed.commitment, keys.commitment)) return { ok: false, reason: 'undecryptable' };
  try {
    const plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: parsed.iv, additionalData: chainMessageAad(ctx, parsed.keyId, parsed.index) },
      keys.aes,
      parsed.ciphertext,
    );
    return { ok: true, text: decoder.decode(plain) };
  } catch {
    return { ok: false, reason: 'undecryptable' };
  }
}
