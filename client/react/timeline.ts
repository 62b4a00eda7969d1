/**
 * The room's message list in offset order, each message once, with "some messages may be
 * missing" markers where the server said a history answer was incomplete. Offsets compare
 * within an epoch only; a later epoch's messages go after the earlier ones'. Pure functions
 * over an immutable array, so React state can hold it; knows nothing of encryption.
 */
import type { HistoryReply, RoomMessage } from '../index.js';

/** Decrypting, shown as text, or shown as why it cannot be. */
export type ShownState = 'pending' | 'ok' | 'undecryptable';

export interface MessageItem {
  kind: 'message';
  /** The message id. */
  key: string;
  epoch: string;
  offset: number;
  message: RoomMessage;
  /** Sent by this device. */
  mine: boolean;
  state: ShownState;
  /** The plaintext once decrypted. */
  text?: string;
  /** Why it cannot be shown as text (the library's reason). */
  reason?: string;
  /** Member-keys mode: messages of this sender skipped over before this one (withheld or lost). */
  gap?: number;
  /** Member-keys mode: it arrived after later ones of its sender (it had been counted in a gap). */
  late?: boolean;
}

export interface GapItem {
  kind: 'gap';
  key: string;
  epoch: string;
  /** Half-way before the first offset that may be missing, so it sorts just before it. */
  offset: number;
}

export type TimelineItem = MessageItem | GapItem;

export interface Timeline {
  items: readonly TimelineItem[];
  /** Epochs in the order they were first seen. */
  epochs: readonly string[];
}

export const emptyTimeline: Timeline = { items: [], epochs: [] };

function withEpoch(t: Timeline, epoch: string): Timeline {
  return t.epochs.includes(epoch) ? t : { ...t, epochs: [...t.epochs, epoch] };
}

function insert(t: Timeline, item: TimelineItem): Timeline {
  const next = withEpoch(t, item.epoch);
  const rank = (e: string) => next.epochs.indexOf(e);
  const r = rank(item.epoch);
  // Most items are the newest: walk back from the end.
  let at = next.items.length;
  while (at > 0) {
    const prev = next.items[at - 1]!;
    const pr = rank(prev.epoch);
    if (pr < r || (pr === r && prev.offset <= item.offset)) break;
    at -= 1;
  }
  return { ...next, items: [...next.items.slice(0, at), item, ...next.items.slice(at)] };
}

export function hasMessage(t: Timeline, id: string): boolean {
  return t.items.some((i) => i.kind === 'message' && i.key === id);
}

/** Places `m` (pending) at its offset; the same timeline when it is already there. */
export function placeMessage(t: Timeline, m: RoomMessage, mine: boolean): Timeline {
  if (hasMessage(t, m.id)) return t;
  return insert(t, {
    kind: 'message',
    key: m.id,
    epoch: m.epoch,
    offset: m.offset,
    message: m,
    mine,
    state: 'pending',
  });
}

/** Records how a message opened. */
export function settleMessage(
  t: Timeline,
  id: string,
  result: { ok: true; text: string; gap?: number; late?: boolean } | { ok: false; reason: string },
): Timeline {
  return {
    ...t,
    items: t.items.map((i) =>
      i.kind === 'message' && i.key === id
        ? result.ok
          ? { ...i, state: 'ok', text: result.text, reason: undefined, gap: result.gap, late: result.late }
          : { ...i, state: 'undecryptable', text: undefined, reason: result.reason }
        : i,
    ),
  };
}

/** A gap marker just before `offset` of `epoch` (one per place). */
export function addGap(t: Timeline, epoch: string, offset: number): Timeline {
  const at = offset - 0.5;
  if (t.items.some((i) => i.kind === 'gap' && i.epoch === epoch && i.offset === at)) return t;
  return insert(t, { kind: 'gap', key: `gap:${epoch}:${at}`, epoch, offset: at });
}

/** After a `history` answer: a marker before its messages when it was not complete. */
export function markIncomplete(t: Timeline, reply: HistoryReply, after?: { epoch: string; offset: number }): Timeline {
  if (reply.complete || reply.offset === 0) return t;
  if (after && after.epoch === reply.epoch) return addGap(t, reply.epoch, after.offset + 1);
  return addGap(t, reply.epoch, reply.messages[0]?.offset ?? reply.offset + 1);
}
