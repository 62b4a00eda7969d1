import type { RedactedMessage, RoomMessage } from '../common/events.js';
import type { PublishCondition } from '../common/realtime/publish-condition.js';

/** A room message before it has its place in the room (`offset` and `epoch` still to be set). */
export type MessageDraft = RoomMessage;

export interface HistoryQuery {
  since?: number;
  epoch?: string;
  limit: number;
}

export interface HistoryPage {
  messages: Array<RoomMessage | RedactedMessage>;
  offset: number;
  epoch: string;
  complete: boolean;
}

/** Who redacts: a socket id (only its own messages), or the server API (any message). */
export const REDACTED_BY_SERVER = 'server';

/** What `redact` found: the message's id when it was (or already had been) redacted. */
export type RedactOutcome =
  { outcome: 'redacted' | 'already'; id: string; epoch: string } | { outcome: 'not-found' } | { outcome: 'forbidden' };

export type EvictionReason = 'count' | 'bytes' | 'age' | 'node-bytes';

/**
 * Each room's message log: offsets, epochs and the retained messages (ciphertext and
 * metadata exactly as broadcast). `append` is the one place offsets are assigned, so it
 * must be atomic per room across every node sharing the store.
 */
export abstract class HistoryStoreService {
  /**
   * Gives the message the room's next offset (and current epoch), setting them on `draft`
   * itself, and retains it as far as retention allows. `bytes` is the UTF-8 size of `draft.message`. The in-memory store
   * answers synchronously, so a relay does not wait a turn for it.
   */
  abstract append(draft: MessageDraft, bytes: number): RoomMessage | Promise<RoomMessage>;

  /**
   * For a store kept where the cluster's broadcasts are published (Redis): the same append
   * as a condition of the broadcast that delivers `draft`, so both take one command (see
   * PublishCondition `place`). The condition sets `draft`'s offset and epoch before the
   * broadcast reaches anyone. Undefined: append first, then broadcast.
   */
  placeCondition?(draft: MessageDraft, bytes: number): PublishCondition | undefined;

  /** The `history` answer for a room (see `selectHistory` for the rule). */
  abstract read(room: string, query: HistoryQuery): Promise<HistoryPage>;

  /**
   * Removes the text of the retained message at `offset` of `epoch` (the room's current one;
   * undefined: whichever is current), keeping its tombstone: `not-found` when it is not
   * retained (or `epoch` is not current),
   * `forbidden` when `by` is a socket that did not send it. Atomic per room.
   */
  abstract redact(room: string, epoch: string | undefined, offset: number, by: string): Promise<RedactOutcome>;

  /** Someone is in the room: its epoch must not lapse while anyone is there. */
  abstract occupied(room: string): Promise<void>;

  /**
   * The room's last member left: once nothing of it is retained any more, the room's
   * offsets may be forgotten (the next message starts a new epoch).
   */
  abstract vacated(room: string): Promise<void>;
}

export interface Selection {
  /** Index (in the retained, oldest-first list) of the first message to return. */
  from: number;
  complete: boolean;
}

/**
 * Which retained messages a `history` request gets, and whether that is complete.
 * The retained messages of a room are always a consecutive run of offsets ending at the
 * latest one (eviction only ever takes the oldest), so counts are enough:
 * `retained` messages, the last of them at offset `latest`.
 */
export function selectHistory(retained: number, latest: number, currentEpoch: string, query: HistoryQuery): Selection {
  const staleEpoch = query.epoch !== undefined && query.epoch !== currentEpoch;
  const since = query.since;
  if (staleEpoch || (since !== undefined && since > latest)) {
    return { from: Math.max(0, retained - query.limit), complete: false };
  }
  const after = since ?? 0;
  const first = latest - retained + 1;
  const skipped = Math.min(retained, Math.max(0, after - first + 1));
  const available = retained - skipped;
  const needed = latest - after;
  return {
    from: Math.max(skipped, retained - query.limit),
    complete: available >= needed && needed <= query.limit,
  };
}
