/**
 * Call proofs: the DTLS fingerprints of an SDP, signed with the device key for one room and
 * pair of sockets, refused when a fingerprint was changed in transit, when another device
 * key signed them, or when they were signed for another pair.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { callVerifier, sdpFingerprints, signCallProof, verifyCallProof, type CallAuthSession } from './call-auth.js';
import { generateDeviceIdentity, parseBundle, type DeviceIdentity, type PublicBundle } from './identity-bundle.js';

const FP_A = 'D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F';
const FP_B = '1C:3B:A4:6E:9B:47:0B:6A:07:1D:44:5E:9B:5D:33:2A:0C:65:6F:21:78:BB:65:4E:8D:58:9C:AA:22:E1:0B:77';

const sdp = (fp: string) =>
  [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    `a=fingerprint:sha-256 ${fp}`,
    'a=setup:actpass',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=mid:1',
    `a=fingerprint:sha-256 ${fp}`,
    '',
  ].join('\r\n');

const ctx = { room: 'lobby', from: 'sock-alice', to: 'sock-bob' };
let alice: DeviceIdentity;
let mallory: DeviceIdentity;
let aliceKey: PublicBundle;
beforeAll(async () => {
  [alice, mallory] = await Promise.all([generateDeviceIdentity(), generateDeviceIdentity()]);
  aliceKey = (await parseBundle(alice.bundle))!;
});

describe('sdpFingerprints', () => {
  it('is canonical: algorithm lower-cased, hex upper-cased, duplicates dropped, sorted', () => {
    const mixed = sdp(FP_A).replace(`a=fingerprint:sha-256 ${FP_A}`, `a=fingerprint:SHA-256 ${FP_A.toLowerCase()}`);
    expect(sdpFingerprints(mixed)).toEqual([`sha-256 ${FP_A}`]);
    expect(sdpFingerprints(`${sdp(FP_B)}a=fingerprint:sha-256 ${FP_A}\r\n`)).toEqual([
      `sha-256 ${FP_B}`,
      `sha-256 ${FP_A}`,
    ]);
  });

  it('is null without a fingerprint or with one that does not parse', () => {
    expect(sdpFingerprints('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n')).toBeNull();
    expect(sdpFingerprints(`${sdp(FP_A)}a=fingerprint:sha-256 not-hex\r\n`)).toBeNull();
    expect(sdpFingerprints(undefined)).toBeNull();
  });
});

describe('call proofs', () => {
  it('accepts the signed fingerprints of the same SDP', async () => {
    const proof = await signCallProof(alice.ecdsa.privateKey, ctx, sdp(FP_A));
    expect(proof).toEqual({ v: 'cp1', fingerprints: [`sha-256 ${FP_A}`], sig: expect.any(String) });
    await expect(verifyCallProof(aliceKey.ecdsa, ctx, sdp(FP_A), proof)).resolves.toBe(true);
    // Reformatted on the way (hex case, line endings): the same fingerprints.
    await expect(
      verifyCallProof(aliceKey.ecdsa, ctx, sdp(FP_A.toLowerCase()).replace(/\r\n/g, '\n'), proof),
    ).resolves.toBe(true);
  });

  it('refuses an SDP whose fingerprint was altered in transit', async () => {
    const proof = await signCallProof(alice.ecdsa.privateKey, ctx, sdp(FP_A));
    await expect(verifyCallProof(aliceKey.ecdsa, ctx, sdp(FP_B), proof)).resolves.toBe(false);
    // The relay also rewrites the proof's list: the signature no longer covers it.
    await expect(
      verifyCallProof(aliceKey.ecdsa, ctx, sdp(FP_B), { ...proof, fingerprints: [`sha-256 ${FP_B}`] }),
    ).resolves.toBe(false);
    // One fingerprint added beside the signed one.
    await expect(
      verifyCallProof(aliceKey.ecdsa, ctx, `${sdp(FP_A)}a=fingerprint:sha-256 ${FP_B}\r\n`, proof),
    ).resolves.toBe(false);
  });

  it('refuses a proof from another device key', async () => {
    const forged = await signCallProof(mallory.ecdsa.privateKey, ctx, sdp(FP_B));
    await expect(verifyCallProof(aliceKey.ecdsa, ctx, sdp(FP_B), forged)).resolves.toBe(false);
  });

  it('refuses a proof made for another room or pair, a missing or malformed one', async () => {
    const proof = await signCallProof(alice.ecdsa.privateKey, ctx, sdp(FP_A));
    for (const other of [
      { ...ctx, room: 'other' },
      { ...ctx, to: 'sock-carol' },
      { ...ctx, from: 'sock-eve' },
    ]) {
      await expect(verifyCallProof(aliceKey.ecdsa, other, sdp(FP_A), proof)).resolves.toBe(false);
    }
    for (const bad of [undefined, null, 'x', {}, { ...proof, v: 'cp0' }, { ...proof, sig: 'AAAA' }]) {
      await expect(verifyCallProof(aliceKey.ecdsa, ctx, sdp(FP_A), bad)).resolves.toBe(false);
    }
  });

  it('signs nothing without a fingerprint', async () => {
    await expect(signCallProof(alice.ecdsa.privateKey, ctx, 'v=0\r\n')).rejects.toThrow(/fingerprint/);
  });
});

describe('callVerifier', () => {
  const session = (me: DeviceIdentity, id: string, keys: Record<string, PublicBundle>): CallAuthSession => ({
    room: 'lobby',
    id,
    identity: me,
    memberKey: (peerId) => keys[peerId],
  });

  it('signs for the peer and verifies against the member key as the page knows it', async () => {
    const bob = await generateDeviceIdentity();
    const refused: string[] = [];
    const a = callVerifier(() => session(alice, 'sock-alice', {}));
    const b = callVerifier(() => session(bob, 'sock-bob', { 'sock-alice': aliceKey }), {
      memberWaitMs: 0,
      onRefused: (peer, reason) => refused.push(`${peer}:${reason}`),
    });
    const offer = { type: 'offer' as const, sdp: sdp(FP_A) };
    const proof = await a.sign('sock-bob', offer);
    await expect(b.verify('sock-alice', offer, proof)).resolves.toBe(true);
    await expect(b.verify('sock-alice', { type: 'offer', sdp: sdp(FP_B) }, proof)).resolves.toBe(false);
    await expect(b.verify('sock-carol', offer, proof)).resolves.toBe(false);
    expect(refused).toEqual(['sock-alice:bad-proof', 'sock-carol:unknown-member']);
  });

  it('signs and checks nothing outside member-keys mode', async () => {
    const v = callVerifier(() => null);
    await expect(v.sign('x', { type: 'offer', sdp: sdp(FP_A) })).resolves.toBeUndefined();
    await expect(v.verify('x', { type: 'offer', sdp: sdp(FP_B) }, undefined)).resolves.toBe(true);
  });
});
