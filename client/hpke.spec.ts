/**
 * HPKE base mode against RFC 9180's test vector A.3.1 (DHKEM(P-256, HKDF-SHA256),
 * HKDF-SHA256, AES-128-GCM, the one suite client/hpke.ts implements), plus RFC 5869's
 * HKDF-SHA256 test case 1 for the Extract/Expand built on HMAC.
 */
import { describe, expect, it } from '@jest/globals';
import { bytesToHex, hexToBytes } from './crypto.js';
import {
  hkdfExpand,
  hkdfExtract,
  hpkeDecap,
  hpkeEncap,
  hpkeKeySchedule,
  hpkeOpen,
  hpkeSeal,
  importP256KeyPair,
} from './hpke.js';

const h = (s: string) => hexToBytes(s)!;

/** RFC 9180, A.3.1 (base setup) and its first encryption (sequence number 0). */
const A31 = {
  info: '4f6465206f6e2061204772656369616e2055726e',
  skEm: '4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb',
  pkEm: '04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4',
  skRm: 'f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2',
  pkRm: '04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0',
  sharedSecret: 'c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8',
  key: '868c066ef58aae6dc589b6cfdd18f97e',
  baseNonce: '4e0bc5018beba4bf004cca59',
  pt: '4265617574792069732074727574682c20747275746820626561757479',
  aad0: '436f756e742d30',
  ct0: '5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434',
};

describe('HKDF-SHA256 (RFC 5869 test case 1)', () => {
  it('Extract and Expand give the RFC values', async () => {
    const prk = await hkdfExtract(h('000102030405060708090a0b0c'), h('0b'.repeat(22)));
    expect(bytesToHex(prk)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    const okm = await hkdfExpand(prk, h('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(bytesToHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });
});

describe('HPKE base mode, RFC 9180 A.3.1', () => {
  it('Encap with the vector ephemeral gives enc and shared_secret; Decap agrees', async () => {
    const eph = await importP256KeyPair(h(A31.skEm), h(A31.pkEm));
    const { sharedSecret, enc } = await hpkeEncap(h(A31.pkRm), eph);
    expect(bytesToHex(enc)).toBe(A31.pkEm);
    expect(bytesToHex(sharedSecret)).toBe(A31.sharedSecret);
    const r = await importP256KeyPair(h(A31.skRm), h(A31.pkRm));
    expect(bytesToHex(await hpkeDecap(enc, r.privateKey, h(A31.pkRm)))).toBe(A31.sharedSecret);
  });

  it('the key schedule gives key and base_nonce; seal gives the vector ciphertext; open reverses it', async () => {
    const { key, baseNonce } = await hpkeKeySchedule(h(A31.sharedSecret), h(A31.info));
    expect(bytesToHex(key)).toBe(A31.key);
    expect(bytesToHex(baseNonce)).toBe(A31.baseNonce);
    const eph = await importP256KeyPair(h(A31.skEm), h(A31.pkEm));
    const { enc, ct } = await hpkeSeal(h(A31.pkRm), h(A31.info), h(A31.aad0), h(A31.pt), eph);
    expect(bytesToHex(ct)).toBe(A31.ct0);
    const r = await importP256KeyPair(h(A31.skRm), h(A31.pkRm));
    const pt = await hpkeOpen(enc, r.privateKey, h(A31.pkRm), h(A31.info), h(A31.aad0), ct);
    expect(bytesToHex(pt!)).toBe(A31.pt);
  });

  it('a fresh ephemeral each seal; a wrong key, info, aad, enc or ciphertext does not open', async () => {
    const r = await importP256KeyPair(h(A31.skRm), h(A31.pkRm));
    const other = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
      'deriveBits',
    ])) as CryptoKeyPair;
    const a = await hpkeSeal(h(A31.pkRm), h(A31.info), h(A31.aad0), h(A31.pt));
    const b = await hpkeSeal(h(A31.pkRm), h(A31.info), h(A31.aad0), h(A31.pt));
    expect(bytesToHex(a.enc)).not.toBe(bytesToHex(b.enc));
    expect(bytesToHex(a.ct)).not.toBe(bytesToHex(b.ct));
    const open = (o: Partial<{ key: CryptoKey; info: string; aad: string; enc: Uint8Array; ct: Uint8Array }>) =>
      hpkeOpen(
        o.enc ?? a.enc,
        o.key ?? r.privateKey,
        h(A31.pkRm),
        h(o.info ?? A31.info),
        h(o.aad ?? A31.aad0),
        o.ct ?? a.ct,
      );
    expect(bytesToHex((await open({}))!)).toBe(A31.pt);
    expect(await open({ key: other.privateKey })).toBeNull();
    expect(await open({ info: '00' })).toBeNull();
    expect(await open({ aad: '00' })).toBeNull();
    expect(await open({ enc: b.enc })).toBeNull();
    const flipped = a.ct.slice();
    flipped[0]! ^= 1;
    expect(await open({ ct: flipped })).toBeNull();
    // Not a point on the curve.
    const bad = a.enc.slice();
    bad[10]! ^= 1;
    expect(await open({ enc: bad })).toBeNull();
  });
});
