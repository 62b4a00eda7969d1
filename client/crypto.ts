/**
 * End-to-end encryption for Parley rooms, with the Web Crypto API only (browser and
 * Node >= 20, where `globalThis.crypto.subtle` exists). No hand-rolled primitives.
 *
 * - Room key: PBKDF2-SHA-256 (600,000 iterations by default) over the room passphrase,
 *   salt `parley:v1:<room>`, giving a non-extractable AES-256-GCM key. The passphrase
 *   never leaves the client.
 * - Messages: a fresh random 96-bit IV per message; the envelope is the string
 *   `p1.<base64 IV>.<base64 ciphertext+tag>`. The additional authenticated data binds the
 *   envelope to its room and, when given, to the sender's name, so a server cannot move a
 *   message to another room or re-attribute it to another user without it failing to
 *   decrypt.
 * - Decryption never throws: it returns `{ ok: false, reason }` for anything that is not
 *   a valid envelope or does not authenticate under the key.
 * - Identity: an ECDH P-256 key pair whose public key (base64 SPKI, ~124 characters) is
 *   published as `publicKey` at login; its fingerprint (128 bits of SHA-256 over the decoded
 *   key bytes, hex in groups of four) is shown next to each user so people can compare
 *   them out of band.
 * - Base64 is strict and canonical: one encoding per byte string, so one key has one
 *   fingerprint.
 */

export const ENVELOPE_VERSION = 'p1';
export const PBKDF2_ITERATIONS = 600_000;
/** Lower bound accepted by {@link deriveRoomKey}; below that a passphrase is too cheap to guess. */
export const MIN_PBKDF2_ITERATIONS = 600_000;
const SALT_PREFIX = 'parley:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type UndecryptableReason =
  /** Not a `p1.<iv>.<ciphertext>` string. */
  | 'malformed'
  /** An envelope of a version this client does not know, or of the member-keys mode (`s1`). */
  | 'unsupported-version'
  /** Well-formed, but the key (wrong passphrase), room or sender does not match, or it was tampered with. */
  | 'undecryptable';

export type DecryptResult = { ok: true; text: string } | { ok: false; reason: UndecryptableReason };

/** What the envelope is bound to (authenticated, not encrypted). */
export interface EnvelopeContext {
  room: string;
  /** The sender's login name as the server stamps it (`from`). Omit to bind to the room only. */
  sender?: string;
}

export interface RoomKey {
  room: string;
  key: CryptoKey;
}

export interface Identity {
  keyPair: CryptoKeyPair;
  /** Base64 of the SPKI-encoded public key: what to send as `publicKey` at login. */
  publicKey: string;
  /** Short human-comparable fingerprint of {@link publicKey}. */
  fingerprint: string;
}

function subtle(): SubtleCrypto {
  const c = globalThis.crypto;
  if (!c?.subtle) {
    throw new Error('Web Crypto is unavailable (needs a secure context: https or localhost)');
  }
  return c.subtle;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict, canonical standard base64 (padded); returns `null` for anything else. Canonical:
 * the unused low bits of the last character must be zero (`AB==` is refused, `AA==` is the
 * one encoding of a zero byte), so a byte string has exactly one accepted encoding and a
 * re-encoded key cannot pass for a different one.
 */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (typeof text !== 'string' || !BASE64_RE.test(text)) return null;
  const binary = atob(text);
  const out = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (bytesToBase64(out) !== text) return null;
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Lowercase or uppercase hex, even length; `null` otherwise. */
export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (typeof hex !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) return null;
  const out = new Uint8Array(new ArrayBuffer(hex.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(parts.reduce((n, p) => n + p.length, 0)));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The identity-key bytes of a `k1`/`k2` device bundle (docs/ENCRYPTION.md): the decoded SPKI
 * of its ECDH and of its ECDSA key, each canonical base64. `null` when `publicKey` is not
 * such a bundle. The per-login session part of a `k2` bundle is not part of the identity.
 */
export function bundleIdentityKeys(
  publicKey: string,
): { ecdh: Uint8Array<ArrayBuffer>; ecdsa: Uint8Array<ArrayBuffer> } | null {
  if (typeof publicKey !== 'string') return null;
  const parts = publicKey.split('.');
  if (!((parts[0] === 'k1' && parts.length === 3) || (parts[0] === 'k2' && parts.length === 6))) return null;
  const ecdh = base64ToBytes(parts[1]!);
  const ecdsa = base64ToBytes(parts[2]!);
  return ecdh && ecdsa && ecdh.length > 0 && ecdsa.length > 0 ? { ecdh, ecdsa } : null;
}

/** The PBKDF2 salt for a room: `parley:v1:` + the room name, UTF-8. */
export function roomSalt(room: string): Uint8Array<ArrayBuffer> {
  return utf8(SALT_PREFIX + room);
}

/**
 * Derive a room's AES-256-GCM key from its passphrase. Slow on purpose (~0.2–1 s).
 * The key is not extractable.
 */
export async function deriveRoomKey(
  passphrase: string,
  room: string,
  iterations: number = PBKDF2_ITERATIONS,
): Promise<RoomKey> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new TypeError('passphrase must be a non-empty string');
  }
  if (!Number.isInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS) {
    throw new RangeError(`iterations must be an integer >= ${MIN_PBKDF2_ITERATIONS}`);
  }
  const s = subtle();
  const material = await s.importKey('raw', utf8(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  const key = await s.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: roomSalt(room), iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  return { room, key };
}

function additionalData(ctx: EnvelopeContext): Uint8Array<ArrayBuffer> {
  // JSON keeps the fields unambiguous whatever characters they hold.
  return utf8(JSON.stringify([ENVELOPE_VERSION, ctx.room, ctx.sender ?? null]));
}

/** Encrypt `text` into a `p1.<iv>.<ciphertext>` envelope. */
export async function encryptMessage(roomKey: RoomKey, text: string, sender?: string): Promise<string> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(new ArrayBuffer(IV_BYTES)));
  const ciphertext = await subtle().encrypt(
    {
      name: 'AES-GCM',
      iv,
      additionalData: additionalData({ room: roomKey.room, sender }),
      tagLength: TAG_BYTES * 8,
    },
    roomKey.key,
    utf8(text),
  );
  return `${ENVELOPE_VERSION}.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ciphertext))}`;
}

/** True when `value` looks like a Parley envelope of any version (`p<digits>.…`). */
export function isEnvelope(value: unknown): value is string {
  return typeof value === 'string' && /^p\d+\./.test(value);
}

/** Decrypt an envelope. Never throws; failures come back as `{ ok: false, reason }`. */
export async function decryptMessage(roomKey: RoomKey, envelope: unknown, sender?: string): Promise<DecryptResult> {
  if (typeof envelope !== 'string') return { ok: false, reason: 'malformed' };
  const parts = envelope.split('.');
  // A member-keys envelope (s1: sender-keys.ts; s2: the ratchet's, keys-room.ts): a Parley
  // message, of the other room mode.
  if ((parts[0] === 's1' && parts.length === 5) || (parts[0] === 's2' && parts.length === 7))
    return { ok: false, reason: 'unsupported-version' };
  if (!/^p\d+$/.test(parts[0] ?? '')) return { ok: false, reason: 'malformed' };
  if (parts[0] !== ENVELOPE_VERSION) return { ok: false, reason: 'unsupported-version' };
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const iv = base64ToBytes(parts[1]!);
  const data = base64ToBytes(parts[2]!);
  if (!iv || iv.length !== IV_BYTES || !data || data.length < TAG_BYTES) {
    return { ok: false, reason: 'malformed' };
  }
  try {
    const plain = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv,
        additionalData: additionalData({ room: roomKey.room, sender }),
        tagLength: TAG_BYTES * 8,
      },
      roomKey.key,
      data,
    );
    return { ok: true, text: decoder.decode(plain) };
  } catch {
    return { ok: false, reason: 'undecryptable' };
  }
}

/** A fresh ECDH P-256 identity. The private key is not extractable. */
export async function generateIdentity(): Promise<Identity> {
  const keyPair = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveKey', 'deriveBits']);
  return identityFromKeyPair(keyPair);
}

/** Wrap an existing ECDH key pair (e.g. one restored from IndexedDB). */
export async function identityFromKeyPair(keyPair: CryptoKeyPair): Promise<Identity> {
  const spki = new Uint8Array(await subtle().exportKey('spki', keyPair.publicKey));
  const publicKey = bytesToBase64(spki);
  return { keyPair, publicKey, fingerprint: await fingerprint(publicKey) };
}

const FINGERPRINT_LABEL = 'parley/fp2';
export const FINGERPRINT_BYTES = 16;

/** `u16(len) ‖ bytes` for each part: an unambiguous concatenation. */
function lengthPrefixed(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes(...parts.flatMap((p) => [new Uint8Array([p.length >> 8, p.length & 0xff]), p]));
}

/**
 * The bytes a fingerprint is computed over: for a `k1`/`k2` device bundle, the decoded
 * identity keys (ECDH SPKI, then ECDSA SPKI, each length-prefixed; the per-login session
 * is left out); for other canonical base64, its decoded bytes; else the UTF-8 bytes.
 */
export function fingerprintInput(publicKey: string): Uint8Array<ArrayBuffer> {
  const ids = bundleIdentityKeys(publicKey);
  if (ids) return lengthPrefixed(utf8('k'), ids.ecdh, ids.ecdsa);
  const raw = base64ToBytes(publicKey);
  return raw ? lengthPrefixed(utf8('b'), raw) : lengthPrefixed(utf8('u'), utf8(publicKey));
}

/**
 * The fingerprint of a published public key: SHA-256 over `parley/fp2` and the decoded key
 * bytes ({@link fingerprintInput}), first 16 bytes (128 bits), as eight groups of four hex
 * digits, e.g. `3f1a 9c0b 77de 0124 5e6f 0a1b 2c3d 4e5f`. Two encodings of one key cannot
 * differ (base64 is canonical), and a new login session does not change it.
 */
export async function fingerprint(publicKey: string): Promise<string> {
  const digest = new Uint8Array(
    await subtle().digest('SHA-256', concatBytes(utf8(FINGERPRINT_LABEL), fingerprintInput(publicKey))),
  );
  return bytesToHex(digest.subarray(0, FINGERPRINT_BYTES)).match(/.{4}/g)!.join(' ');
}

/**
 * The 64-bit fingerprint of earlier clients (SHA-256 over the bundle string `k1.<ecdh>.<ecdsa>`,
 * first 8 bytes): only to recognise fingerprints remembered before, never to show.
 */
export async function legacyFingerprint(publicKey: string): Promise<string> {
  const parts = publicKey.split('.');
  const ids = bundleIdentityKeys(publicKey);
  const input = ids ? utf8(`k1.${parts[1]}.${parts[2]}`) : (base64ToBytes(publicKey) ?? utf8(publicKey));
  const digest = new Uint8Array(await subtle().digest('SHA-256', input));
  return bytesToHex(digest.subarray(0, 8)).match(/.{4}/g)!.join(' ');
}
