import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomBase64url } from '../common/random/pooled-random.js';
import type { RoomMessage } from '../common/events.js';
import { historyConfig, type HistoryConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import {
  HistoryStoreService,
  selectHistory,
  type EvictionReason,
  type HistoryPage,
  type HistoryQuery,
  type MessageDraft,
} from './history-store.service.js';

/** A new epoch: random, so a restarted process never repeats one. */
export function newEpoch(): string {
  return randomBase64url(9);
}

/**
 * One room's log: its epoch, latest offset and the retained messages, oldest first. The
 * messages are kept in one buffer per room, outside V8's heap; only their place, size,
 * time and offset are numbers in typed arrays. Retaining a message as objects would carry
 * every one of them through the young generation into the old one, where they add to each
 * full collection's marking: at a few thousand messages a second that was a collection
 * every few seconds, a pause in the tail of every message's latency. The buffer is a queue
 * of bytes (new records at the end, the oldest dropped from the front), compacted or
 * regrown when the end is reached; the typed arrays are a ring that grows by doubling up
 * to HISTORY_SIZE, so a quiet room costs a few slots, not the full size.
 *
 * A record is the message's other fields as JSON, then its text as it is in memory: one
 * byte per character when every character fits (latin1), else two (UTF-16). Either gives
 * back exactly the string that came in, lone surrogates included, in at most twice its
 * counted UTF-8 size (JSON would escape a control character into six bytes).
 */
class RoomLog {
  latest = 0;
  bytes = 0;
  /** Nobody is in the room. */
  vacant = false;
  count = 0;
  /** Ring slot of the oldest retained message. */
  private start = 0;
  /**
   * Per ring slot: where its record starts (a position in the room's byte stream), the
   * record's length, its JSON part's length, whether the text is two bytes a character,
   * the ciphertext size, the time and the offset.
   */
  private starts = new Float64Array(4);
  private lengths = new Float64Array(4);
  private metaLengths = new Float64Array(4);
  private wide = new Uint8Array(4);
  private sizes = new Float64Array(4);
  private ats = new Float64Array(4);
  private offsets = new Float64Array(4);
  private slab: Buffer = EMPTY_SLAB;
  /** Stream positions: of slab[0], of the oldest record, and past the newest one. */
  private base = 0;
  private head = 0;
  private tail = 0;

  constructor(
    readonly room: string,
    readonly epoch: string,
    private readonly capacity: number,
  ) {}

  push(message: RoomMessage, size: number): void {
    if (this.count === this.starts.length) this.grow();
    const { message: text, ...fields } = message;
    const meta = JSON.stringify(fields);
    const metaLength = Buffer.byteLength(meta);
    const wide = NOT_LATIN1.test(text);
    const length = metaLength + (wide ? 2 * text.length : text.length);
    this.reserve(length);
    const at = this.tail - this.base;
    this.slab.write(meta, at, metaLength, 'utf8');
    this.slab.write(text, at + metaLength, length - metaLength, wide ? 'utf16le' : 'latin1');
    const i = (this.start + this.count) % this.starts.length;
    this.starts[i] = this.tail;
    this.lengths[i] = length;
    this.metaLengths[i] = metaLength;
    this.wide[i] = wide ? 1 : 0;
    this.sizes[i] = size;
    this.ats[i] = message.at;
    this.offsets[i] = message.offset;
    this.tail += length;
    this.count += 1;
    this.bytes += size;
  }

  /** The oldest retained message's time and offset (undefined when none). */
  oldestAt(): number | undefined {
    return this.count > 0 ? this.ats[this.start] : undefined;
  }

  oldestOffset(): number | undefined {
    return this.count > 0 ? this.offsets[this.start] : undefined;
  }

  /** Drops the oldest retained message; returns its size. */
  shift(): number {
    const size = this.sizes[this.start];
    this.head = this.starts[this.start] + this.lengths[this.start];
    this.start = (this.start + 1) % this.starts.length;
    this.count -= 1;
    this.bytes -= size;
    if (this.count === 0) {
      // Nothing left to read: the buffer goes.
      this.slab = EMPTY_SLAB;
      this.base = this.head = this.tail;
    }
    return size;
  }

  /** The retained messages from index `from` (0 = oldest) on, oldest first. */
  slice(from: number): RoomMessage[] {
    const out: RoomMessage[] = [];
    for (let k = from; k < this.count; k++) {
      const i = (this.start + k) % this.starts.length;
      const at = this.starts[i] - this.base;
      const textAt = at + this.metaLengths[i];
      const message = JSON.parse(this.slab.toString('utf8', at, textAt)) as RoomMessage;
      message.message = this.slab.toString(this.wide[i] ? 'utf16le' : 'latin1', textAt, at + this.lengths[i]);
      out.push(message);
    }
    return out;
  }

  /** Room for `length` more bytes at the end: the live bytes move to the front of this buffer or of a new one. */
  private reserve(length: number): void {
    if (this.tail - this.base + length <= this.slab.length) return;
    const live = this.tail - this.head;
    const need = live + length;
    const fits = this.slab.length >= 2 * need && this.slab.length <= 8 * need;
    const target = fits ? this.slab : Buffer.allocUnsafeSlow(Math.max(MIN_SLAB, 2 * need));
    // (within one buffer, copy moves overlapping bytes correctly)
    this.slab.copy(target, 0, this.head - this.base, this.tail - this.base);
    this.slab = target;
    this.base = this.head;
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.starts.length * 2);
    const reorder = <T extends Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(from: T, to: T): T => {
      for (let k = 0; k < this.count; k++) to[k] = from[(this.start + k) % from.length];
      return to;
    };
    this.starts = reorder(this.starts, new Float64Array(size));
    this.lengths = reorder(this.lengths, new Float64Array(size));
    this.metaLengths = reorder(this.metaLengths, new Float64Array(size));
    this.wide = reorder(this.wide, new Uint8Array(size));
    this.sizes = reorder(this.sizes, new Float64Array(size));
    this.ats = reorder(this.ats, new Float64Array(size));
    this.offsets = reorder(this.offsets, new Float64Array(size));
    this.start = 0;
  }
}

const EMPTY_SLAB = Buffer.alloc(0);
const NOT_LATIN1 = /[^\u0000-\u00ff]/;
const MIN_SLAB = 4096;

/**
 * History for one node. Offsets are per room and per process: a restart starts every room
 * in a new epoch. Retention: HISTORY_SIZE and HISTORY_ROOM_BYTES per room, HISTORY_TTL_S by
 * age (trimmed on every touch of a room and by a periodic sweep), and HISTORY_MAX_BYTES for
 * the whole node, the node's oldest message going first (a queue of room references in
 * append order tells which one that is).
 */
@Injectable()
export class InMemoryHistoryStoreService extends HistoryStoreService implements OnModuleDestroy {
  private readonly rooms = new Map<string, RoomLog>();
  /** Append order over every room: the room of each retained message and its offset. */
  private queueRooms: RoomLog[] = [];
  private queueOffsets: number[] = [];
  private queueHead = 0;
  private totalBytes = 0;
  private totalMessages = 0;
  private readonly sweeper: NodeJS.Timeout;
  /** The eviction counter's children, bound once (labelling on every eviction costs more). */
  private readonly evictions: Record<EvictionReason, { inc(): void }>;

  constructor(
    @Inject(historyConfig.KEY) private readonly config: HistoryConfig,
    private readonly metrics: MetricsService,
  ) {
    super();
    metrics.setHistoryCollector(() => ({ messages: this.totalMessages, bytes: this.totalBytes }));
    const counter = metrics.historyEvictions;
    this.evictions = {
      count: counter.labels('count'),
      bytes: counter.labels('bytes'),
      age: counter.labels('age'),
      'node-bytes': counter.labels('node-bytes'),
    };
    this.sweeper = setInterval(() => this.sweep(), Math.min(config.ttlMs, 60_000));
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  append(draft: MessageDraft, bytes: number): RoomMessage {
    const log = this.logOf(draft.room);
    log.latest += 1;
    const message = draft;
    message.offset = log.latest;
    message.epoch = log.epoch;
    if (this.config.size === 0) return message;
    this.trimAge(log, draft.at);
    log.push(message, bytes);
    this.totalBytes += bytes;
    this.totalMessages += 1;
    this.queueRooms.push(log);
    this.queueOffsets.push(message.offset);
    while (log.count > this.config.size) this.evictOldest(log, 'count');
    while (log.bytes > this.config.roomBytes && log.count > 0) this.evictOldest(log, 'bytes');
    while (this.totalBytes > this.config.maxBytes) this.evictNodeOldest();
    this.compactQueue();
    return message;
  }

  async read(room: string, query: HistoryQuery): Promise<HistoryPage> {
    const log = this.logOf(room);
    this.trimAge(log, Date.now());
    const { from, complete } = selectHistory(log.count, log.latest, log.epoch, query);
    return { messages: log.slice(from), offset: log.latest, epoch: log.epoch, complete };
  }

  async occupied(room: string): Promise<void> {
    const log = this.rooms.get(room);
    if (log) log.vacant = false;
  }

  async vacated(room: string): Promise<void> {
    const log = this.rooms.get(room);
    if (!log) return;
    log.vacant = true;
    this.trimAge(log, Date.now());
    this.dropIfForgotten(log);
  }

  /** The room's log, a new one (a new epoch) when the room has none. */
  private logOf(room: string): RoomLog {
    let log = this.rooms.get(room);
    if (!log) {
      // One slot more than retained: a message is pushed before the oldest is evicted.
      log = new RoomLog(room, newEpoch(), this.config.size + 1);
      this.rooms.set(room, log);
    }
    return log;
  }

  private trimAge(log: RoomLog, now: number): void {
    const cutoff = now - this.config.ttlMs;
    for (let at = log.oldestAt(); at !== undefined && at <= cutoff; at = log.oldestAt()) this.evictOldest(log, 'age');
  }

  private evictOldest(log: RoomLog, reason: EvictionReason): void {
    this.totalBytes -= log.shift();
    this.totalMessages -= 1;
    this.evictions[reason].inc();
  }

  /** The node's oldest retained message goes (queue entries of messages already gone are skipped). */
  private evictNodeOldest(): void {
    while (this.queueHead < this.queueRooms.length) {
      const log = this.queueRooms[this.queueHead];
      const offset = this.queueOffsets[this.queueHead];
      this.queueHead += 1;
      if (this.rooms.get(log.room) === log && log.oldestOffset() === offset) {
        this.evictOldest(log, 'node-bytes');
        this.dropIfForgotten(log);
        return;
      }
    }
  }

  /** Keeps the queue within twice the retained messages (stale entries are removed in bulk). */
  private compactQueue(): void {
    const live = this.queueRooms.length - this.queueHead;
    const staleTail = live >= 1024 && live > 2 * this.totalMessages;
    const consumedHead = this.queueHead >= 1024 && this.queueHead * 2 > this.queueRooms.length;
    if (!staleTail && !consumedHead) return;
    const rooms: RoomLog[] = [];
    const offsets: number[] = [];
    for (let i = this.queueHead; i < this.queueRooms.length; i++) {
      const log = this.queueRooms[i];
      const first = log.oldestOffset();
      if (this.rooms.get(log.room) === log && first !== undefined && this.queueOffsets[i] >= first) {
        rooms.push(log);
        offsets.push(this.queueOffsets[i]);
      }
    }
    this.queueRooms = rooms;
    this.queueOffsets = offsets;
    this.queueHead = 0;
  }

  /** An empty room with nothing retained forgets its offsets: continuity cannot be vouched for. */
  private dropIfForgotten(log: RoomLog): void {
    if (log.vacant && log.count === 0 && this.rooms.get(log.room) === log) this.rooms.delete(log.room);
  }

  private sweep(): void {
    const now = Date.now();
    for (const log of [...this.rooms.values()]) {
      this.trimAge(log, now);
      this.dropIfForgotten(log);
    }
  }
}
