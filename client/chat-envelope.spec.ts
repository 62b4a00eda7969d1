/**
 * The message contents inside a room message's plaintext (text, edit, reply, reaction) and
 * the reducer that applies them, including the attacks: edits by someone else, reactions
 * toggled, malformed contents, and the contents going through both room modes' encryption.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { DirectMessage, RoomMessage, User } from '../src/common/events.js';
import {
  chatInput,
  encodeContent,
  parseContent,
  reduceChat,
  type ChatInput,
  type MessageContent,
} from './chat-envelope.js';
import { decryptMessage, deriveRoomKey, encryptMessage, PBKDF2_ITERATIONS } from './crypto.js';
import { generateDeviceIdentity, type DeviceIdentity } from './identity-bundle.js';
import { KeysRoom, memoryTrustStore } from './keys-room.js';

const E = 'epoch-1';

describe('parseContent / encodeContent', () => {
  it('round-trips every kind', () => {
    const contents: MessageContent[] = [
      { kind: 'text', text: 'hi' },
      { kind: 'edit', offset: 3, epoch: E, text: 'hi there' },
      { kind: 'reply', offset: 3, epoch: E, text: 'yes' },
      { kind: 'reaction', offset: 3, epoch: E, emoji: '👍🏽' },
    ];
    for (const c of contents) expect(parseContent(encodeContent(c))).toEqual({ ok: true, content: c });
    expect(encodeContent({ kind: 'text', text: 'hi' })).toBe('{"parley":1,"kind":"text","text":"hi"}');
  });

  it('reads a plain string, JSON without `parley` included, as text', () => {
    for (const s of ['hello', '', '{"kind":"edit","offset":1}', '{not json', '[1,2]', '42'])
      expect(parseContent(s)).toEqual({ ok: true, content: { kind: 'text', text: s }, legacy: true });
  });

  it('reports unknown kinds, other versions and malformed shapes, never throwing', () => {
    expect(parseContent('{"parley":1,"kind":"poll","q":"?"}')).toEqual({
      ok: false,
      reason: 'unknown-kind',
      kind: 'poll',
    });
    expect(parseContent('{"parley":2,"kind":"text","text":"x"}')).toEqual({ ok: false, reason: 'unsupported-version' });
    const malformed = [
      '{"parley":"1","kind":"text","text":"x"}',
      '{"parley":0,"kind":"text","text":"x"}',
      '{"parley":1,"kind":"text"}',
      '{"parley":1,"kind":"text","text":5}',
      '{"parley":1,"kind":"text","text":"x","extra":1}',
      '{"parley":1,"kind":7,"text":"x"}',
      '{"parley":1,"kind":"edit","offset":0,"epoch":"e","text":"x"}',
      '{"parley":1,"kind":"edit","offset":1.5,"epoch":"e","text":"x"}',
      '{"parley":1,"kind":"edit","offset":"3","epoch":"e","text":"x"}',
      '{"parley":1,"kind":"reply","offset":3,"epoch":"","text":"x"}',
      '{"parley":1,"kind":"reaction","offset":3,"epoch":"e"}',
      '{"parley":1,"kind":"reaction","offset":3,"epoch":"e","emoji":""}',
      '{"parley":1,"kind":"reaction","offset":3,"epoch":"e","emoji":"a b"}',
      `{"parley":1,"kind":"reaction","offset":3,"epoch":"e","emoji":"${'x'.repeat(33)}"}`,
      '{"parley":1,"kind":"__proto__","text":"x"}',
      '{"parley":1,"kind":"constructor","text":"x"}',
    ];
    for (const s of malformed) {
      const r = parseContent(s);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(['malformed', 'unknown-kind']).toContain(r.reason);
    }
    expect(parseContent(undefined)).toEqual({ ok: false, reason: 'malformed' });
    expect(() => encodeContent({ kind: 'reaction', offset: 0, epoch: E, emoji: 'x' })).toThrow(TypeError);
  });
});

/** Room messages as the reducer takes them: (offset, sender, content or raw plaintext). */
function entries(...list: Array<[number, string, MessageContent | string]>): ChatInput[] {
  return list.map(([offset, sender, c]) => ({
    id: `m${offset}`,
    offset,
    epoch: E,
    from: sender,
    sender,
    at: offset * 10,
    plaintext: typeof c === 'string' ? c : encodeContent(c),
  }));
}

describe('reduceChat', () => {
  it('applies the original sender’s edits (the last one wins) and ignores anyone else’s', () => {
    const view = reduceChat(
      entries(
        [1, 'alice', { kind: 'text', text: 'helo' }],
        [2, 'bob', { kind: 'edit', offset: 1, epoch: E, text: 'alice is wrong' }],
        [3, 'alice', { kind: 'edit', offset: 1, epoch: E, text: 'hello' }],
        [4, 'alice', { kind: 'edit', offset: 1, epoch: E, text: 'hello!' }],
      ),
    );
    expect(view.messages).toHaveLength(1);
    expect(view.messages[0]).toMatchObject({ offset: 1, kind: 'text', text: 'hello!', edited: { offset: 4, at: 40 } });
    expect(view.ignored).toEqual([{ id: 'm2', offset: 2, epoch: E, kind: 'edit', reason: 'not-sender' }]);
  });

  it('toggles reactions: twice by the same sender removes it; each sender counts once', () => {
    const thumbs = { kind: 'reaction', offset: 1, epoch: E, emoji: '👍' } as const;
    const view = reduceChat(
      entries(
        [1, 'alice', { kind: 'text', text: 'lunch?' }],
        [2, 'bob', thumbs],
        [3, 'carol', thumbs],
        [4, 'bob', { ...thumbs, emoji: '🎉' }],
        [5, 'bob', thumbs],
        [6, 'carol', { ...thumbs, emoji: '🎉' }],
        [7, 'carol', { ...thumbs, emoji: '🎉' }],
      ),
    );
    expect(view.messages[0]!.reactions).toEqual([
      { emoji: '👍', senders: ['carol'], names: ['carol'] },
      { emoji: '🎉', senders: ['bob'], names: ['bob'] },
    ]);
  });

  it('keeps the list whole around malformed and unknown contents and unreadable messages', () => {
    const view = reduceChat([
      ...entries(
        [1, 'alice', { kind: 'text', text: 'one' }],
        [2, 'mallory', '{"parley":1,"kind":"edit","offset":1,"epoch":"epoch-1","text":5}'],
        [3, 'mallory', '{"parley":1,"kind":"nuke"}'],
        [5, 'alice', { kind: 'text', text: 'three' }],
      ),
      { id: 'm4', offset: 4, epoch: E, from: 'bob', sender: 'bob', at: 40, error: 'no-key' },
    ]);
    expect(view.messages.map((m) => [m.offset, m.kind, m.text ?? m.error])).toEqual([
      [1, 'text', 'one'],
      [2, 'invalid', 'malformed'],
      [3, 'invalid', 'unknown-kind'],
      [4, 'undecryptable', 'no-key'],
      [5, 'text', 'three'],
    ]);
  });

  it('refuses edits and reactions on a reaction, a later message and a redacted one', () => {
    const view = reduceChat([
      ...entries(
        [1, 'alice', { kind: 'text', text: 'one' }],
        [2, 'alice', { kind: 'reaction', offset: 1, epoch: E, emoji: '👍' }],
        [3, 'alice', { kind: 'edit', offset: 2, epoch: E, text: 'edit a reaction' }],
        [4, 'alice', { kind: 'edit', offset: 6, epoch: E, text: 'from the future' }],
        [6, 'alice', { kind: 'text', text: 'six' }],
        [7, 'alice', { kind: 'edit', offset: 5, epoch: E, text: 'un-delete' }],
        [8, 'bob', { kind: 'reaction', offset: 5, epoch: E, emoji: '👍' }],
      ),
      { id: 'm5', offset: 5, epoch: E, from: 'alice', sender: 'alice', at: 50, redacted: true },
    ]);
    expect(view.ignored.map((i) => [i.offset, i.reason])).toEqual([
      [3, 'bad-target'],
      [4, 'not-before'],
      [7, 'redacted'],
      [8, 'redacted'],
    ]);
    expect(view.messages.map((m) => [m.offset, m.kind, m.text])).toEqual([
      [1, 'text', 'one'],
      [5, 'redacted', undefined],
      [6, 'text', 'six'],
    ]);
  });

  it('keeps edits and reactions to an absent message pending, and applies them once it is in the list', () => {
    const later = entries(
      [8, 'alice', { kind: 'edit', offset: 7, epoch: E, text: 'seven, fixed' }],
      [9, 'bob', { kind: 'reaction', offset: 7, epoch: E, emoji: '👀' }],
    );
    const before = reduceChat(later);
    expect(before.messages).toEqual([]);
    expect(before.pending.map((p) => [p.offset, p.kind, p.target.offset])).toEqual([
      [8, 'edit', 7],
      [9, 'reaction', 7],
    ]);
    const after = reduceChat([...later, ...entries([7, 'alice', { kind: 'text', text: 'seven' }])]);
    expect(after.pending).toEqual([]);
    expect(after.messages[0]).toMatchObject({ text: 'seven, fixed', reactions: [{ emoji: '👀', senders: ['bob'] }] });
  });

  it('shows replies with the current text of what they answer, or found: false', () => {
    const view = reduceChat([
      ...entries(
        [1, 'alice', { kind: 'text', text: 'tea?' }],
        [2, 'bob', { kind: 'reply', offset: 1, epoch: E, text: 'yes' }],
        [3, 'alice', { kind: 'edit', offset: 1, epoch: E, text: 'tea at 5?' }],
        [4, 'bob', { kind: 'reply', offset: 99, epoch: 'old', text: 'about that' }],
        [6, 'bob', { kind: 'reply', offset: 5, epoch: E, text: 'why delete?' }],
      ),
      { id: 'm5', offset: 5, epoch: E, from: 'alice', sender: 'alice', at: 50, redacted: true },
    ]);
    const replies = view.messages.filter((m) => m.kind === 'reply');
    expect(replies.map((m) => [m.text, m.replyTo])).toEqual([
      ['yes', { offset: 1, epoch: E, found: true, from: 'alice', text: 'tea at 5?' }],
      ['about that', { offset: 99, epoch: 'old', found: false }],
      ['why delete?', { offset: 5, epoch: E, found: true, from: 'alice', redacted: true }],
    ]);
  });

  it('orders by epoch of first appearance then offset, and counts a repeated message once', () => {
    const a = entries([2, 'alice', { kind: 'text', text: 'two' }], [1, 'alice', { kind: 'text', text: 'one' }]);
    const b: ChatInput = { ...a[0]!, id: 'n1', epoch: 'epoch-2', offset: 1, plaintext: 'new epoch' };
    const view = reduceChat([...a, b, a[1]!]);
    expect(view.messages.map((m) => m.text)).toEqual(['one', 'two', 'new epoch']);
  });
});

describe('inside both room modes', () => {
  let alice: DeviceIdentity;
  let bob: DeviceIdentity;
  let eve: DeviceIdentity;
  beforeAll(async () => {
    [alice, bob, eve] = await Promise.all([
      generateDeviceIdentity(),
      generateDeviceIdentity(),
      generateDeviceIdentity(),
    ]);
  });

  it('passphrase mode: contents survive encryption; the sender is the name bound to the ciphertext', async () => {
    const key = await deriveRoomKey('correct horse', 'garden', PBKDF2_ITERATIONS);
    let offset = 0;
    const send = async (from: string, c: MessageContent): Promise<RoomMessage> => ({
      id: `m${++offset}`,
      room: 'garden',
      from,
      fromId: `sock-${from}`,
      at: offset,
      offset,
      epoch: E,
      message: await encryptMessage(key, encodeContent(c), from),
    });
    const wire = [
      await send('alice', { kind: 'text', text: 'hi' }),
      await send('bob', { kind: 'edit', offset: 1, epoch: E, text: 'bob was here' }),
      await send('bob', { kind: 'reaction', offset: 1, epoch: E, emoji: '👋' }),
    ];
    // A server relabelling bob's edit as alice's: the name is in the associated data, so it does not open.
    const relabelled = { ...wire[1]!, id: 'm9', offset: 9, from: 'alice' };
    expect(wire.every((m) => !m.message.includes('bob was here'))).toBe(true);
    const inputs = await Promise.all(
      [...wire, relabelled].map(async (m) => chatInput(m, m.from, await decryptMessage(key, m.message, m.from))),
    );
    const view = reduceChat(inputs);
    expect(view.messages.map((m) => [m.kind, m.text ?? m.error])).toEqual([
      ['text', 'hi'],
      ['undecryptable', 'undecryptable'],
    ]);
    expect(view.messages[0]!.reactions).toEqual([{ emoji: '👋', senders: ['bob'], names: ['bob'] }]);
    expect(view.ignored.map((i) => [i.offset, i.reason])).toEqual([[2, 'not-sender']]);
  });

  it('member-keys mode: the sender is the device; the same name on another device cannot edit', async () => {
    const peers = new Map<string, KeysRoom>();
    const users: User[] = [];
    let clock = 1000;
    const add = (name: string, identity: DeviceIdentity): { user: User; kr: KeysRoom } => {
      const user: User = {
        id: `id-${name}-${clock}`,
        name,
        room: 'garden',
        publicKey: identity.bundle,
        joinedAt: clock++,
      };
      const kr = new KeysRoom({
        identity,
        user,
        trust: memoryTrustStore(),
        holdMs: 300,
        transport: {
          direct: async (items) => {
            const at = clock++;
            for (const it of items) {
              const msg: DirectMessage = { from: user.name, fromId: user.id, room: 'garden', payload: it.payload, at };
              void peers.get(it.to)?.receiveDirect(msg);
            }
            return { at };
          },
        },
      });
      peers.set(user.id, kr);
      users.push(user);
      return { user, kr };
    };
    const sync = async () => {
      await Promise.all(users.map((u) => peers.get(u.id)!.updateMembers([...users])));
      await new Promise((r) => setTimeout(r, 20));
    };
    let offset = 0;
    const send = async (p: { user: User; kr: KeysRoom }, c: MessageContent): Promise<RoomMessage> => ({
      id: `m${++offset}`,
      room: 'garden',
      from: p.user.name,
      fromId: p.user.id,
      at: clock++,
      offset,
      epoch: E,
      message: await p.kr.encrypt(encodeContent(c)),
    });

    const a = add('alice', alice);
    const b = add('bob', bob);
    await sync();
    const wire = [await send(a, { kind: 'text', text: 'hi' })];
    // alice leaves; eve's device takes the name "alice" and tries to edit alice's message.
    users.splice(users.indexOf(a.user), 1);
    const e = add('alice', eve);
    await sync();
    wire.push(await send(e, { kind: 'edit', offset: 1, epoch: E, text: 'eve wrote this' }));
    wire.push(await send(b, { kind: 'reaction', offset: 1, epoch: E, emoji: '👍' }));

    const inputs: ChatInput[] = [];
    for (const m of wire) inputs.push(chatInput(m, b.kr.senderIdentity(m.fromId)!, await b.kr.open(m)));
    expect(inputs.every((i) => 'plaintext' in i)).toBe(true);
    expect(b.kr.senderIdentity(a.user.id)).not.toBe(b.kr.senderIdentity(e.user.id));
    const view = reduceChat(inputs);
    expect(view.messages).toHaveLength(1);
    expect(view.messages[0]).toMatchObject({ text: 'hi', reactions: [{ emoji: '👍', names: ['bob'] }] });
    expect(view.ignored.map((i) => [i.offset, i.reason])).toEqual([[2, 'not-sender']]);
    for (const kr of peers.values()) kr.close();
  });
});
