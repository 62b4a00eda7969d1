/**
 * The device identity of the "keys" room mode: two long-lived P-256 key pairs (ECDH, kept
 * for the identity and older `ks1` shares, and ECDSA for signing shares and room messages)
 * plus a login session: a fresh ECDH P-256 key pair made for each login (never stored), to
 * which key shares are sealed with HPKE, signed by the device's ECDSA key. The private keys
 * are generated non-extractable; only the public halves leave the device, as one versioned
 * bundle published in `publicKey` at login:
 *
 *   k2.<base64 SPKI ECDH>.<base64 SPKI ECDSA>.<session id: 16 hex>.<base64 session public key,
 *      65 bytes uncompressed>.<base64 ECDSA signature over the session>
 *
 * (about 470 characters, within the protocol's 2048). `k1.<ECDH>.<ECDSA>` bundles of older
 * clients still parse (without a session: nothing can be shared with them). The fingerprint
 * covers the two identity keys' decoded bytes, not the session, so it stays the same from
 * one login to the next.
 */
import {
  base64ToBytes,
  bundleIdentityKeys,
  bytesToBase64,
  bytesToHex,
  concatBytes,
  fingerprint,
  fingerprintInput,
} from './crypto.js';

/** The version of bundle this client publishes (`k1` bundles of older clients still parse). */
export const BUNDLE_VERSION = 'k2';
export const LEGACY_BUNDLE_VERSION = 'k1';
const SESSION_ID_RE = /^[0-9a-f]{16}$/;
export const ECDH_PARAMS = { name: 'ECDH', namedCurve: 'P-256' } as const;
export const ECDSA_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGN_PARAMS = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface DeviceKeyPairs {
  ecdh: CryptoKeyPair;
  ecdsa: CryptoKeyPair;
}

/**
 * A login session: a fresh ECDH P-256 key pair (private key not extractable, never stored)
 * to which key shares for this login are sealed. Dropping it (closing the page, logging in
 * again with {@link newLoginSession}) makes recorded shares unreadable even to someone who
 * later steals the device keys, and shares for an earlier session are refused.
 */
export interface LoginSession {
  /** 16 random hex digits; shares name it as their recipient session. */
  id: string;
  keyPair: CryptoKeyPair;
  /** The public key, uncompressed (65 bytes). */
  publicRaw: Uint8Array<ArrayBuffer>;
}

export interface DeviceIdentity extends DeviceKeyPairs {
  /** What to send as `publicKey` at login (includes the login session). */
  bundle: string;
  /**
   * Eight groups of four hex digits: 128 bits of SHA-256 over the decoded identity keys
   * (docs/ENCRYPTION.md, "Fingerprints"); the same for every login session.
   */
  fingerprint: string;
  /** The current login session (absent only in identities built by hand). */
  session?: LoginSession;
}

/** Someone else's published bundle, parsed and imported. */
export interface PublicBundle {
  bundle: string;
  ecdh: CryptoKey;
  ecdsa: CryptoKey;
  fingerprint: string;
  /** The member's current login session, signature checked (`k2` bundles only). */
  session?: { id: string; publicRaw: Uint8Array<ArrayBuffer> };
}

/** Where a device keeps its key pairs (IndexedDB in the browser, memory in tests). */
export interface IdentityStore {
  load(): Promise<DeviceKeyPairs | undefined>;
  save(pairs: DeviceKeyPairs): Promise<void>;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('Web Crypto is unavailable (needs a secure context: https or localhost)');
  return s;
}

export async function generateDeviceKeyPairs(): Promise<DeviceKeyPairs> {
  const [ecdh, ecdsa] = await Promise.all([
    subtle().generateKey(ECDH_PARAMS, false, ['deriveBits']) as Promise<CryptoKeyPair>,
    subtle().generateKey(ECDSA_PARAMS, false, ['sign', 'verify']) as Promise<CryptoKeyPair>,
  ]);
  return { ecdh, ecdsa };
}

/** What the session signature covers: the identity keys, the session id and its public key. */
function sessionSigned(ecdh: string, ecdsa: string, id: string, pub: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(['k2/session', ecdh, ecdsa, id, pub])) as Uint8Array<ArrayBuffer>;
}

/**
 * The identity with a fresh login session and its bundle (call it before each login: the
 * session is what makes shares for an earlier login unusable). Every identity this module
 * returns already has one, made when it was loaded.
 */
export async function newLoginSession(pairs: DeviceKeyPairs): Promise<DeviceIdentity> {
  const [a, b, keyPair] = await Promise.all([
    subtle().exportKey('spki', pairs.ecdh.publicKey),
    subtle().exportKey('spki', pairs.ecdsa.publicKey),
    subtle().generateKey(ECDH_PARAMS, false, ['deriveBits']) as Promise<CryptoKeyPair>,
  ]);
  const ecdh = bytesToBase64(new Uint8Array(a));
  const ecdsa = bytesToBase64(new Uint8Array(b));
  const publicRaw = new Uint8Array(await subtle().exportKey('raw', keyPair.publicKey));
  const id = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(8)));
  const pub = bytesToBase64(publicRaw);
  const sig = await subtle().sign(SIGN_PARAMS, pairs.ecdsa.privateKey, sessionSigned(ecdh, ecdsa, id, pub));
  const bundle = `${BUNDLE_VERSION}.${ecdh}.${ecdsa}.${id}.${pub}.${bytesToBase64(new Uint8Array(sig))}`;
  return {
    ecdh: pairs.ecdh,
    ecdsa: pairs.ecdsa,
    bundle,
    fingerprint: await fingerprint(bundle),
    session: { id, keyPair, publicRaw },
  };
}

/** The identity of these key pairs, with a fresh login session. */
export function identityFromKeyPairs(pairs: DeviceKeyPairs): Promise<DeviceIdentity> {
  return newLoginSession(pairs);
}

/** True when two identities are the same device keys (whatever their sessions). */
export function sameDevice(a: DeviceKeyPairs, b: DeviceKeyPairs): boolean {
  return a.ecdsa.privateKey === b.ecdsa.privateKey;
}

export async function generateDeviceIdentity(): Promise<DeviceIdentity> {
  return identityFromKeyPairs(await generateDeviceKeyPairs());
}

/** The stored identity, or a fresh one saved for next time (a fresh one only, if storage fails). */
export async function loadOrCreateIdentity(store: IdentityStore): Promise<DeviceIdentity> {
  try {
    const stored = await store.load();
    if (stored?.ecdh?.privateKey && stored.ecdsa?.privateKey) return await identityFromKeyPairs(stored);
  } catch {
    /* unreadable storage: start over */
  }
  const pairs = await generateDeviceKeyPairs();
  try {
    await store.save(pairs);
  } catch {
    /* a per-page identity then */
  }
  return identityFromKeyPairs(pairs);
}

export function memoryIdentityStore(): IdentityStore {
  let pairs: DeviceKeyPairs | undefined;
  return {
    load: async () => pairs,
    save: async (p) => {
      pairs = p;
    },
  };
}

const equal = (x: Uint8Array, y: Uint8Array) => x.length === y.length && x.every((v, i) => v === y[i]);

/**
 * Parses and imports a published bundle; null for anything that is not a valid `k2` (or
 * older `k1`) bundle. Canonical only: each key must be the SPKI encoding Web Crypto itself
 * exports for it (so one key has one bundle and one fingerprint), in canonical base64; a
 * `k2` session must be signed by the bundle's ECDSA key.
 */
export async function parseBundle(bundle: unknown): Promise<PublicBundle | null> {
  if (typeof bundle !== 'string' || bundle.length > 2048) return null;
  const ids = bundleIdentityKeys(bundle);
  if (!ids) return null;
  const parts = bundle.split('.');
  try {
    const [ecdh, ecdsa] = await Promise.all([
      subtle().importKey('spki', ids.ecdh, ECDH_PARAMS, true, []),
      subtle().importKey('spki', ids.ecdsa, ECDSA_PARAMS, true, ['verify']),
    ]);
    const [a, b] = await Promise.all([subtle().exportKey('spki', ecdh), subtle().exportKey('spki', ecdsa)]);
    if (!equal(new Uint8Array(a), ids.ecdh) || !equal(new Uint8Array(b), ids.ecdsa)) return null;
    const parsed: PublicBundle = { bundle, ecdh, ecdsa, fingerprint: await fingerprint(bundle) };
    if (parts[0] === LEGACY_BUNDLE_VERSION) return parsed;
    const [, e, d, id, pub, sig] = parts as [string, string, string, string, string, string];
    const publicRaw = base64ToBytes(pub);
    const signature = base64ToBytes(sig);
    if (!SESSION_ID_RE.test(id) || !publicRaw || publicRaw.length !== 65 || publicRaw[0] !== 4 || !signature)
      return null;
    await subtle().importKey('raw', publicRaw, ECDH_PARAMS, true, []); // on the curve
    if (!(await subtle().verify(SIGN_PARAMS, ecdsa, signature, sessionSigned(e, d, id, pub)))) return null;
    return { ...parsed, session: { id, publicRaw } };
  } catch {
    return null;
  }
}

// ---------- safety numbers and room codes ----------

export const SAFETY_NUMBER_ITERATIONS = 5200;

/** 30 digits for one party: SHA-512 iterated over its identity keys and lower-cased name. */
async function partyDigits(name: string, publicKey: string, iterations: number): Promise<string> {
  const key = fingerprintInput(publicKey);
  const label = new TextEncoder().encode(name.toLocaleLowerCase('en-US'));
  let hash = concatBytes(new Uint8Array([0, 0]), key, label);
  for (let i = 0; i < iterations; i++) {
    hash = new Uint8Array(await subtle().digest('SHA-512', concatBytes(hash, key)));
  }
  let out = '';
  for (let c = 0; c < 6; c++) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 256 + hash[c * 5 + j]!;
    out += String(v % 100000).padStart(5, '0');
  }
  return out;
}

/**
 * The safety number of a pair (as Signal computes its own): for each party, SHA-512
 * iterated 5200 times over its identity keys (as fingerprinted) and its lower-cased name,
 * 30 digits from the first 30 bytes (six 5-byte chunks, each mod 100000); the two halves
 * sorted and joined: 60 digits in twelve groups of five. Both sides compute the same number.
 * Impersonating one party means matching its 30 digits (about 2^100) through 5200 hashes
 * each: about 2^112 work.
 */
export async function safetyNumber(
  a: { name: string; publicKey: string },
  b: { name: string; publicKey: string },
  iterations = SAFETY_NUMBER_ITERATIONS,
): Promise<string> {
  const halves = await Promise.all([
    partyDigits(a.name, a.publicKey, iterations),
    partyDigits(b.name, b.publicKey, iterations),
  ]);
  return halves.sort().join('').match(/.{5}/g)!.join(' ');
}

/**
 * A short code of a room's member list that members read to each other to catch a server
 * showing different lists to different people: SHA-256 over the room name and the sorted
 * list of (lower-cased name, identity fingerprint input) of every member (this device
 * included), first 8 bytes mod 10^12: twelve digits in three groups of four. About 40 bits:
 * it catches a list that differs, not a server that grinds keys for a matching code (it can
 * do ~2^40 work); compare safety numbers for that.
 */
export async function roomCode(room: string, members: Array<{ name: string; publicKey?: string }>): Promise<string> {
  const entries = members
    .map((m) => [m.name.toLocaleLowerCase('en-US'), m.publicKey ? bytesToBase64(fingerprintInput(m.publicKey)) : ''])
    .sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : x[1]! < y[1]! ? -1 : x[1]! > y[1]! ? 1 : 0));
  const digest = new Uint8Array(
    await subtle().digest(
      'SHA-256',
      new TextEncoder().encode(JSON.stringify(['parley/room-code/1', room, entries])) as Uint8Array<ArrayBuffer>,
    ),
  );
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(digest[i]!);
  return String(v % 10n ** 12n)
    .padStart(12, '0')
    .match(/.{4}/g)!
    .join(' ');
}
