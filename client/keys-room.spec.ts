/**
 * Attacks on the "keys" room mode (issue 25), each against KeysRoom as a page drives it.
 * The server is the attacker here: it records and replays `direct` payloads and room
 * messages, withholds or refuses shares, and publishes bundles. Each spec fails on the
 * version-1 KeysRoom (one sender key per membership, static-static shares).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DirectMessage, RoomMessage, User } from '../src/common/events.js';
import { base64ToBytes } from './crypto.js';
import { hpkeOpen } from './hpke.js';
import {
  generateDeviceIdentity,
  loadOrCreateIdentity,
  memoryIdentityStore,
  type DeviceIdentity,
  type IdentityStore,
} from './identity-bundle.js';
import { KeysRoom, memoryTrustStore, type KeysRoomOptions, type TrustStore } from './keys-room.js';
import { memoryRatchetStore, type RatchetStore } from './ratchet.js';

const room = 'garden';
let alice: DeviceIdentity;
let bob: DeviceIdentity;
let carol: DeviceIdentity;
let eve: DeviceIdentity;

beforeAll(async () => {
  [alice, bob, carol, eve] = await Promise.all([
    generateDeviceIdentity(),
    generateDeviceIdentity(),
    generateDeviceIdentity(),
    generateDeviceIdentity(),
  ]);
});

const tick = () => new Promise((r) => setTimeout(r, 5));

interface Peer {
  user: User;
  kr: KeysRoom;
  /** Every `direct` this peer received (what a recording server keeps). */
  inbox: DirectMessage[];
}

/**
 * An in-memory server: `direct` items go to the recipient's KeysRoom (unless `drop` says
 * otherwise, or `refuse` makes the request fail); room messages are made by `message`.
 */
function server() {
  const peers = new Map<string, Peer>();
  const users: User[] = [];
  const directs: Array<{ from: string; to: string; payload: unknown }> = [];
  let clock = 1000;
  const ctl = {
    drop: (_from: string, _to: string, _payload: unknown) => false,
    refuse: [] as string[],
  };
  const add = (name: string, identity: DeviceIdentity, options: Partial<KeysRoomOptions> = {}): Peer => {
    const user: User = { id: `id-${name}-${clock}`, name, room, publicKey: identity.bundle, joinedAt: clock++ };
    const peer: Peer = { user, inbox: [], kr: undefined as unknown as KeysRoom };
    peer.kr = new KeysRoom({
      identity,
      user,
      trust: memoryTrustStore(),
      holdMs: 200,
      retryDelaysMs: [20, 40, 80],
      requestIntervalMs: 50,
      ...options,
      transport: {
        direct: async (items) => {
          const code = ctl.refuse.shift();
          if (code) throw Object.assign(new Error(code), { code });
          const at = clock++;
          for (const it of items) {
            directs.push({ from: user.name, to: it.to, payload: it.payload });
            const msg: DirectMessage = { from: user.name, fromId: user.id, room, payload: it.payload, at };
            const to = peers.get(it.to);
            if (!to || ctl.drop(user.name, to.user.name, it.payload)) continue;
            to.inbox.push(msg);
            void to.kr.receiveDirect(msg);
          }
          return { at };
        },
      },
    });
    peers.set(user.id, peer);
    users.push(user);
    return peer;
  };
  const sync = async () => {
    await Promise.all(users.map((u) => peers.get(u.id)!.kr.updateMembers([...users])));
    await tick();
  };
  const leave = (p: Peer) => {
    users.splice(users.indexOf(p.user), 1);
    p.kr.close();
  };
  const message = async (from: Peer, text: string): Promise<RoomMessage> => ({
    id: `m${clock}`,
    room,
    message: await from.kr.encrypt(text),
    from: from.user.name,
    fromId: from.user.id,
    offset: clock,
    epoch: 'e',
    at: clock++,
  });
  /** The same message, relayed again by the server as if new. */
  const replay = (m: RoomMessage): RoomMessage => ({ ...m, id: `m${clock}`, offset: clock, at: clock++ });
  const holds = (p: Peer, from: Peer) => p.kr.heldKeys().some((k) => k.fromId === from.user.id);
  return { add, sync, leave, message, replay, holds, directs, ctl, now: () => clock };
}

async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await tick();
  }
}

describe('a newcomer reads from its join on, never before', () => {
  it('a retained message sent before the share stays unreadable after the share is processed', async () => {
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    await s.sync();
    const early = await s.message(a, 'secret sent before carol joined');
    expect(await b.kr.open(early)).toEqual({ ok: true, text: 'secret sent before carol joined' });

    const c = s.add('carol', carol);
    await s.sync();
    await until(() => s.holds(c, a), "carol holds alice's chain");
    // The server hands carol the retained message only now, after the share: still unreadable.
    expect(await c.kr.open(early)).toEqual({ ok: false, reason: 'before-join' });
    // Also when the page re-renders history, and when the server relays it as if new.
    expect(await c.kr.open(early)).toEqual({ ok: false, reason: 'before-join' });
    expect(await c.kr.open({ ...s.replay(early), at: s.now() })).toEqual({ ok: false, reason: 'before-join' });
    const later = await s.message(a, 'welcome carol');
    expect(await c.kr.open(later)).toEqual({ ok: true, text: 'welcome carol' });
  });

  it('a leaver cannot read what follows; the others rotate', async () => {
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    const c = s.add('carol', carol);
    await s.sync();
    await until(() => s.holds(c, a), "carol holds alice's chain");
    const carolHeld = c.kr.heldKeys();
    s.leave(c);
    await s.sync();
    const after = await s.message(a, 'carol is gone');
    expect(await b.kr.open(after)).toEqual({ ok: true, text: 'carol is gone' });
    expect(carolHeld.map((k) => k.keyId)).not.toContain(after.message.split('.')[1]);
    expect(a.kr.rotations).toBe(1);
  });
});

describe('replays and gaps', () => {
  it('a message relayed again is refused as a replay; the same message re-rendered shows the same text', async () => {
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    await s.sync();
    const m = await s.message(a, 'transfer 100 coins');
    expect(await b.kr.open(m)).toEqual({ ok: true, text: 'transfer 100 coins' });
    expect(await b.kr.open(m)).toEqual({ ok: true, text: 'transfer 100 coins' });
    expect(await b.kr.open(s.replay(m))).toEqual({ ok: false, reason: 'replay' });
    // Own messages too: the sender reads its own back, and refuses a copy.
    expect(await a.kr.open(m)).toEqual({ ok: true, text: 'transfer 100 coins' });
  });

  it("another socket presenting a member's recorded bundle cannot replay its share or its messages", async () => {
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    await s.sync();
    await until(() => s.holds(b, a), "bob holds alice's chain");
    const share = b.inbox.find((d) => d.fromId === a.user.id)!;
    const m = await s.message(a, 'transfer 100 coins');
    expect(await b.kr.open(m)).toEqual({ ok: true, text: 'transfer 100 coins' });
    // alice leaves; a raw socket logs in as "alice" with her published bundle (same
    // fingerprint: "known") and sends what it recorded, as its own.
    s.leave(a);
    await s.sync();
    const fake: User = { ...a.user, id: 'id-raw-socket', joinedAt: s.now() };
    await b.kr.updateMembers([b.user, fake]);
    expect(b.kr.member(fake.id)).toMatchObject({ trust: 'known' });
    expect(await b.kr.receiveDirect({ ...share, fromId: fake.id, at: s.now() })).toBe(false);
    expect(await b.kr.open({ ...s.replay(m), fromId: fake.id })).toEqual({ ok: false, reason: 'replay' });
  });

  it('a withheld message shows as a gap in the next one, and opens late once', async () => {
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    await s.sync();
    const m1 = await s.message(a, 'one');
    const m2 = await s.message(a, 'two');
    const m3 = await s.message(a, 'three');
    expect(await b.kr.open(m1)).toEqual({ ok: true, text: 'one' });
    expect(await b.kr.open(m3)).toEqual({ ok: true, text: 'three', gap: 1 });
    expect(await b.kr.open(m2)).toEqual({ ok: true, text: 'two', late: true });
    expect(await b.kr.open(s.replay(m2))).toEqual({ ok: false, reason: 'replay' });
  });

  it('an index changed in transit fails the signature', async () => {
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    await s.sync();
    const m = await s.message(a, 'hello');
    const parts = m.message.split('.');
    parts[2] = String(Number(parts[2]) + 1);
    expect(await b.kr.open({ ...m, message: parts.join('.') })).toEqual({ ok: false, reason: 'unverified' });
  });
});

describe('shares bound to the recipient login session', () => {
  /** bob in two logins from one device (a reload): the server records the first. */
  async function twoLogins() {
    const store: IdentityStore = memoryIdentityStore();
    const bob1 = await loadOrCreateIdentity(store);
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob1);
    await s.sync();
    await until(() => s.holds(b, a), "bob holds alice's chain");
    const recorded = b.inbox.filter((d) => d.fromId === a.user.id);
    const m = await s.message(a, 'said during the first login');
    expect(await b.kr.open(m)).toEqual({ ok: true, text: 'said during the first login' });
    return { s, a, b, recorded, m, store, first: bob1 };
  }

  it('a share recorded in an earlier session and replayed into a later one is refused, and so are its messages', async () => {
    const { s, a, b, recorded, m, store } = await twoLogins();
    // bob reloads the page: same device keys, a new login. The server replays what it recorded.
    const bob2 = await loadOrCreateIdentity(store);
    expect(bob2.fingerprint).toBe((await loadOrCreateIdentity(store)).fingerprint);
    const user: User = { ...b.user, id: 'id-bob-again', publicKey: bob2.bundle, joinedAt: s.now() };
    const later = new KeysRoom({ identity: bob2, user, holdMs: 100, transport: { direct: async () => ({}) } });
    await later.updateMembers([a.user, user]);
    expect(recorded.length).toBeGreaterThan(0);
    for (const d of recorded) expect(await later.receiveDirect({ ...d, at: s.now() })).toBe(false);
    expect(later.heldKeys()).toEqual([]);
    const replayed = s.replay(m);
    expect((await later.open(replayed)).ok).toBe(false);
  });

  it('a later theft of the device keys does not open recorded shares', async () => {
    const { recorded, store, first } = await twoLogins();
    const share = recorded[0]!.payload as Record<string, string | number>;
    const enc = base64ToBytes(share.enc as string)!;
    const ct = base64ToBytes(share.ct as string)!;
    const utf8 = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const info = utf8(['ks2', share.room, share.from, share.to, share.toSession]);
    const aad = utf8(['ks2', share.chain, share.index, share.commit]);
    const open = (key: CryptoKey) => hpkeOpen(enc, key, first.session!.publicRaw, info, aad, ct);
    // Control: the first login's session key opens it (and it is gone once that page is).
    expect(await open(first.session!.keyPair.privateKey)).not.toBeNull();
    // The thief has the stored device key pairs and can log in as a new session: none opens it.
    const stolen = (await store.load())!;
    const thief = await loadOrCreateIdentity(store);
    for (const key of [stolen.ecdh.privateKey, thief.ecdh.privateKey, thief.session!.keyPair.privateKey]) {
      expect(await open(key)).toBeNull();
    }
    const user: User = { id: 'thief', name: 'bob', room, publicKey: thief.bundle, joinedAt: 0 };
    const kr = new KeysRoom({ identity: thief, user, holdMs: 50, transport: { direct: async () => ({}) } });
    const sender: User = { id: recorded[0]!.fromId, name: 'alice', room, publicKey: alice.bundle, joinedAt: 0 };
    await kr.updateMembers([sender, user]);
    for (const d of recorded) expect(await kr.receiveDirect(d)).toBe(false);
    expect(kr.heldKeys()).toEqual([]);
  });
});

describe('key changes', () => {
  async function changedBob(options: Partial<KeysRoomOptions>, trust: TrustStore = memoryTrustStore()) {
    const s = server();
    const a = s.add('alice', alice, { trust, ...options });
    const b = s.add('bob', bob);
    await s.sync();
    expect(a.kr.member(b.user.id)).toMatchObject({ trust: 'new' });
    s.leave(b);
    await s.sync();
    // Someone logs in as "bob" from another device (or the server publishes its own bundle).
    const impostor = s.add('bob', eve);
    await s.sync();
    return { s, a, b, impostor, trust };
  }

  it('a name seen for the first time is marked so; the same key again is known', async () => {
    const trust = memoryTrustStore();
    const s = server();
    const a = s.add('alice', alice, { trust });
    const b = s.add('bob', bob);
    await s.sync();
    expect(a.kr.member(b.user.id)).toMatchObject({ trust: 'new', firstSeen: true });
    s.leave(b);
    await s.sync();
    const again = s.add('bob', bob);
    await s.sync();
    expect(a.kr.member(again.user.id)!.firstSeen).toBeUndefined();
    expect(a.kr.member(again.user.id)).toMatchObject({ trust: 'known' });
  });

  it("with keyChanges 'hold', a changed key gets no chain and is not remembered until accepted", async () => {
    const { s, a, b, impostor, trust } = await changedBob({ keyChanges: 'hold' });
    const bobFp = a.kr.member(b.user.id)!.fingerprint;
    expect(a.kr.member(impostor.user.id)).toMatchObject({ trust: 'changed', held: true, previousFingerprint: bobFp });
    expect(s.directs.filter((d) => d.from === 'alice' && d.to === impostor.user.id)).toEqual([]);
    expect(s.holds(impostor, a)).toBe(false);
    expect(trust.get(room, 'bob')).toBe(bobFp);

    // The real bob comes back: known, and given the chain.
    s.leave(impostor);
    await s.sync();
    const real = s.add('bob', bob);
    await s.sync();
    expect(a.kr.member(real.user.id)).toMatchObject({ trust: 'known' });
    await until(() => s.holds(real, a), "the real bob holds alice's chain");
  });

  it('accepting a held key remembers it and shares the chain at its current index', async () => {
    const { s, a, impostor, trust } = await changedBob({ keyChanges: 'hold' });
    const before = await s.message(a, 'before acceptance');
    expect(await a.kr.accept(impostor.user.id)).toBe(true);
    await until(() => s.holds(impostor, a), 'the accepted key holds the chain');
    expect(trust.get(room, 'bob')).toBe(a.kr.member(impostor.user.id)!.fingerprint);
    expect(await impostor.kr.open(before)).toEqual({ ok: false, reason: 'before-join' });
    const after = await s.message(a, 'after acceptance');
    expect(await impostor.kr.open(after)).toEqual({ ok: true, text: 'after acceptance' });
  });

  it('a verified key that changes stops sending until accepted (whatever the policy)', async () => {
    const trust = memoryTrustStore();
    const s = server();
    const a = s.add('alice', alice, { trust });
    const b = s.add('bob', bob);
    await s.sync();
    expect(a.kr.markVerified(b.user.id)).toBe(true);
    expect(await a.kr.safetyNumber(b.user.id)).toBe(await b.kr.safetyNumber(a.user.id));
    s.leave(b);
    await s.sync();
    const impostor = s.add('bob', eve);
    await s.sync();
    expect(a.kr.member(impostor.user.id)).toMatchObject({ trust: 'changed', held: true });
    expect(a.kr.sendingBlocked).toBe(true);
    await expect(a.kr.encrypt('to a verified bob only')).rejects.toMatchObject({ code: 'KEY_CHANGE_BLOCKED' });
    expect(s.holds(impostor, a)).toBe(false);
    await a.kr.accept(impostor.user.id);
    expect(a.kr.sendingBlocked).toBe(false);
    expect(a.kr.member(impostor.user.id)!.verified).toBe(false);
    const m = await s.message(a, 'accepted');
    await until(() => s.holds(impostor, a), 'the accepted key holds the chain');
    expect(await impostor.kr.open(m)).toEqual({ ok: true, text: 'accepted' });
  });

  it("by default ('warn') a changed key is flagged and shared with, as before", async () => {
    const { s, a, impostor } = await changedBob({});
    expect(a.kr.member(impostor.user.id)).toMatchObject({ trust: 'changed' });
    expect(a.kr.member(impostor.user.id)!.held).toBeFalsy();
    await until(() => s.holds(impostor, a), 'shared');
  });
});

describe('lost and refused shares', () => {
  it('a member that lacks a chain asks for it, and gets the share it should have had', async () => {
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    let dropped = 0;
    s.ctl.drop = (from, to, payload) =>
      from === 'alice' && to === 'bob' && (payload as { v?: string }).v === 'ks2' && dropped++ === 0;
    await s.sync();
    expect(dropped).toBe(1);
    expect(s.holds(b, a)).toBe(false);
    const m = await s.message(a, 'did you get my key?');
    expect(await b.kr.open(m)).toEqual({ ok: true, text: 'did you get my key?' });
    expect(s.directs.some((d) => d.from === 'bob' && (d.payload as { v?: string }).v === 'kr1')).toBe(true);
  });

  it('a share refused with RATE_LIMITED or UNAVAILABLE is sent again with backoff', async () => {
    const s = server();
    s.ctl.refuse.push('RATE_LIMITED', 'UNAVAILABLE');
    const a = s.add('alice', alice);
    const b = s.add('bob', bob);
    await s.sync();
    await until(() => s.holds(b, a) && s.holds(a, b), 'both hold the other chain after retries');
    const m = await s.message(a, 'made it');
    expect(await b.kr.open(m)).toEqual({ ok: true, text: 'made it' });
    expect(a.kr.failedShares).toEqual([]);
  });
});

describe('ratchet state kept in a RatchetStore (a reload, a rejoin)', () => {
  /** bob's device keeps its state in `store`; a reload is a new KeysRoom, new session and socket. */
  async function reload(store: RatchetStore, identities: IdentityStore, user: User, now: number) {
    const identity = await loadOrCreateIdentity(identities);
    const again: User = { ...user, id: `${user.id}-again`, publicKey: identity.bundle, joinedAt: now };
    const kr = new KeysRoom({ identity, user: again, store, holdMs: 100, transport: { direct: async () => ({}) } });
    await kr.ready;
    return kr;
  }

  it('a reload keeps reading from the original join on, own messages included; replays stay refused', async () => {
    const store = memoryRatchetStore();
    const identities = memoryIdentityStore();
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', await loadOrCreateIdentity(identities), { store });
    await s.sync();
    const fromAlice = await s.message(a, 'before the reload');
    const fromBob = await s.message(b, 'mine, before the reload');
    expect(await b.kr.open(fromAlice)).toEqual({ ok: true, text: 'before the reload' });
    const unread = await s.message(a, 'sent while bob was reloading');
    s.leave(b);
    const kr = await reload(store, identities, b.user, s.now());
    // History re-rendered after the reload: the same texts, own message included.
    expect(await kr.open(fromAlice)).toEqual({ ok: true, text: 'before the reload' });
    expect(await kr.open(fromBob)).toEqual({ ok: true, text: 'mine, before the reload' });
    // One it had not opened yet, of a chain it held: it reads it.
    expect(await kr.open(unread)).toEqual({ ok: true, text: 'sent while bob was reloading' });
    // Replays are still refused, and nothing kept is plaintext of another room.
    expect(await kr.open(s.replay(fromAlice))).toEqual({ ok: false, reason: 'replay' });
    expect(await kr.open(s.replay(unread))).toEqual({ ok: false, reason: 'replay' });
    expect(store.size()).toBeGreaterThan(0);
  });

  it('a late joiner still cannot read what came before its join after a reload', async () => {
    const store = memoryRatchetStore();
    const identities = memoryIdentityStore();
    const s = server();
    const a = s.add('alice', alice);
    await s.sync();
    const early = await s.message(a, 'before carol');
    const c = s.add('carol', await loadOrCreateIdentity(identities), { store });
    await s.sync();
    await until(() => s.holds(c, a), "carol holds alice's chain");
    const later = await s.message(a, 'after carol');
    expect(await c.kr.open(early)).toEqual({ ok: false, reason: 'before-join' });
    expect(await c.kr.open(later)).toEqual({ ok: true, text: 'after carol' });
    s.leave(c);
    const kr = await reload(store, identities, c.user, s.now());
    expect(await kr.open(early)).toEqual({ ok: false, reason: 'before-join' });
    expect(await kr.open(later)).toEqual({ ok: true, text: 'after carol' });
  });

  it('another name or another device keys in the same store reads nothing of it', async () => {
    const store = memoryRatchetStore();
    const s = server();
    const a = s.add('alice', alice);
    const b = s.add('bob', bob, { store });
    await s.sync();
    const m = await s.message(a, 'for bob');
    expect(await b.kr.open(m)).toEqual({ ok: true, text: 'for bob' });
    const other: User = { ...b.user, id: 'id-other', publicKey: carol.bundle, joinedAt: s.now() };
    const kr = new KeysRoom({
      identity: carol,
      user: other,
      store,
      holdMs: 50,
      transport: { direct: async () => ({}) },
    });
    expect(await kr.open(m)).toEqual({ ok: false, reason: 'before-join' });
  });
});
