import type { ReadReceipt } from '../common/events.js';

/**
 * Members' read positions (v1.2 `read` / `receipts`), per room: one position per member,
 * in one epoch, moving forward only. Asynchronous and transport-free so a Redis backend can
 * replace it. A position lives with the member: `forget` when it leaves the room; a
 * position of an earlier epoch counts as none.
 */
export abstract class ReadPositionStoreService {
  /**
   * Moves `receipt.id`'s position in `room` to `receipt` when it is ahead (or the member
   * has none in that epoch), atomically; resolves to the position after the request and
   * whether it moved.
   */
  abstract advance(room: string, receipt: ReadReceipt): Promise<{ position: ReadReceipt; moved: boolean }>;
  /** The positions in `room` of `epoch`, in no particular order. */
  abstract list(room: string, epoch: string): Promise<ReadReceipt[]>;
  /** Drops the member's position in `room`. */
  abstract forget(room: string, id: string): Promise<void>;
}
