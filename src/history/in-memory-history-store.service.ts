import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomBase64url } from '../common/random/pooled-random.js';
import type { RedactedMessage, RoomMessage } from '../common/events.js';
import { historyConfig, type HistoryConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import {
  HistoryStoreService,
  REDACTED_BY_SERVER,
  selectHistory,
  type RedactOutcome,
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
 * time and offset are numbers, in one typed array. Retaining a message as objects would
 * carry every one of them through the young generation into the old one, where they add to
 * each full collection's marking: at a few thousand messages a second that was a collection
 * every few seconds, a pause in the tail of every message's latency. The buffer is a queue
 * of bytes (new records at the end, the oldest dropped from the front), compacted or
 * regrown when the end is reached; the typed array is a ring that grows by doubling up to
 * HISTORY_SIZE, so a quiet room costs a few slots, not the full size.
 *
 * What a room holds (`held`) is counted against HISTORY_MAX_BYTES, not just the message
 * bytes: with thousands of small rooms the buffers' spare room and the per-room objects
 * were most of the memory. So both the buffer and the ring start small, grow by doubling
 * and shrink to half once three quarters are unused, and a room with nothing retained lets
 * go of both (it keeps only its offsets, for as long as somebody is in it).
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
   * The ring, SLOT_FIELDS numbers per slot (the field offsets are below): one array rather
   * than one per field, as each typed array off the heap is an object and an allocation of
   * its own.
   */
  private slots: Float64Array = EMPTY_RING;
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

  /** Bytes this room holds for its retained messages (none once nothing is retained). */
  get held(): number {
    return this.count === 0 ? 0 : ROOM_OVERHEAD + this.slab.length + this.slots.byteLength;
  }

  push(message: RoomMessage, size: number): void {
    if (this.count * SLOT_FIELDS === this.slots.length) this.resize(Math.min(this.capacity, 2 * this.count || 2));
    const { message: text, ...fields } = message;
    const meta = JSON.stringify(fields);
    const metaLength = Buffer.byteLength(meta);
    const wide = NOT_LATIN1.test(text);
    const length = metaLength + (wide ? 2 * text.length : text.length);
    this.reserve(length);
    const at = this.tail - this.base;
    this.slab.write(meta, at, metaLength, 'utf8');
    this.slab.write(text, at + metaLength, length - metaLength, wide ? 'utf16le' : 'latin1');
    const i = this.slot(this.count);
    const slots = this.slots;
    slots[i + START] = this.tail;
    slots[i + LENGTH] = length;
    slots[i + META_LENGTH] = metaLength;
    slots[i + WIDE] = wide ? 1 : 0;
    slots[i + SIZE] = size;
    slots[i + AT] = message.at;
    slots[i + OFFSET] = message.offset;
    this.tail += length;
    this.count += 1;
    this.bytes += size;
  }

  /** The oldest retained message's time and offset (undefined when none). */
  oldestAt(): number | undefined {
    return this.count > 0 ? this.slots[this.start * SLOT_FIELDS + AT] : undefined;
  }

  oldestOffset(): number | undefined {
    return this.count > 0 ? this.slots[this.start * SLOT_FIELDS + OFFSET] : undefined;
  }

  /** Drops the oldest retained message; returns its size. */
  shift(): number {
    const i = this.start * SLOT_FIELDS;
    const size = this.slots[i + SIZE];
    this.head = this.slots[i + START] + this.slots[i + LENGTH];
    this.start = (this.start + 1) % (this.slots.length / SLOT_FIELDS);
    this.count -= 1;
    this.bytes -= size;
    if (this.count === 0) {
      // Nothing left to read: the buffer and the ring go.
      this.slab = EMPTY_SLAB;
      this.slots = EMPTY_RING;
      this.start = 0;
      this.base = this.head = this.tail;
      return size;
    }
    // Three quarters unused: half of it goes (a copy paid for by the records dropped since
    // the last resize, so never twice for the same bytes).
    const live = this.tail - this.head;
    if (this.slab.length > MIN_SLAB && 4 * live <= this.slab.length) this.move(Buffer.allocUnsafeSlow(2 * live));
    const slots = this.slots.length / SLOT_FIELDS;
    if (slots > MIN_SLOTS && 4 * this.count <= slots) this.resize(slots >> 1);
    return size;
  }

  /** The retained messages from index `from` (0 = oldest) on, oldest first; tombstones for redacted ones. */
  slice(from: number): Array<RoomMessage | RedactedMessage> {
    const out: Array<RoomMessage | RedactedMessage> = [];
    for (let k = from; k < this.count; k++) {
      const i = this.slot(k);
      const at = this.slots[i + START] - this.base;
      const textAt = at + this.slots[i + META_LENGTH];
      const fields = JSON.parse(this.slab.toString('utf8', at, textAt)) as Omit<RoomMessage, 'message'>;
      if (this.slots[i + WIDE] === REDACTED) {
        out.push({ ...fields, redacted: true });
        continue;
      }
      const encoding = this.slots[i + WIDE] ? 'utf16le' : 'latin1';
      out.push({ ...fields, message: this.slab.toString(encoding, textAt, at + this.slots[i + LENGTH]) });
    }
    return out;
  }

  /**
   * Redacts the retained message at `offset`: its text bytes are overwritten with zeros (so
   * the ciphertext is gone from memory, not just hidden) and it reads back as a tombstone.
   */
  redact(offset: number, by: string): RedactOutcome {
    const epoch = this.epoch;
    const first = this.oldestOffset();
    if (first === undefined || offset < first || offset >= first + this.count) return { outcome: 'not-found' };
    const i = this.slot(offset - first);
    if (this.slots[i + OFFSET] !== offset) return { outcome: 'not-found' };
    const at = this.slots[i + START] - this.base;
    const textAt = at + this.slots[i + META_LENGTH];
    const { id, fromId } = JSON.parse(this.slab.toString('utf8', at, textAt)) as RoomMessage;
    if (this.slots[i + WIDE] === REDACTED) return { outcome: 'already', id, epoch };
    if (by !== REDACTED_BY_SERVER && by !== fromId) return { outcome: 'forbidden' };
    this.slab.fill(0, textAt, at + this.slots[i + LENGTH]);
    this.slots[i + WIDE] = REDACTED;
    return { outcome: 'redacted', id, epoch };
  }

  /** Where the `k`th retained message (0 = oldest) is in the ring. */
  private slot(k: number): number {
    return ((this.start + k) % (this.slots.length / SLOT_FIELDS)) * SLOT_FIELDS;
  }

  /**
   * Room for `length` more bytes at the end: the live bytes move to the front of this
   * buffer when that leaves it between a half and an eighth full, else to a new one twice
   * their size (the first record of a room gets a buffer just its size, rounded up: many
   * rooms never get a second).
   */
  private reserve(length: number): void {
    if (this.tail - this.base + length <= this.slab.length) return;
    const live = this.tail - this.head;
    const need = live + length;
    if (this.slab.length >= 2 * need && this.slab.length <= 8 * need) return this.move(this.slab);
    this.move(Buffer.allocUnsafeSlow(live === 0 ? Math.ceil(need / MIN_SLAB) * MIN_SLAB : 2 * need));
  }

  /** The live bytes to the front of `target` (this buffer or a new one). */
  private move(target: Buffer): void {
    // (within one buffer, copy moves overlapping bytes correctly)
    this.slab.copy(target, 0, this.head - this.base, this.tail - this.base);
    this.slab = target;
    this.base = this.head;
  }

  /** The ring with `size` slots, the retained messages from slot 0 on. */
  private resize(size: number): void {
    const to = new Float64Array(size * SLOT_FIELDS);
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      for (let f = 0; f < SLOT_FIELDS; f++) to[k * SLOT_FIELDS + f] = this.slots[i + f];
    }
    this.slots = to;
    this.start = 0;
  }
}

/** A slot's fields: where its record starts (a position in the room's byte stream), the
 * record's length, its JSON part's length, whether the text is two bytes a character, the
 * ciphertext size, the time and the offset. */
const START = 0;
const LENGTH = 1;
const META_LENGTH = 2;
const WIDE = 3;
const SIZE = 4;
const AT = 5;
const OFFSET = 6;
const SLOT_FIELDS = 7;
/** The WIDE field of a redacted message: no text any more (its bytes are zeros). */
const REDACTED = 2;

const EMPTY_SLAB = Buffer.alloc(0);
const EMPTY_RING = new Float64Array(0);
const NOT_LATIN1 = /[^\u0000-\u00ff]/;
/** The granule of a room's first buffer, and the size below which a buffer is not shrunk. */
const MIN_SLAB = 64;
/** The ring is not shrunk below this many slots. */
const MIN_SLOTS = 4;
/**
 * What a room with retained messages holds besides its buffer's and ring's bytes, counted
 * against HISTORY_MAX_BYTES: the RoomLog, its map entry and epoch, the Buffer and the
 * Float64Array objects and the allocator's records of their memory. Measured, rounded up.
 */
const ROOM_OVERHEAD = 512;
/** Per retained message, the node's queue of rooms in append order (up to two entries). */
const QUEUE_BYTES = 32;

/**
 * History for one node. Offsets are per room and per process: a restart starts every room
 * in a new epoch. Retention: HISTORY_SIZE and HISTORY_ROOM_BYTES per room, HISTORY_TTL_S by
 * age (trimmed on every touch of a room and by a periodic sweep), and HISTORY_MAX_BYTES for
 * what the whole node holds (heldBytes), the node's oldest message going first (a queue of
 * room references in append order tells which one that is).
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
  /** Every room's `held`, summed as they change. */
  private roomsHeld = 0;
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
    const before = log.held;
    log.push(message, bytes);
    this.roomsHeld += log.held - before;
    this.totalBytes += bytes;
    this.totalMessages += 1;
    this.queueRooms.push(log);
    this.queueOffsets.push(message.offset);
    while (log.count > this.config.size) this.evictOldest(log, 'count');
    while (log.bytes > this.config.roomBytes && log.count > 0) this.evictOldest(log, 'bytes');
    while (this.heldBytes() > this.config.maxBytes) if (!this.evictNodeOldest()) break;
    this.compactQueue();
    return message;
  }

  /**
   * What the retained history holds, as counted against HISTORY_MAX_BYTES: the rooms'
   * buffers and rings as allocated (spare room included), a fixed amount per room with
   * messages and per message. Rooms with nothing retained hold only their offsets, which
   * live as long as someone is in the room and are not counted.
   */
  heldBytes(): number {
    return this.roomsHeld + this.totalMessages * QUEUE_BYTES;
  }

  async read(room: string, query: HistoryQuery): Promise<HistoryPage> {
    const log = this.logOf(room);
    this.trimAge(log, Date.now());
    const { from, complete } = selectHistory(log.count, log.latest, log.epoch, query);
    return { messages: log.slice(from), offset: log.latest, epoch: log.epoch, complete };
  }

  async redact(room: string, epoch: string | undefined, offset: number, by: string): Promise<RedactOutcome> {
    const log = this.rooms.get(room);
    if (!log || (epoch !== undefined && log.epoch !== epoch)) return { outcome: 'not-found' };
    this.trimAge(log, Date.now());
    return log.redact(offset, by);
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
    const before = log.held;
    this.totalBytes -= log.shift();
    this.roomsHeld += log.held - before;
    this.totalMessages -= 1;
    this.evictions[reason].inc();
  }

  /**
   * The node's oldest retained message goes (queue entries of messages already gone are
   * skipped); false when nothing was left to evict.
   */
  private evictNodeOldest(): boolean {
    while (this.queueHead < this.queueRooms.length) {
      const log = this.queueRooms[this.queueHead];
      const offset = this.queueOffsets[this.queueHead];
      this.queueHead += 1;
      if (this.rooms.get(log.room) === log && log.oldestOffset() === offset) {
        this.evictOldest(log, 'node-bytes');
        this.dropIfForgotten(log);
        return true;
      }
    }
    return false;
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
