/**
 * The in-memory history store on its own: the ring buffer across wrap-arounds and growth,
 * the byte buffer the messages are kept in (each one given back exactly),
 * the node-wide byte cap (the node's oldest message goes first, whichever room it is in),
 * and forgetting an empty room once nothing of it is retained.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { HistoryConfig } from '../config/configuration.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { InMemoryHistoryStoreService } from './in-memory-history-store.service.js';
import type { MessageDraft } from './history-store.service.js';

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

  it('caps the node at HISTORY_MAX_BYTES, evicting the node’s oldest message first', async () => {
    const { s, metrics } = store({ maxBytes: 10 });
    s.append(draft('a', 'aaaa'), 4); // oldest
    s.append(draft('b', 'bbbb'), 4);
    s.append(draft('a', 'cccc'), 4); // 12 bytes: the first one goes
    expect((await s.read('a', { limit: 10 })).messages.map((m) => m.message)).toEqual(['cccc']);
    expect((await s.read('b', { limit: 10 })).messages.map((m) => m.message)).toEqual(['bbbb']);
    s.append(draft('a', 'dddd'), 4); // b's is now the oldest
    expect((await s.read('b', { limit: 10 })).messages).toEqual([]);
    expect((await s.read('a', { limit: 10 })).messages.map((m) => m.message)).toEqual(['cccc', 'dddd']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/parley_history_evictions_total\{reason="node-bytes"\} 2/);
    expect(text).toMatch(/parley_history_retained_bytes 8/);
    expect(text).toMatch(/parley_history_retained_messages 2/);
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
