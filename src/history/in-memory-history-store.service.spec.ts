/**
 * The in-memory history store on its own: the ring buffer across wrap-arounds and growth,
 * the byte buffer the messages are kept in (each one given back exactly),
 * the node-wide byte cap (the node's oldest message goes first, whichever room it is in),
 * and forgetting an empty room once nothing of it is retained.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { HistoryConfig } from '../config/configuration.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { InMemoryHistoryStoreService } from './in-memory-history-store.service.js';
import type { MessageDraft } from './history-store.service.js';
import type { RedactedMessage, RoomMessage } from '../common/events.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** A full collection, twice: what is left is what someone holds. */
function collect(): void {
  gc();
  gc();
}

const stores: InMemoryHistoryStoreService[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.onModuleDestroy()));

function store(config: Partial<HistoryConfig> = {}): { s: InMemoryHistoryStoreService; metrics: MetricsService } {
  const metrics = new MetricsService(new DomainEventBus());
  const s = new InMemoryHistoryStoreService(
    { size: 50, ttlMs: 3_600_000, roomBytes: 1 << 20, maxBytes: 1 << 28, ...config },
    metrics,
  );
  stores.push(s);
  return { s, metrics };
}

let n = 0;
/** A retained message's text ('' for a tombstone). */
function textOf(m: RoomMessage | RedactedMessage): string {
  return 'message' in m ? m.message : '';
}

function draft(room: string, message: string): MessageDraft {
  n += 1;
  return { id: `id${n}`, room, message, from: 'a', fromId: 's', at: Date.now(), offset: 0, epoch: '' };
}

describe('InMemoryHistoryStoreService', () => {
  it('keeps the latest HISTORY_SIZE in order through ring growth and wrap-around', async () => {
    const { s } = store({ size: 7 });
    for (let i = 1; i <= 30; i++) {
      s.append(draft('r', `m${i}`), 2);
      const page = await s.read('r', { limit: 1000 });
      const expected = Array.from({ length: Math.min(i, 7) }, (_, k) => i - Math.min(i, 7) + k + 1);
      expect(page.messages.map((m) => m.offset)).toEqual(expected);
    }
  });

  it('gives back every retained message exactly, through the buffer compacting, growing and shrinking', async () => {
    const { s } = store({ size: 5 });
    const pieces = ['a', 'é', '😀', '\ud800', '"\\\n', 'ciphertext+/='];
    const kept: MessageDraft[] = [];
    for (let i = 0; i < 300; i++) {
      // long messages first, then short ones: the buffer grows, then shrinks
      const length = i < 150 ? 1 + ((i * 7919) % 3000) : 1 + (i % 40);
      const text = Array.from({ length }, (_, k) => pieces[(i + k) % pieces.length]).join('');
      const appended = s.append(draft('r', text), text.length);
      kept.push({ ...appended });
      if (kept.length > 5) kept.shift();
      expect((await s.read('r', { limit: 1000 })).messages).toEqual(kept);
    }
  });

  it('caps what the node holds at HISTORY_MAX_BYTES, evicting the node’s oldest message first', async () => {
    // What a room with one such message holds: three of them do not fit, two do.
    const probe = store().s;
    probe.append(draft('p', 'pppp'), 4);
    const one = probe.heldBytes();
    const { s, metrics } = store({ maxBytes: Math.floor(2.5 * one) });
    s.append(draft('a', 'aaaa'), 4); // oldest
    s.append(draft('b', 'bbbb'), 4);
    s.append(draft('c', 'cccc'), 4); // a third room: the first message goes
    expect((await s.read('a', { limit: 10 })).messages).toEqual([]);
    expect((await s.read('b', { limit: 10 })).messages.map(textOf)).toEqual(['bbbb']);
    s.append(draft('d', 'dddd'), 4); // b's is now the oldest
    expect((await s.read('b', { limit: 10 })).messages).toEqual([]);
    expect((await s.read('c', { limit: 10 })).messages.map(textOf)).toEqual(['cccc']);
    expect((await s.read('d', { limit: 10 })).messages.map(textOf)).toEqual(['dddd']);
    expect(s.heldBytes()).toBeLessThanOrEqual(2.5 * one);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/parley_history_evictions_total\{reason="node-bytes"\} 2/);
    expect(text).toMatch(/parley_history_retained_bytes 8/);
    expect(text).toMatch(/parley_history_retained_messages 2/);
  });

  it('counts buffers and per-room memory against HISTORY_MAX_BYTES: many rooms of tiny messages stay within it', async () => {
    const maxBytes = 100_000;
    const { s } = store({ maxBytes });
    // Names made before the baseline: they are the callers', not the store's.
    const rooms = Array.from({ length: 5000 }, (_, i) => `tiny-${i}`);
    collect();
    const before = process.memoryUsage();
    for (const room of rooms) {
      s.append(draft(room, 'x'), 1);
      // one-message visitors: the room is empty again at once, kept only for its message
      await s.vacated(room);
      expect(s.heldBytes()).toBeLessThanOrEqual(maxBytes);
    }
    collect();
    const after = process.memoryUsage();
    // Buffers outside V8's heap: within the cap (the old store kept 4 KiB a room, 20 MB here).
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(maxBytes + 64 * 1024);
    expect(after.external - before.external).toBeLessThan(maxBytes + 64 * 1024);
    // Everything, the heap included: within the cap and a margin for the test's own garbage.
    const grown = after.heapUsed + after.external - (before.heapUsed + before.external);
    expect(grown).toBeLessThan(maxBytes + 1024 * 1024);
    // Something is retained (the newest rooms' messages), within the cap.
    expect((await s.read(rooms.at(-1)!, { limit: 10 })).messages.map(textOf)).toEqual(['x']);
    expect(s.heldBytes()).toBeGreaterThan(maxBytes / 2);
  });

  it('lets a room’s buffer and ring shrink as what it retains gets smaller, and go once it is empty', async () => {
    const { s } = store({ size: 40 });
    const big = 'b'.repeat(4000);
    for (let i = 0; i < 40; i++) s.append(draft('r', big), big.length);
    const peak = s.heldBytes();
    expect(peak).toBeGreaterThan(40 * 4000);
    // small messages push the big ones out by count: a fraction of the peak remains
    for (let i = 0; i < 40; i++) s.append(draft('r', 's'), 1);
    expect(s.heldBytes()).toBeLessThan(peak / 8);
    expect((await s.read('r', { limit: 100 })).messages.map(textOf)).toEqual(Array(40).fill('s'));
    // fewer of them (HISTORY_ROOM_BYTES): the ring shrinks too
    const { s: bounded } = store({ size: 1000, roomBytes: 1000 });
    for (let i = 0; i < 1000; i++) bounded.append(draft('r', 'o'), 1);
    const full = bounded.heldBytes();
    const long = 'n'.repeat(990);
    bounded.append(draft('r', long), long.length);
    expect((await bounded.read('r', { limit: 1000 })).messages.map(textOf)).toEqual([
      ...Array<string>(10).fill('o'),
      long,
    ]);
    expect(bounded.heldBytes()).toBeLessThan(full / 10);
    // none: the room holds nothing
    const { s: aged } = store({ ttlMs: 1000 });
    aged.append({ ...draft('r', 'o'), at: Date.now() - 5000 }, 1);
    expect(aged.heldBytes()).toBeGreaterThan(0);
    expect((await aged.read('r', { limit: 10 })).messages).toEqual([]);
    expect(aged.heldBytes()).toBe(0);
  });

  it('forgets an empty room with nothing retained (new epoch), not one with messages left', async () => {
    const { s } = store({ size: 0 });
    const first = s.append(draft('r', 'x'), 1);
    await s.vacated('r');
    const next = s.append(draft('r', 'y'), 1);
    expect(next.offset).toBe(1);
    expect(next.epoch).not.toBe(first.epoch);

    const kept = store().s;
    const k1 = kept.append(draft('r', 'x'), 1);
    await kept.vacated('r');
    await kept.occupied('r');
    expect(kept.append(draft('r', 'y'), 1)).toMatchObject({ offset: 2, epoch: k1.epoch });
  });
});

describe('redaction', () => {
  it('wipes the text from the room’s buffer and reads back a tombstone; only the sender or the server may', async () => {
    const { s } = store({ size: 10 });
    const a = s.append({ ...draft('r', 'secret-ciphertext-one'), fromId: 'alice' }, 21);
    s.append({ ...draft('r', 'two'), fromId: 'bob' }, 3);
    expect(await s.redact('r', a.epoch, a.offset, 'bob')).toEqual({ outcome: 'forbidden' });
    expect(await s.redact('r', 'another-epoch', a.offset, 'alice')).toEqual({ outcome: 'not-found' });
    expect(await s.redact('r', a.epoch, 99, 'alice')).toEqual({ outcome: 'not-found' });
    expect(await s.redact('r', a.epoch, a.offset, 'alice')).toEqual({ outcome: 'redacted', id: a.id, epoch: a.epoch });
    expect(await s.redact('r', a.epoch, a.offset, 'server')).toEqual({ outcome: 'already', id: a.id, epoch: a.epoch });
    const { messages } = await s.read('r', { limit: 10 });
    expect(messages[0]).toEqual({
      id: a.id,
      room: 'r',
      from: a.from,
      fromId: 'alice',
      at: a.at,
      offset: a.offset,
      epoch: a.epoch,
      redacted: true,
    });
    expect(messages.map(textOf)).toEqual(['', 'two']);
    // Gone from memory, not only hidden: the room's buffer no longer holds the bytes.
    const log = (s as unknown as { rooms: Map<string, { slab: Buffer }> }).rooms.get('r')!;
    expect(log.slab.includes('secret-ciphertext-one')).toBe(false);
    // The server redacts anyone's.
    const b = (await s.read('r', { limit: 10 })).messages[1];
    expect(await s.redact('r', b.epoch, b.offset, 'server')).toEqual({ outcome: 'redacted', id: b.id, epoch: b.epoch });
  });
});
