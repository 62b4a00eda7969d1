import { describe, expect, it } from '@jest/globals';
import { addGap, emptyTimeline, markIncomplete, placeMessage, settleMessage, type Timeline } from './timeline.js';
import { roomMessage } from './testing/fake-client.js';

const order = (t: Timeline) => t.items.map((i) => (i.kind === 'gap' ? `gap<${i.offset + 0.5}` : i.key));

describe('timeline', () => {
  it('orders by offset within an epoch and puts a later epoch after, each message once', () => {
    let t = emptyTimeline;
    for (const o of [2, 5, 1, 3]) t = placeMessage(t, roomMessage({ offset: o, message: 'x' }), false);
    t = placeMessage(t, roomMessage({ offset: 1, epoch: 'e2', message: 'x' }), false);
    t = placeMessage(t, roomMessage({ offset: 4, message: 'x' }), false);
    const again = placeMessage(t, roomMessage({ offset: 3, message: 'x' }), false);
    expect(again).toBe(t);
    expect(order(t)).toEqual(['id-e1-1', 'id-e1-2', 'id-e1-3', 'id-e1-4', 'id-e1-5', 'id-e2-1']);
  });

  it('settles a message as text or as a reason', () => {
    let t = placeMessage(emptyTimeline, roomMessage({ offset: 1, message: 'x' }), true);
    t = placeMessage(t, roomMessage({ offset: 2, message: 'y' }), false);
    expect(t.items.map((i) => i.kind === 'message' && i.state)).toEqual(['pending', 'pending']);
    t = settleMessage(t, 'id-e1-1', { ok: true, text: 'hello' });
    t = settleMessage(t, 'id-e1-2', { ok: false, reason: 'no-key' });
    expect(t.items).toMatchObject([
      { state: 'ok', text: 'hello', mine: true },
      { state: 'undecryptable', reason: 'no-key', mine: false },
    ]);
  });

  it('places one gap marker before the first offset that may be missing', () => {
    let t = emptyTimeline;
    for (const o of [1, 2, 6, 7]) t = placeMessage(t, roomMessage({ offset: o, message: 'x' }), false);
    t = addGap(t, 'e1', 3);
    t = addGap(t, 'e1', 3);
    expect(order(t)).toEqual(['id-e1-1', 'id-e1-2', 'gap<3', 'id-e1-6', 'id-e1-7']);
  });

  it('marks an incomplete history answer before its first message, and a complete one not at all', () => {
    const messages = [roomMessage({ offset: 8, message: 'x' }), roomMessage({ offset: 9, message: 'y' })];
    let t = emptyTimeline;
    for (const m of messages) t = placeMessage(t, m, false);
    expect(markIncomplete(t, { messages, offset: 9, epoch: 'e1', complete: true })).toBe(t);
    t = markIncomplete(t, { messages, offset: 9, epoch: 'e1', complete: false });
    expect(order(t)).toEqual(['gap<8', 'id-e1-8', 'id-e1-9']);
  });
});
