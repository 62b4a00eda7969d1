/**
 * HPKE (RFC 9180), base mode, single shot, for one cipher suite only:
 * DHKEM(P-256, HKDF-SHA256) (KEM 0x0010), HKDF-SHA256 (KDF 0x0001), AES-128-GCM (AEAD 0x0001).
 * That is the suite of RFC 9180's test vectors A.3, which `hpke.spec.ts` reproduces.
 *
 * Web Crypto only: ECDH P-256 for the DH, HMAC-SHA-256 for HKDF-Extract and HKDF-Expand (Web
 * Crypto's HKDF cannot run the two steps apart, which HPKE's labelled derivations need),
 * AES-GCM for the AEAD. No auth or PSK modes, no exporter, one message per context
 * (sequence number 0, so the nonce is `base_nonce`).
 *
 * Every seal uses a fresh ephemeral key pair (`enc`): the sender keeps nothing that opens it
 * again, and only the holder of the recipient's private key can.
 */

export const HPKE_KEM_ID = 0x0010;
export const HPKE_KDF_ID = 0x0001;
export const HPKE_AEAD_ID = 0x0001;
/** Uncompressed P-256 point: `0x04 ‖ x ‖ y`. */
export const HPKE_NPK = 65;
const NSECRET = 32;
const NK = 16;
const NN = 12;
const NH = 32;
const EC = { name: 'ECDH', namedCurve: 'P-256' } as const;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('Web Crypto is unavailable (needs a secure context: https or localhost)');
  return s;
}

const ascii = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(parts.reduce((n, p) => n + p.length, 0)));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function i2osp(n: number, w: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(w));
  for (let i = w - 1; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n & 0xff;
  return out;
}

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  // An empty HMAC key equals NH zero bytes (both are zero-padded to the block size); some
  // Web Crypto implementations refuse empty keys, so pass the zeros.
  const k = await subtle().importKey(
    'raw',
    key.length === 0 ? new Uint8Array(NH) : (key as Uint8Array<ArrayBuffer>),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await subtle().sign('HMAC', k, data as Uint8Array<ArrayBuffer>));
}

/** RFC 5869 HKDF-Extract with SHA-256. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hmac(salt, ikm);
}

/** RFC 5869 HKDF-Expand with SHA-256. */
export async function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array<ArrayBuffer>> {
  if (length > 255 * NH) throw new RangeError('HKDF-Expand length too large');
  const out = new Uint8Array(new ArrayBuffer(length));
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    t = await hmac(prk, concat(t, info, new Uint8Array([i])));
    out.set(t.subarray(0, Math.min(NH, length - at)), at);
    at += NH;
  }
  return out;
}

const KEM_SUITE = concat(ascii('KEM'), i2osp(HPKE_KEM_ID, 2));
const HPKE_SUITE = concat(ascii('HPKE'), i2osp(HPKE_KEM_ID, 2), i2osp(HPKE_KDF_ID, 2), i2osp(HPKE_AEAD_ID, 2));

function labeledExtract(suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) {
  return hkdfExtract(salt, concat(ascii('HPKE-v1'), suite, ascii(label), ikm));
}

function labeledExpand(suite: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number) {
  return hkdfExpand(prk, concat(i2osp(length, 2), ascii('HPKE-v1'), suite, ascii(label), info), length);
}

async function extractAndExpand(dh: Uint8Array, kemContext: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dh);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', kemContext, NSECRET);
}

/** The base-mode key schedule: the AEAD key and base nonce for `shared_secret` and `info`. */
export async function hpkeKeySchedule(
  sharedSecret: Uint8Array,
  info: Uint8Array,
): Promise<{ key: Uint8Array<ArrayBuffer>; baseNonce: Uint8Array<ArrayBuffer> }> {
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(HPKE_SUITE, empty, 'psk_id_hash', empty);
  const infoHash = await labeledExtract(HPKE_SUITE, empty, 'info_hash', info);
  const context = concat(new Uint8Array([0x00]), pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE, sharedSecret, 'secret', empty);
  const [key, baseNonce] = await Promise.all([
    labeledExpand(HPKE_SUITE, secret, 'key', context, NK),
    labeledExpand(HPKE_SUITE, secret, 'base_nonce', context, NN),
  ]);
  return { key, baseNonce };
}

async function dh(privateKey: CryptoKey, publicRaw: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  if (publicRaw.length !== HPKE_NPK || publicRaw[0] !== 0x04) throw new Error('not an uncompressed P-256 point');
  // importKey validates that the point is on the curve.
  const pub = await subtle().importKey('raw', publicRaw as Uint8Array<ArrayBuffer>, EC, true, []);
  return new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: pub }, privateKey, 256));
}

/** Encap(pkR): a fresh ephemeral key pair (or the given one, for test vectors). */
export async function hpkeEncap(
  recipientPublic: Uint8Array,
  ephemeral?: CryptoKeyPair,
): Promise<{ sharedSecret: Uint8Array<ArrayBuffer>; enc: Uint8Array<ArrayBuffer> }> {
  const eph = ephemeral ?? ((await subtle().generateKey(EC, false, ['deriveBits'])) as CryptoKeyPair);
  const enc = new Uint8Array(await subtle().exportKey('raw', eph.publicKey));
  const secret = await dh(eph.privateKey, recipientPublic);
  return { sharedSecret: await extractAndExpand(secret, concat(enc, recipientPublic)), enc };
}

/** Decap(enc, skR); `recipientPublic` is pkR's serialisation (part of the KEM context). */
export async function hpkeDecap(
  enc: Uint8Array,
  recipientPrivate: CryptoKey,
  recipientPublic: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const secret = await dh(recipientPrivate, enc);
  return extractAndExpand(secret, concat(enc, recipientPublic));
}

async function aeadKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** SealBase(pkR, info, aad, pt), one message: `{ enc, ct }` (ct carries the 16-byte tag). */
export async function hpkeSeal(
  recipientPublic: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  ephemeral?: CryptoKeyPair,
): Promise<{ enc: Uint8Array<ArrayBuffer>; ct: Uint8Array<ArrayBuffer> }> {
  const { sharedSecret, enc } = await hpkeEncap(recipientPublic, ephemeral);
  const { key, baseNonce } = await hpkeKeySchedule(sharedSecret, info);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv: baseNonce, additionalData: aad as Uint8Array<ArrayBuffer> },
    await aeadKey(key),
    plaintext as Uint8Array<ArrayBuffer>,
  );
  return { enc, ct: new Uint8Array(ct) };
}

/** OpenBase(enc, skR, info, aad, ct); `null` when it does not open (never throws). */
export async function hpkeOpen(
  enc: Uint8Array,
  recipientPrivate: CryptoKey,
  recipientPublic: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
): Promise<Uint8Array<ArrayBuffer> | null> {
  try {
    const sharedSecret = await hpkeDecap(enc, recipientPrivate, recipientPublic);
    const { key, baseNonce } = await hpkeKeySchedule(sharedSecret, info);
    const pt = await subtle().decrypt(
      { name: 'AES-GCM', iv: baseNonce, additionalData: aad as Uint8Array<ArrayBuffer> },
      await aeadKey(key),
      ct as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}

/** A P-256 key pair from its raw scalar and public point (test vectors only). */
export async function importP256KeyPair(secret: Uint8Array, publicRaw: Uint8Array): Promise<CryptoKeyPair> {
  const b64url = (b: Uint8Array) =>
    btoa(String.fromCharCode(...b))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    d: b64url(secret),
    x: b64url(publicRaw.subarray(1, 33)),
    y: b64url(publicRaw.subarray(33, 65)),
    ext: true,
  };
  const privateKey = await subtle().importKey('jwk', jwk, EC, false, ['deriveBits']);
  const publicKey = await subtle().importKey('raw', publicRaw as Uint8Array<ArrayBuffer>, EC, true, []);
  return { privateKey, publicKey };
}
