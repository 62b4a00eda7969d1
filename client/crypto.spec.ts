import { describe, it, expect, beforeAll } from '@jest/globals';
import {
  base64ToBytes,
  bytesToBase64,
  decryptMessage,
  deriveRoomKey,
  encryptMessage,
  fingerprint,
  generateIdentity,
  isEnvelope,
  roomSalt,
  PBKDF2_ITERATIONS,
  type RoomKey,
} from './crypto.js';

describe('client/crypto', () => {
  let key: RoomKey;
  let sameKey: RoomKey;
  let wrongPass: RoomKey;
  let otherRoom: RoomKey;

  beforeAll(async () => {
    [key, sameKey, wrongPass, otherRoom] = await Promise.all([
      deriveRoomKey('correct horse battery staple', 'lobby'),
      deriveRoomKey('correct horse battery staple', 'lobby'),
      deriveRoomKey('wrong passphrase', 'lobby'),
      deriveRoomKey('correct horse battery staple', 'Lobby'),
    ]);
  }, 30_000);

  it('uses at least 600,000 PBKDF2 iterations and refuses fewer', async () => {
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    await expect(deriveRoomKey('x', 'r', 1000)).rejects.toThrow(RangeError);
    await expect(deriveRoomKey('', 'r')).rejects.toThrow(TypeError);
  });

  it('binds the salt to the room name', () => {
    expect(new TextDecoder().decode(roomSalt('lobby'))).toBe('parley:v1:lobby');
  });

  it('derives a non-extractable AES-256-GCM key', () => {
    expect(key.key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    expect(key.key.extractable).toBe(false);
  });

  it('round-trips text, unicode included, under the same passphrase and room', async () => {
    const text = 'hello 👋 — ünïcødé\nsecond line';
    const env = await encryptMessage(key, text, 'alice');
    expect(await decryptMessage(sameKey, env, 'alice')).toEqual({ ok: true, text });
  });

  it('produces a versioned envelope with a fresh 96-bit IV each time and no plaintext', async () => {
    const a = await encryptMessage(key, 'same text', 'alice');
    const b = await encryptMessage(key, 'same text', 'alice');
    expect(a).not.toBe(b);
    for (const env of [a, b]) {
      expect(isEnvelope(env)).toBe(true);
      const [v, iv, ct] = env.split('.');
      expect(v).toBe('p1');
      expect(base64ToBytes(iv!)!.length).toBe(12);
      expect(base64ToBytes(ct!)!.length).toBe('same text'.length + 16);
      expect(env).not.toContain('same text');
      expect(env).not.toContain(btoa('same text').slice(0, 8));
    }
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('returns "undecryptable" (never throws) for a wrong passphrase, other room, other sender or tampering', async () => {
    const env = await encryptMessage(key, 'secret', 'alice');
    expect(await decryptMessage(wrongPass, env, 'alice')).toEqual({ ok: false, reason: 'undecryptable' });
    expect(await decryptMessage(otherRoom, env, 'alice')).toEqual({ ok: false, reason: 'undecryptable' });
    expect(await decryptMessage(key, env, 'mallory')).toEqual({ ok: false, reason: 'undecryptable' });
    const [v, iv, ct] = env.split('.');
    const bytes = base64ToBytes(ct!)!;
    bytes[0] ^= 1;
    expect(await decryptMessage(key, `${v}.${iv}.${bytesToBase64(bytes)}`, 'alice')).toEqual({
      ok: false,
      reason: 'undecryptable',
    });
  });

  it('classifies non-envelopes as malformed and unknown versions as unsupported', async () => {
    for (const bad of ['hello', '', 'p1.', 'p1.a.b', 'p1.!!!.???', 'p1.AAAA.AAAA.AAAA', 42, null, { m: 1 }]) {
      expect(await decryptMessage(key, bad)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(await decryptMessage(key, 'p2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==')).toEqual({
      ok: false,
      reason: 'unsupported-version',
    });
    // A member-keys envelope is a Parley message of the other mode.
    expect(await decryptMessage(key, 's1.0123456789abcdef.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AAAA')).toEqual({
      ok: false,
      reason: 'unsupported-version',
    });
    // The sender chains' envelope too (chain, index, iv, ciphertext, commitment, signature).
    expect(
      await decryptMessage(key, 's2.0123456789abcdef.7.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==.AAAA.AAAA'),
    ).toEqual({
      ok: false,
      reason: 'unsupported-version',
    });
  });

  it('base64 helpers are strict and round-trip large buffers', () => {
    const big = new Uint8Array(20_000).map((_, i) => i % 251);
    expect(base64ToBytes(bytesToBase64(big))).toEqual(big);
    expect(base64ToBytes('abc')).toBeNull();
    expect(base64ToBytes('ab-_')).toBeNull();
  });

  it('generates an ECDH P-256 identity with a short SPKI public key and a stable fingerprint', async () => {
    const id = await generateIdentity();
    expect(id.keyPair.privateKey.extractable).toBe(false);
    expect(id.keyPair.publicKey.algorithm).toMatchObject({ name: 'ECDH', namedCurve: 'P-256' });
    expect(id.publicKey.length).toBeLessThanOrEqual(2048);
    const spki = base64ToBytes(id.publicKey)!;
    const reimported = await crypto.subtle.importKey('spki', spki, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
    expect(reimported.type).toBe('public');
    expect(id.fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
    expect(await fingerprint(id.publicKey)).toBe(id.fingerprint);
    const other = await generateIdentity();
    expect(other.fingerprint).not.toBe(id.fingerprint);
    // SHA-256 over "parley/fp2", "b" and the length-prefixed SPKI bytes; first 16 bytes.
    const input = new Uint8Array([
      ...new TextEncoder().encode('parley/fp2'),
      0,
      1,
      98,
      spki.length >> 8,
      spki.length & 0xff,
      ...spki,
    ]);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
    const hex = Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
    expect(id.fingerprint.replaceAll(' ', '')).toBe(hex);
  });

  it('fingerprints any opaque key string', async () => {
    expect(await fingerprint('not base64!')).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
  });
});
