/**
 * The room's message list in offset order, each message once, with "some messages may be
 * missing" markers where the server said a history answer was incomplete. Offsets compare
 * within an epoch only; a later epoch's messages go after the earlier ones'.
 * Knows nothing of encryption: the caller renders each message's element.
 */
import type { HistoryReply, ParleyClient, RoomMessage } from '../../client/index.js';

const GAP_TEXT = 'Some messages may be missing';

export class MessageTimeline {
  /** Epochs in the order they were first seen. */
  private epochs: string[] = [];
  private readonly shown = new Set<string>();

  constructor(private readonly list: HTMLElement) {}

  reset(): void {
    this.list.replaceChildren();
    this.epochs = [];
    this.shown.clear();
  }

  /** Inserts `el` for `m` at its place; false (and nothing done) when `m` is already shown. */
  place(m: RoomMessage, el: HTMLElement): boolean {
    if (this.shown.has(m.id)) return false;
    this.shown.add(m.id);
    el.dataset.epoch = m.epoch;
    el.dataset.offset = String(m.offset);
    this.insert(el, m.epoch, m.offset);
    return true;
  }

  /** A gap marker just before `offset` of `epoch` (one per place). */
  gap(epoch: string, offset: number): void {
    const at = offset - 0.5;
    const exists = [...this.list.children].some(
      (c) =>
        c instanceof HTMLElement &&
        c.dataset.testid === 'history-gap' &&
        c.dataset.epoch === epoch &&
        Number(c.dataset.offset) === at,
    );
    if (exists) return;
    const el = document.createElement('li');
    el.className = 'history-gap';
    el.dataset.testid = 'history-gap';
    el.dataset.epoch = epoch;
    el.dataset.offset = String(at);
    el.setAttribute('role', 'status');
    el.textContent = GAP_TEXT;
    this.insert(el, epoch, at);
  }

  /** After a `history` answer: a marker before its messages when it was not complete. */
  markIncomplete(reply: HistoryReply, after?: { epoch: string; offset: number }): void {
    if (reply.complete || reply.offset === 0) return;
    if (after && after.epoch === reply.epoch) this.gap(reply.epoch, after.offset + 1);
    else this.gap(reply.epoch, reply.messages[0]?.offset ?? reply.offset + 1);
  }

  private insert(el: HTMLElement, epoch: string, offset: number): void {
    const rank = this.rank(epoch);
    let before: Element | null = null;
    // Most messages are the newest: walk back from the end.
    for (let node = this.list.lastElementChild; node; node = node.previousElementSibling) {
      const n = node as HTMLElement;
      const r = this.rank(n.dataset.epoch ?? '');
      const o = Number(n.dataset.offset ?? 0);
      if (r < rank || (r === rank && o <= offset)) break;
      before = node;
    }
    this.list.insertBefore(el, before);
  }

  private rank(epoch: string): number {
    let i = this.epochs.indexOf(epoch);
    if (i < 0) i = this.epochs.push(epoch) - 1;
    return i;
  }
}

/**
 * Shows the room's retained messages on entering it (through `show`, which renders and
 * places each one), with a marker when older ones may be missing.
 */
export async function loadHistory(
  client: ParleyClient,
  timeline: MessageTimeline,
  show: (m: RoomMessage) => void,
): Promise<void> {
  const reply = await client.history();
  for (const m of reply.messages) show(m);
  timeline.markIncomplete(reply);
}

/**
 * Follows resumes after reconnects: remembers where the page stood when the connection
 * dropped, and marks the gap when the resume could not fetch everything missed.
 */
export function watchResumes(client: ParleyClient, timeline: MessageTimeline): void {
  let before: { epoch: string; offset: number } | undefined;
  client.socket.on('disconnect', () => {
    const seen = client.lastSeen;
    before = seen && { epoch: seen.epoch, offset: seen.offset };
  });
  client.onResume((e) => {
    if (e.error || e.complete) return;
    const now = client.lastSeen;
    if (!now) return;
    if (before && !e.epochChanged) timeline.gap(before.epoch, before.offset + 1);
    else timeline.gap(now.epoch, 1);
  });
}
