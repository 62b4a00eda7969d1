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
 * One room's log: its epoch, latest offset and a ring buffer of the retained messages
 * (the broadcast objects themselves, with their byte sizes beside them). The ring grows
 * by doubling up to HISTORY_SIZE, so a quiet room costs a few slots, not the full size.
 */
class RoomLog {
  latest = 0;
  bytes = 0;
  /** Nobody is in the room. */
  vacant = false;
  private ring: Array<RoomMessage | undefined> = new Array(4);
  private sizes: number[] = [0, 0, 0, 0];
  private start = 0;
  count = 0;

  constructor(
    readonly room: string,
    readonly epoch: string,
    private readonly capacity: number,
  ) {}

  push(message: RoomMessage, size: number): void {
    if (this.count === this.ring.length) this.grow();
    const i = (this.start + this.count) % this.ring.length;
    this.ring[i] = message;
    this.sizes[i] = size;
    this.count += 1;
    this.bytes += size;
  }

  /** The oldest retained message (undefined when none). */
  oldest(): RoomMessage | undefined {
    return this.count > 0 ? this.ring[this.start] : undefined;
  }

  /** Drops the oldest retained message; returns its size. */
  shift(): number {
    const size = this.sizes[this.start];
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) % this.ring.length;
    this.count -= 1;
    this.bytes -= size;
    return size;
  }

  /** The retained messages from index `from` (0 = oldest) on, oldest first. */
  slice(from: number): RoomMessage[] {
    const out: RoomMessage[] = [];
    for (let k = from; k < this.count; k++) out.push(this.ring[(this.start + k) % this.ring.length]!);
    return out;
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.ring.length * 2);
    const ring: Array<RoomMessage | undefined> = new Array(size);
    const sizes: number[] = new Array(size).fill(0);
    for (let k = 0; k < this.count; k++) {
      const i = (this.start + k) % this.ring.length;
      ring[k] = this.ring[i];
      sizes[k] = this.sizes[i];
    }
    this.ring = ring;
    this.sizes = sizes;
    this.start = 0;
  }
}

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
    for (let m = log.oldest(); m && m.at <= cutoff; m = log.oldest()) this.evictOldest(log, 'age');
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
      if (this.rooms.get(log.room) === log && log.oldest()?.offset === offset) {
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
      const first = log.oldest()?.offset;
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
