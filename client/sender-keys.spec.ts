import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DirectMessage, RoomMessage, User } from '../src/common/events.js';
import { base64ToBytes, bytesToBase64 } from './crypto.js';
import {
  generateDeviceIdentity,
  loadOrCreateIdentity,
  memoryIdentityStore,
  newLoginSession,
  parseBundle,
  type DeviceIdentity,
  type PublicBundle,
} from './identity-bundle.js';
import { KeysRoom, memoryTrustStore } from './keys-room.js';
import { InboundChain, OutboundChain } from './ratchet.js';
import {
  createChainShare,
  createKeyShare,
  decryptChainEnvelope,
  generateSenderKey,
  openChainShare,
  openKeyShare,
  openMessage,
  parseEnvelope,
  sealMessage,
  verifyEnvelope,
  type KeyShare,
  type ParsedEnvelope,
  type SenderKey,
} from './sender-keys.js';

const room = 'garden';
let alice: DeviceIdentity;
let bob: DeviceIdentity;
let eve: DeviceIdentity;
let aliceB: PublicBundle;
let bobB: PublicBundle;

beforeAll(async () => {
  [alice, bob, eve] = await Promise.all([generateDeviceIdentity(), generateDeviceIdentity(), generateDeviceIdentity()]);
  aliceB = (await parseBundle(alice.bundle))!;
  bobB = (await parseBundle(bob.bundle))!;
});

/** Flip one character of a base64 field, keeping it valid base64. */
function flip(b64: string, at = 2): string {
  const bytes = base64ToBytes(b64)!;
  bytes[at] ^= 1;
  return bytesToBase64(bytes);
}

describe('identity bundle', () => {
  it('is versioned, fits publicKey, round-trips, and its fingerprint covers both keys', async () => {
    expect(alice.bundle).toMatch(
      /^k2\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+\.[0-9a-f]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/,
    );
    expect(alice.bundle.length).toBeLessThanOrEqual(2048);
    expect(aliceB.fingerprint).toBe(alice.fingerprint);
    expect(aliceB.session?.id).toBe(alice.session?.id);
    expect(alice.fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
    const [, ecdh, ecdsa] = alice.bundle.split('.');
    const [, , otherEcdsa] = bob.bundle.split('.');
    const mixed = await parseBundle(`k1.${ecdh}.${otherEcdsa}`);
    expect(mixed).not.toBeNull();
    expect(mixed!.fingerprint).not.toBe(alice.fingerprint);
    expect(ecdsa).not.toBe(otherEcdsa);
  });

  it('keeps the private keys non-extractable', () => {
    expect(alice.ecdh.privateKey.extractable).toBe(false);
    expect(alice.ecdsa.privateKey.extractable).toBe(false);
  });

  it('refuses what is not a k1 bundle', async () => {
    for (const bad of [
      undefined,
      '',
      'k1',
      'k2.a.b',
      `k1.${alice.bundle.split('.')[1]}`,
      'k1.!!!.###',
      'k1.AAAA.AAAA',
      alice.bundle.split('.')[1],
    ]) {
      expect(await parseBundle(bad)).toBeNull();
    }
  });

  it('is loaded again from its store', async () => {
    const store = memoryIdentityStore();
    const first = await loadOrCreateIdentity(store);
    const again = await loadOrCreateIdentity(store);
    // The same device keys and fingerprint; a fresh login session each time.
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.bundle.split('.').slice(0, 3)).toEqual(first.bundle.split('.').slice(0, 3));
    expect(again.session!.id).not.toBe(first.session!.id);
    expect((await loadOrCreateIdentity(memoryIdentityStore())).fingerprint).not.toBe(first.fingerprint);
  });
});

describe('key shares', () => {
  let key: SenderKey;
  let share: KeyShare;
  const me = () => ({ identity: bob, name: 'bob', room });
  const from = () => ({ name: 'alice', bundle: aliceB });

  beforeAll(async () => {
    key = await generateSenderKey();
    share = await createKeyShare(key, { identity: alice, name: 'alice' }, { name: 'bob', bundle: bobB }, room);
  });

  it('wraps and unwraps: the recipient gets the same key', async () => {
    expect(share).toMatchObject({ v: 'ks1', room, from: 'alice', to: 'bob', keyId: key.id });
    const opened = await openKeyShare(JSON.parse(JSON.stringify(share)), me(), from());
    expect(opened.ok).toBe(true);
    if (opened.ok) {
      expect(opened.key.id).toBe(key.id);
      expect(bytesToBase64(opened.key.raw)).toBe(bytesToBase64(key.raw));
    }
    expect(share.wrapped).not.toContain(bytesToBase64(key.raw).slice(0, 10));
  });

  it('fails for another recipient, a tampered field, or a signature by another key', async () => {
    expect((await openKeyShare(share, { identity: eve, name: 'bob', room }, from())).ok).toBe(false); // eve posing as bob
    expect(await openKeyShare(share, { identity: bob, name: 'bob', room: 'other' }, from())).toEqual({
      ok: false,
      reason: 'misaddressed',
    });
    expect(await openKeyShare(share, me(), { name: 'mallory', bundle: aliceB })).toEqual({
      ok: false,
      reason: 'misaddressed',
    });
    expect(await openKeyShare({ ...share, wrapped: flip(share.wrapped) }, me(), from())).toEqual({
      ok: false,
      reason: 'unverified',
    });
    expect(await openKeyShare({ ...share, sig: flip(share.sig) }, me(), from())).toEqual({
      ok: false,
      reason: 'unverified',
    });
    expect(await openKeyShare({ ...share, keyId: '0123456789abcdef' }, me(), from())).toEqual({
      ok: false,
      reason: 'unverified',
    });
    // Claimed to be alice's, but signed by eve.
    const forged = await createKeyShare(key, { identity: eve, name: 'alice' }, { name: 'bob', bundle: bobB }, room);
    expect(await openKeyShare(forged, me(), from())).toEqual({ ok: false, reason: 'unverified' });
    for (const bad of [null, 'x', { ...share, v: 'ks2' }, { ...share, keyId: 'short' }]) {
      expect(await openKeyShare(bad, me(), from())).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});

describe('message envelopes', () => {
  let key: SenderKey;
  let otherKey: SenderKey;
  const ctx = { room, sender: 'alice' };
  beforeAll(async () => {
    [key, otherKey] = await Promise.all([generateSenderKey(), generateSenderKey()]);
  });

  it('seal and open round-trip, with a fresh IV each time', async () => {
    const text = 'meet at 7 🔑';
    const a = await sealMessage(key, alice.ecdsa.privateKey, ctx, text);
    const b = await sealMessage(key, alice.ecdsa.privateKey, ctx, text);
    expect(a).toMatch(/^s1\.[0-9a-f]{16}\.[A-Za-z0-9+/=]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(a.split('.')[1]).toBe(key.id);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(await openMessage(a, ctx, aliceB.ecdsa, key)).toEqual({ ok: true, text });
    const parsed = parseEnvelope(a);
    expect('error' in parsed).toBe(false);
  });

  it('tampered ciphertext, signature, key id or additional data fail; so does another key or signer', async () => {
    const env = await sealMessage(key, alice.ecdsa.privateKey, ctx, 'hello');
    const [v, id, iv, ct, sig] = env.split('.');
    expect(await openMessage([v, id, iv, flip(ct!), sig].join('.'), ctx, aliceB.ecdsa, key)).toEqual({
      ok: false,
      reason: 'unverified',
    });
    expect(await openMessage([v, id, iv, ct, flip(sig!)].join('.'), ctx, aliceB.ecdsa, key)).toEqual({
      ok: false,
      reason: 'unverified',
    });
    expect(await openMessage([v, otherKey.id, iv, ct, sig].join('.'), ctx, aliceB.ecdsa, key)).toEqual({
      ok: false,
      reason: 'unverified',
    });
    // Another room or sender name (the server re-attributing it): additional data differs.
    expect(await openMessage(env, { room: 'elsewhere', sender: 'alice' }, aliceB.ecdsa, key)).toEqual({
      ok: false,
      reason: 'unverified',
    });
    expect(await openMessage(env, { room, sender: 'bob' }, aliceB.ecdsa, key)).toEqual({
      ok: false,
      reason: 'unverified',
    });
    // Verified, but the key is another member's: no plaintext.
    expect(await openMessage(env, ctx, aliceB.ecdsa, otherKey)).toEqual({ ok: false, reason: 'undecryptable' });
    expect(await openMessage(env, ctx, aliceB.ecdsa, { ...otherKey, id: key.id })).toEqual({
      ok: false,
      reason: 'undecryptable',
    });
    // Signed by someone else's ECDSA key.
    const byEve = await sealMessage(key, eve.ecdsa.privateKey, ctx, 'hello');
    expect(await openMessage(byEve, ctx, aliceB.ecdsa, key)).toEqual({ ok: false, reason: 'unverified' });
  });

  it('names malformed and other-version envelopes', async () => {
    expect(await openMessage('plain text', ctx, aliceB.ecdsa, key)).toEqual({ ok: false, reason: 'malformed' });
    expect(await openMessage('p1.AAAA.BBBB', ctx, aliceB.ecdsa, key)).toEqual({
      ok: false,
      reason: 'unsupported-version',
    });
    expect(await openMessage('s1.zz.AAAA.BBBB.CCCC', ctx, aliceB.ecdsa, key)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(await openMessage(42, ctx, aliceB.ecdsa, key)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('KeysRoom', () => {
  /** An in-memory room: `direct` items go straight to the recipient's KeysRoom. */
  function harness() {
    const rooms = new Map<string, KeysRoom>();
    const users: User[] = [];
    const sent: Array<{ from: string; to: string }> = [];
    let clock = 1000;
    const add = (name: string, identity: DeviceIdentity) => {
      const user: User = { id: `id-${name}-${clock}`, name, room, publicKey: identity.bundle, joinedAt: clock++ };
      const kr = new KeysRoom({
        identity,
        user,
        trust: memoryTrustStore(),
        holdMs: 300,
        transport: {
          direct: async (items) => {
            const at = clock++;
            for (const it of items) {
              sent.push({ from: user.name, to: it.to });
              const msg: DirectMessage = { from: user.name, fromId: user.id, room, payload: it.payload, at };
              void rooms.get(it.to)?.receiveDirect(msg);
            }
            return { at };
          },
        },
      });
      rooms.set(user.id, kr);
      users.push(user);
      return { user, kr };
    };
    const sync = () =>
      Promise.all(
        [...rooms.entries()]
          .filter(([id]) => users.some((u) => u.id === id))
          .map(([, r]) => r.updateMembers([...users])),
      );
    const leave = (id: string) => {
      users.splice(
        users.findIndex((u) => u.id === id),
        1,
      );
      rooms.get(id)?.close();
    };
    const message = async (from: { user: User; kr: KeysRoom }, text: string): Promise<RoomMessage> => ({
      id: String(clock),
      room,
      message: await from.kr.encrypt(text),
      from: from.user.name,
      fromId: from.user.id,
      offset: clock,
      epoch: 'e',
      at: clock++,
    });
    return { add, sync, leave, message, sent };
  }

  it('members read each other; a leaver cannot read what follows; a newcomer cannot read what came before', async () => {
    const h = harness();
    const a = h.add('alice', alice);
    const b = h.add('bob', bob);
    await h.sync();
    const m1 = await h.message(a, 'one');
    expect(await b.kr.open(m1)).toEqual({ ok: true, text: 'one' });
    expect(await a.kr.open(m1)).toEqual({ ok: true, text: 'one' });

    const c = h.add('carol', eve);
    await h.sync();
    expect(await c.kr.open(m1)).toEqual({ ok: false, reason: 'before-join' });
    const m2 = await h.message(b, 'two');
    expect(await c.kr.open(m2)).toEqual({ ok: true, text: 'two' });
    // Alice's key reaches carol as a direct message the harness does not wait for: opening
    // a message of alice's waits until it has arrived.
    const m2a = await h.message(a, 'two, from alice');
    expect(await c.kr.open(m2a)).toEqual({ ok: true, text: 'two, from alice' });

    const carolKeys = c.kr.heldKeys();
    expect(carolKeys.length).toBe(2);
    h.leave(c.user.id);
    await h.sync();
    const m3 = await h.message(a, 'three');
    expect(await b.kr.open(m3)).toEqual({ ok: true, text: 'three' });
    expect(carolKeys.map((k) => k.keyId)).not.toContain(m3.message.split('.')[1]);
    expect(a.kr.rotations).toBe(1);
  });

  it('a rejoin under a new socket keeps reading what the old one could, its own messages included', async () => {
    const h = harness();
    const a = h.add('alice', alice);
    const b = h.add('bob', bob);
    await h.sync();
    const fromAlice = await h.message(a, 'before the drop');
    const fromBob = await h.message(b, 'mine, before the drop');
    // What the old socket could read: alice's key travels as a direct message, so this also
    // waits until it has arrived (the harness hands it over without waiting for it).
    expect(await b.kr.open(fromAlice)).toEqual({ ok: true, text: 'before the drop' });
    expect(await b.kr.open(fromBob)).toEqual({ ok: true, text: 'mine, before the drop' });
    // bob's connection drops; the same device logs in again as a new socket.
    h.leave(b.user.id);
    const b2 = h.add('bob', bob);
    b2.kr.adopt(b.kr);
    await h.sync();
    expect(await b2.kr.open(fromAlice)).toEqual({ ok: true, text: 'before the drop' });
    expect(await b2.kr.open(fromBob)).toEqual({ ok: true, text: 'mine, before the drop' });
    const after = await h.message(a, 'after');
    expect(await b2.kr.open(after)).toEqual({ ok: true, text: 'after' });
    // Without adopting, the earlier messages are from before this socket joined.
    const fresh = new KeysRoom({
      identity: bob,
      user: { ...b2.user, id: 'fresh' },
      transport: { direct: async () => ({}) },
      holdMs: 100,
    });
    await fresh.updateMembers([a.user]);
    expect(await fresh.open(fromAlice)).toEqual({ ok: false, reason: 'before-join' });
  });

  it('holds a message until its key arrives; flags a changed bundle for a known name', async () => {
    const h = harness();
    const a = h.add('alice', alice);
    const b = h.add('bob', bob);
    await a.kr.updateMembers([a.user, b.user]); // alice shares first; bob has not seen the list yet
    const m = await h.message(a, 'early');
    const pending = b.kr.open(m);
    await b.kr.updateMembers([a.user, b.user]);
    expect(await pending).toEqual({ ok: true, text: 'early' });
    expect(b.kr.member(a.user.id)?.trust).toBe('new');

    // Bob (same trust store) sees "alice" again with a different identity.
    const trust = memoryTrustStore();
    const watcher = new KeysRoom({
      identity: bob,
      user: { ...b.user, id: 'w' },
      trust,
      transport: { direct: async () => ({}) },
    });
    await watcher.updateMembers([a.user]);
    expect(watcher.member(a.user.id)?.trust).toBe('new');
    const impostor = { ...a.user, id: 'other', publicKey: eve.bundle };
    await watcher.updateMembers([impostor]);
    expect(watcher.member('other')?.trust).toBe('changed');
  });
});

describe('version 2: chain shares and chain messages', () => {
  const ctx = { room, sender: 'alice' };

  it('a ks2 share opens only for the recipient session it names; every field is signed; the chain key is committed', async () => {
    const chain = OutboundChain.create();
    await chain.next();
    const snap = await chain.snapshot();
    const share = await createChainShare(snap, { identity: alice, name: 'alice' }, { name: 'bob', bundle: bobB }, room);
    expect(share).toMatchObject({ v: 'ks2', room, from: 'alice', to: 'bob', toSession: bob.session!.id, index: 1 });
    const me = { identity: bob, name: 'bob', room };
    const from = { name: 'alice', bundle: aliceB };
    const opened = await openChainShare(JSON.parse(JSON.stringify(share)), me, from);
    expect(opened.ok && bytesToBase64(opened.snapshot.chainKey)).toBe(bytesToBase64(snap.chainKey));
    // Another login session of the same device: refused before anything else.
    const bobLater = await newLoginSession(bob);
    expect(await openChainShare(share, { ...me, identity: bobLater }, from)).toEqual({
      ok: false,
      reason: 'stale-session',
    });
    for (const tampered of [
      { ...share, index: 0 },
      { ...share, chain: '0123456789abcdef' },
      { ...share, commit: flip(share.commit) },
      { ...share, ct: flip(share.ct) },
      { ...share, enc: flip(share.enc, 20) },
    ]) {
      expect(await openChainShare(tampered, me, from)).toEqual({ ok: false, reason: 'unverified' });
    }
    // Signed by alice over a commitment that is not the chain key's: refused after unwrapping.
    const other = OutboundChain.create();
    const otherSnap = await other.snapshot();
    const honest = await createChainShare(
      otherSnap,
      { identity: alice, name: 'alice' },
      { name: 'bob', bundle: bobB },
      room,
    );
    const lying = { ...honest, commit: share.commit };
    const { sig: _s, ...unsigned } = lying;
    const resigned = new Uint8Array(
      await crypto.subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        alice.ecdsa.privateKey,
        new TextEncoder().encode(
          JSON.stringify([
            'ks2',
            room,
            'alice',
            'bob',
            unsigned.toSession,
            unsigned.chain,
            unsigned.index,
            unsigned.enc,
            unsigned.ct,
            unsigned.commit,
          ]),
        ),
      ),
    );
    expect(await openChainShare({ ...lying, sig: bytesToBase64(resigned) }, me, from)).toEqual({
      ok: false,
      reason: 'undecryptable',
    });
  });

  it('an s2 envelope carries chain, index and commitment under the signature; a wrong commitment is refused', async () => {
    const chain = OutboundChain.create();
    const snap = await chain.snapshot();
    const env = await sealMessage(chain, alice.ecdsa.privateKey, ctx, 'indexed');
    expect(env).toMatch(
      /^s2\.[0-9a-f]{16}\.0\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/]{43}=\.[A-Za-z0-9+/=]+$/,
    );
    const parsed = parseEnvelope(env) as ParsedEnvelope;
    expect(parsed).toMatchObject({ version: 's2', keyId: chain.id, index: 0 });
    expect(await verifyEnvelope(parsed, ctx, aliceB.ecdsa)).toBe(true);
    const inbound = InboundChain.fromSnapshot(snap);
    const good = await inbound.open(0, async (keys) => {
      const r = await decryptChainEnvelope(parsed, ctx, keys);
      // The same AES key with another commitment: refused (AES-GCM alone does not commit).
      expect(await decryptChainEnvelope(parsed, ctx, { ...keys, commitment: new Uint8Array(32) })).toEqual({
        ok: false,
        reason: 'undecryptable',
      });
      return r.ok ? r.text : null;
    });
    expect(good).toMatchObject({ ok: true, value: 'indexed' });
    for (const bad of [env.replace(/^s2/, 's3'), env.split('.').slice(0, 6).join('.'), env.replace('.0.', '.00.')]) {
      const p = parseEnvelope(bad);
      expect('error' in p).toBe(true);
    }
  });
});
