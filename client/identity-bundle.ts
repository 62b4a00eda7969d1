/**
 * The device identity of the "keys" room mode: two P-256 key pairs, ECDH for agreeing the
 * keys that wrap sender-key shares and ECDSA for signing shares and room messages. The
 * private keys are generated non-extractable; only the public halves leave the device, as
 * one versioned bundle published in `publicKey` at login:
 *
 *   k1.<base64 SPKI of the ECDH public key>.<base64 SPKI of the ECDSA public key>
 *
 * (about 250 characters, within the protocol's 2048). The fingerprint is computed over the
 * whole bundle string, so comparing fingerprints compares both keys.
 */
import { base64ToBytes, bytesToBase64, fingerprint } from './crypto.js';

export const BUNDLE_VERSION = 'k1';
export const ECDH_PARAMS = { name: 'ECDH', namedCurve: 'P-256' } as const;
export const ECDSA_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGN_PARAMS = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface DeviceKeyPairs {
  ecdh: CryptoKeyPair;
  ecdsa: CryptoKeyPair;
}

export interface DeviceIdentity extends DeviceKeyPairs {
  /** What to send as `publicKey` at login. */
  bundle: string;
  /** `xxxx xxxx xxxx xxxx`: SHA-256 of the bundle's UTF-8 bytes, first 8 bytes in hex. */
  fingerprint: string;
}

/** Someone else's published bundle, parsed and imported. */
export interface PublicBundle {
  bundle: string;
  ecdh: CryptoKey;
  ecdsa: CryptoKey;
  fingerprint: string;
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

export async function identityFromKeyPairs(pairs: DeviceKeyPairs): Promise<DeviceIdentity> {
  const [a, b] = await Promise.all([
    subtle().exportKey('spki', pairs.ecdh.publicKey),
    subtle().exportKey('spki', pairs.ecdsa.publicKey),
  ]);
  const bundle = `${BUNDLE_VERSION}.${bytesToBase64(new Uint8Array(a))}.${bytesToBase64(new Uint8Array(b))}`;
  return { ...pairs, bundle, fingerprint: await fingerprint(bundle) };
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

/** Parses and imports a published bundle; null for anything that is not a valid `k1` bundle. */
export async function parseBundle(bundle: unknown): Promise<PublicBundle | null> {
  if (typeof bundle !== 'string' || bundle.length > 2048) return null;
  const parts = bundle.split('.');
  if (parts.length !== 3 || parts[0] !== BUNDLE_VERSION) return null;
  const a = base64ToBytes(parts[1]!);
  const b = base64ToBytes(parts[2]!);
  if (!a || !b) return null;
  try {
    const [ecdh, ecdsa] = await Promise.all([
      subtle().importKey('spki', a, ECDH_PARAMS, true, []),
      subtle().importKey('spki', b, ECDSA_PARAMS, true, ['verify']),
    ]);
    return { bundle, ecdh, ecdsa, fingerprint: await fingerprint(bundle) };
  } catch {
    return null;
  }
}
