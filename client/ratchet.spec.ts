/**
 * The sender-chain ratchet: fixed test vectors (checked against node:crypto's HMAC and
 * AES-GCM, an implementation independent of Web Crypto), and the promises a receiving
 * chain keeps: nothing before the index it was given, no index twice, gaps counted, late
 * arrivals opened once, a failed check leaves the chain where it was.
 */
import { describe, expect, it } from '@jest/globals';
import { createCipheriv, createHmac } from 'node:crypto';
import { bytesToHex, hexToBytes } from './crypto.js';
import {
  chainCommitment,
  chainStep,
  InboundChain,
  MAX_SKIP,
  memoryRatchetStore,
  messageKeys,
  OutboundChain,
  type MessageKeys,
} from './ratchet.js';

const CK0 = hexToBytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')!;
/** docs/ENCRYPTION.md, "Test vectors": index, chain key, message key, AES key, commitment. */
const VECTORS = [
  {
    ck: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    mk: '9b4c8120a4823a95f47cde17a244f4507244ee6e3957d1fab9fa29b44d3829b7',
    aes: 'dc8bfaadb35d47c2c2e68a76d2d8d1291bbd693c253957c022c001f84d802d52',
    commit: 'd9ec1d3b20ab2dbdb4319c69e2df5b68729b9b6563da9ba28b38e87109c5fd0c',
  },
  {
    ck: '4304c22c84a53755ab08ead8d97a8d429be5efa480682d7ad1da27f73e1fbe1d',
    mk: 'f7703c39dea9feb30cb6369304ad7b847b9aca58c1152af317aa78a91beddda1',
    aes: '995113de6daac7c5849ba14014b49d4f0aec5adf9314e0ec582ea6fd60787c6f',
    commit: 'a3c374813e5750dbea809af6c9a46b88ad80d2696267340f63f679732a0d6bcd',
  },
  {
    ck: '26fc86b9b1303ea2e66f53ed0f1de753407e5428caf5e440e6b51c48d4bd4949',
    mk: '5d2042bf4c603cf3aa7194739ed08bc1c698a7ec7fb8e77d3ea2588c6fe78ce1',
    aes: '6ee31ea5ad214d4617dc8b750a615b40f66dd0f870b4faa01772b5f95608c385',
    commit: '4e9fbddd8793dc928877ba16720471b22c80df005b52e8ac8de70eb1365c1667',
  },
];
const CHAIN_COMMIT_0 = '8bb26b4a3a80284ec99f0cb06bad141eeb5d7b4ff60ee289f976f67b8fe095ea';

const hmac = (key: string, data: Uint8Array | string) =>
  createHmac('sha256', Buffer.from(key, 'hex')).update(data).digest('hex');

/** Encrypts with node:crypto under a raw AES-256-GCM key: ciphertext ‖ tag. */
function nodeSeal(aesHex: string, iv: Uint8Array, text: string): Uint8Array<ArrayBuffer> {
  const c = createCipheriv('aes-256-gcm', Buffer.from(aesHex, 'hex'), iv);
  const out = Buffer.concat([c.update(text, 'utf8'), c.final(), c.getAuthTag()]);
  return new Uint8Array(out);
}

async function opens(keys: MessageKeys, aesHex: string): Promise<boolean> {
  const iv = new Uint8Array(12);
  try {
    await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, keys.aes, nodeSeal(aesHex, iv, 'x'));
    return true;
  } catch {
    return false;
  }
}

describe('chain test vectors', () => {
  it('the published vectors are HMAC-SHA-256 as specified (node:crypto)', () => {
    for (let i = 0; i < VECTORS.length; i++) {
      const v = VECTORS[i]!;
      expect(hmac(v.ck, new Uint8Array([1]))).toBe(v.mk);
      expect(hmac(v.mk, 'parley/s2/aes')).toBe(v.aes);
      expect(hmac(v.mk, 'parley/s2/commit')).toBe(v.commit);
      if (i + 1 < VECTORS.length) expect(hmac(v.ck, new Uint8Array([2]))).toBe(VECTORS[i + 1]!.ck);
    }
    expect(hmac(VECTORS[0]!.ck, 'parley/ks2/commit')).toBe(CHAIN_COMMIT_0);
  });

  it('chainStep, messageKeys and chainCommitment reproduce them', async () => {
    let ck: Uint8Array = CK0.slice();
    for (const v of VECTORS) {
      expect(bytesToHex(ck)).toBe(v.ck);
      const { messageKey, next } = await chainStep(ck);
      expect(bytesToHex(messageKey)).toBe(v.mk);
      const keys = await messageKeys(messageKey);
      expect(bytesToHex(keys.commitment)).toBe(v.commit);
      expect(keys.aes.extractable).toBe(false);
      expect(await opens(keys, v.aes)).toBe(true);
      // The message key's bytes are wiped once turned into keys.
      expect(messageKey.every((b) => b === 0)).toBe(true);
      ck = next;
    }
    expect(bytesToHex(await chainCommitment(CK0))).toBe(CHAIN_COMMIT_0);
  });

  it('an outbound chain gives each index once, in order, and its snapshot is at the next index', async () => {
    const out = OutboundChain.fromSnapshot({ id: '0011223344556677', index: 0, chainKey: CK0.slice() });
    const [a, b] = await Promise.all([out.next(), out.next()]);
    expect([a.index, b.index]).toEqual([0, 1]);
    expect(bytesToHex(a.keys.commitment)).toBe(VECTORS[0]!.commit);
    expect(bytesToHex(b.keys.commitment)).toBe(VECTORS[1]!.commit);
    const snap = await out.snapshot();
    expect(snap).toMatchObject({ id: '0011223344556677', index: 2 });
    expect(bytesToHex(snap.chainKey)).toBe(VECTORS[2]!.ck);
    const fresh = OutboundChain.create();
    expect(fresh.id).toMatch(/^[0-9a-f]{16}$/);
    expect(fresh.index).toBe(0);
  });
});

describe('receiving chain', () => {
  const commitOf = (i: number) => VECTORS[i]!.commit;
  /** `use` that accepts only the keys of index `i` (as a message would). */
  const accept = (i: number) => async (keys: MessageKeys) => (bytesToHex(keys.commitment) === commitOf(i) ? i : null);

  it('opens nothing before the index it was given at (the late joiner)', async () => {
    const chain = InboundChain.fromSnapshot({
      id: '0011223344556677',
      index: 1,
      chainKey: hexToBytes(VECTORS[1]!.ck)!,
    });
    expect(await chain.open(0, accept(0))).toEqual({ ok: false, reason: 'before-start' });
    expect(await chain.open(1, accept(1))).toEqual({ ok: true, value: 1, gap: 0, late: false });
  });

  it('refuses an index twice; counts a gap; opens a late one once; keeps no key of an opened index', async () => {
    const chain = InboundChain.fromSnapshot({ id: '0011223344556677', index: 0, chainKey: CK0.slice() });
    expect(await chain.open(0, accept(0))).toMatchObject({ ok: true, gap: 0 });
    expect(await chain.open(0, accept(0))).toEqual({ ok: false, reason: 'replay' });
    expect(await chain.open(2, accept(2))).toEqual({ ok: true, value: 2, gap: 1, late: false });
    let state = await chain.state();
    expect(state.skipped.map(([i]) => i)).toEqual([1]);
    expect(state.opened.sort()).toEqual([0, 2]);
    expect(state.chainKey).not.toBe(Buffer.from(CK0).toString('base64'));
    expect(await chain.open(1, accept(1))).toEqual({ ok: true, value: 1, gap: 0, late: true });
    expect(await chain.open(1, accept(1))).toEqual({ ok: false, reason: 'replay' });
    state = await chain.state();
    expect(state.skipped).toEqual([]);
    expect(chain.index).toBe(3);
  });

  it('a failed check does not move the chain; a jump beyond MAX_SKIP is refused', async () => {
    const chain = InboundChain.fromSnapshot({ id: '0011223344556677', index: 0, chainKey: CK0.slice() });
    expect(await chain.open(2, async () => null)).toEqual({ ok: false, reason: 'rejected' });
    expect(chain.index).toBe(0);
    expect((await chain.state()).skipped).toEqual([]);
    expect(await chain.open(MAX_SKIP + 1, accept(0))).toEqual({ ok: false, reason: 'too-far' });
    expect(await chain.open(0, accept(0))).toMatchObject({ ok: true });
  });

  it('state round-trips through a store (JSON), replays still refused', async () => {
    const store = memoryRatchetStore();
    const chain = InboundChain.fromSnapshot({ id: '0011223344556677', index: 0, chainKey: CK0.slice() });
    await chain.open(1, accept(1));
    await store.put('r/alice/0011223344556677', await chain.state());
    const back = InboundChain.fromState((await store.get('r/alice/0011223344556677')) as never)!;
    expect(await back.open(1, accept(1))).toEqual({ ok: false, reason: 'replay' });
    expect(await back.open(0, accept(0))).toMatchObject({ ok: true, late: true });
    expect(await store.keys('r/alice/')).toEqual(['r/alice/0011223344556677']);
    const out = OutboundChain.fromSnapshot({ id: '0011223344556677', index: 0, chainKey: CK0.slice() });
    await out.next();
    const outBack = OutboundChain.fromState(JSON.parse(JSON.stringify(await out.state())))!;
    expect(outBack.index).toBe(1);
    expect(bytesToHex((await outBack.next()).keys.commitment)).toBe(VECTORS[1]!.commit);
  });
});
