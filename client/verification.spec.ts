/**
 * Keys you can verify: canonical encodings only (one key, one bundle, one fingerprint),
 * fingerprints over decoded key bytes that survive a new login session, 60-digit safety
 * numbers, room codes over the sorted member list. The fixed vectors (docs/ENCRYPTION.md) were
 * checked against an independent computation with node:crypto's SHA-256 and SHA-512.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { base64ToBytes, bytesToBase64, fingerprint, hexToBytes } from './crypto.js';
import {
  generateDeviceIdentity,
  newLoginSession,
  parseBundle,
  roomCode,
  safetyNumber,
  type DeviceIdentity,
} from './identity-bundle.js';

let alice: DeviceIdentity;
let bob: DeviceIdentity;
beforeAll(async () => {
  [alice, bob] = await Promise.all([generateDeviceIdentity(), generateDeviceIdentity()]);
});

/** SPKI of an uncompressed P-256 point (the RFC 9180 A.3.1 points serve as fixed keys). */
const SPKI_PREFIX = '3059301306072a8648ce3d020106082a8648ce3d030107034200';
const spki = (point: string) => bytesToBase64(hexToBytes(SPKI_PREFIX + point)!);
const P1 =
  '04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4';
const P2 =
  '04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0';
const FIXED_A = `k1.${spki(P1)}.${spki(P2)}`;
const FIXED_B = `k1.${spki(P2)}.${spki(P1)}`;

/** The same bytes in a non-canonical base64 (the last character's unused bits set). */
function malleate(b64: string): string {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  expect(pad).toBeGreaterThan(0);
  const at = b64.length - pad - 1;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const v = alphabet.indexOf(b64[at]!);
  return b64.slice(0, at) + alphabet[v ^ 1] + b64.slice(at + 1);
}

describe('canonical encodings', () => {
  it('base64 with non-zero unused bits is refused', () => {
    expect(base64ToBytes('AA==')).toEqual(new Uint8Array([0]));
    expect(base64ToBytes('AB==')).toBeNull();
    expect(base64ToBytes('AAE=')).toEqual(new Uint8Array([0, 1]));
    expect(base64ToBytes('AAF=')).toBeNull();
    const spkiB64 = alice.bundle.split('.')[1]!;
    expect(atob(malleate(spkiB64))).toBe(atob(spkiB64)); // the same bytes to a lax decoder
    expect(base64ToBytes(malleate(spkiB64))).toBeNull();
  });

  it('a bundle re-encoded (base64 or DER) does not parse, so it cannot show as another fingerprint', async () => {
    const [v, ecdh, ecdsa, ...session] = alice.bundle.split('.');
    expect(await parseBundle([v, malleate(ecdh!), ecdsa, ...session].join('.'))).toBeNull();
    // The ECDH key as a compressed point: a valid SPKI for the same key, not the canonical one.
    const raw = base64ToBytes(ecdh!)!.subarray(26);
    const compressed = new Uint8Array([
      ...hexToBytes('3039301306072a8648ce3d020106082a8648ce3d030107032200')!,
      2 + (raw[64]! & 1),
      ...raw.subarray(1, 33),
    ]);
    expect(await parseBundle([v, bytesToBase64(compressed), ecdsa, ...session].join('.'))).toBeNull();
    expect(await parseBundle(alice.bundle)).not.toBeNull();
  });

  it('a session not signed by the bundle key is refused', async () => {
    const a = alice.bundle.split('.');
    const b = bob.bundle.split('.');
    expect(await parseBundle([...a.slice(0, 3), ...b.slice(3)].join('.'))).toBeNull();
  });
});

describe('fingerprints', () => {
  it('are 128 bits over the decoded identity keys: the same for k1 and k2, and for every login session', async () => {
    const again = await newLoginSession(alice);
    expect(again.bundle).not.toBe(alice.bundle);
    expect(again.fingerprint).toBe(alice.fingerprint);
    const [, ecdh, ecdsa] = alice.bundle.split('.');
    expect(await fingerprint(`k1.${ecdh}.${ecdsa}`)).toBe(alice.fingerprint);
    expect(alice.fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
    expect(bob.fingerprint).not.toBe(alice.fingerprint);
    expect(await fingerprint(FIXED_A)).toBe('1081 a883 1826 a913 df95 ba6c e3c7 811e');
  });
});

describe('safety numbers', () => {
  it('fixed vector: 60 digits in twelve groups of five', async () => {
    const n = await safetyNumber({ name: 'Alice', publicKey: FIXED_A }, { name: 'bob', publicKey: FIXED_B });
    expect(n).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(n).toBe('41999 66068 76116 49443 99159 08167 61356 72398 94980 51626 60051 97581');
  });

  it('both sides compute the same; another key or name changes it', async () => {
    const a = { name: 'alice', publicKey: alice.bundle };
    const b = { name: 'bob', publicKey: bob.bundle };
    const n = await safetyNumber(a, b);
    expect(await safetyNumber(b, a)).toBe(n);
    expect(await safetyNumber({ ...a, publicKey: (await newLoginSession(alice)).bundle }, b)).toBe(n);
    const eve = await generateDeviceIdentity();
    expect(await safetyNumber({ name: 'alice', publicKey: eve.bundle }, b)).not.toBe(n);
    expect(await safetyNumber({ ...a, name: 'mallory' }, b)).not.toBe(n);
  });
});

describe('room codes', () => {
  it('hash the sorted member list: order does not matter; a different key or member does', async () => {
    const list = [
      { name: 'alice', publicKey: FIXED_A },
      { name: 'Bob', publicKey: FIXED_B },
    ];
    const code = await roomCode('garden', list);
    expect(code).toMatch(/^\d{4} \d{4} \d{4}$/);
    expect(code).toBe('5235 5115 5389');
    expect(await roomCode('garden', [...list].reverse())).toBe(code);
    expect(await roomCode('garden', [list[0]!, { name: 'bob', publicKey: FIXED_B }])).toBe(code);
    expect(await roomCode('garden', [list[0]!, { name: 'Bob', publicKey: FIXED_A }])).not.toBe(code);
    expect(await roomCode('garden', [...list, { name: 'mallory', publicKey: bob.bundle }])).not.toBe(code);
    expect(await roomCode('other', list)).not.toBe(code);
  });
});
