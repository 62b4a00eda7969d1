import { Inject, Injectable } from '@nestjs/common';
import type { RedactedMessage, RoomMessage } from '../common/events.js';
import { UnavailableError } from '../common/errors/parley.error.js';
import { historyConfig, type HistoryConfig } from '../config/configuration.js';
import { newEpoch } from './in-memory-history-store.service.js';
import {
  HistoryStoreService,
  REDACTED_BY_SERVER,
  type RedactOutcome,
  type HistoryPage,
  type HistoryQuery,
  type MessageDraft,
} from './history-store.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RedisService } from '../redis/redis.service.js';
import type { PublishCondition } from '../common/realtime/publish-condition.js';

/**
 * Room history in Redis, shared by every node. One script assigns a message's offset and
 * appends it (so offsets are gapless and ordered across nodes) and trims by count and
 * bytes; reads trim by age. Both keys of a room carry a TTL, so Redis forgets a quiet room
 * by itself; an epoch key that is missing (expired, evicted, Redis restarted empty) makes
 * the next append or read start a new epoch. Only ciphertext and metadata are stored.
 */
@Injectable()
export class RedisHistoryStoreService extends HistoryStoreService {
  constructor(
    private readonly redis: RedisService,
    @Inject(historyConfig.KEY) private readonly config: HistoryConfig,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  async append(draft: MessageDraft, bytes: number): Promise<RoomMessage> {
    const k = this.redis.keys;
    const [epoch, offset, byCount, byBytes, byAge] = await this.redis
      .script<[string, number, number, number, number]>(
        'parleyHistoryAppend',
        [k.roomHistoryMeta(draft.room), k.roomHistory(draft.room)],
        [newEpoch(), draft.at, this.config.ttlMs, bytes, stored(draft), this.config.size, this.config.roomBytes],
      )
      .catch(unavailable);
    this.evicted(byCount, byBytes, byAge);
    draft.offset = offset;
    draft.epoch = epoch;
    return draft;
  }

  override placeCondition(draft: MessageDraft, bytes: number): PublishCondition {
    const k = this.redis.keys;
    return {
      kind: 'place',
      keys: [k.roomHistoryMeta(draft.room), k.roomHistory(draft.room)],
      args: [
        k.prefix,
        newEpoch(),
        draft.at,
        this.config.ttlMs,
        bytes,
        stored(draft),
        this.config.size,
        this.config.roomBytes,
      ],
      onReply: (reply) => {
        const [epoch, offset, byCount, byBytes, byAge] = reply as [string, number, number, number, number];
        this.evicted(byCount, byBytes, byAge);
        draft.offset = offset;
        draft.epoch = epoch;
      },
    };
  }

  async read(room: string, query: HistoryQuery): Promise<HistoryPage> {
    const k = this.redis.keys;
    const [epoch, latest, complete, byAge, entries] = await this.redis
      .script<[string, number, number, number, string[]]>(
        'parleyHistoryRead',
        [k.roomHistoryMeta(room), k.roomHistory(room)],
        [newEpoch(), Date.now(), this.config.ttlMs, query.since ?? '', query.epoch ?? '', query.limit],
      )
      .catch(unavailable);
    this.evicted(0, 0, byAge);
    return { messages: entries.map((e) => parseEntry(e, epoch)), offset: latest, epoch, complete: complete === 1 };
  }

  async redact(room: string, epoch: string | undefined, offset: number, by: string): Promise<RedactOutcome> {
    const k = this.redis.keys;
    const [outcome, id, current] = await this.redis
      .script<[string, string?, string?]>(
        'parleyHistoryRedact',
        [k.roomHistoryMeta(room), k.roomHistory(room)],
        [epoch ?? '', offset, by === REDACTED_BY_SERVER ? '' : by, Date.now(), this.config.ttlMs],
      )
      .catch(unavailable);
    if (outcome === 'redacted' || outcome === 'already') return { outcome, id: id!, epoch: current! };
    return { outcome: outcome === 'forbidden' ? 'forbidden' : 'not-found' };
  }

  async occupied(room: string): Promise<void> {
    await this.redis.run((c) => c.persist(this.redis.keys.roomHistoryMeta(room)));
  }

  async vacated(room: string): Promise<void> {
    const k = this.redis.keys;
    const byAge = await this.redis.script<number>(
      'parleyHistoryVacate',
      [k.roomHistoryMeta(room), k.roomHistory(room)],
      ['', Date.now(), this.config.ttlMs],
    );
    this.evicted(0, 0, byAge);
  }

  private evicted(byCount: number, byBytes: number, byAge: number): void {
    if (byCount) this.metrics.historyEvictions.inc({ reason: 'count' }, byCount);
    if (byBytes) this.metrics.historyEvictions.inc({ reason: 'bytes' }, byBytes);
    if (byAge) this.metrics.historyEvictions.inc({ reason: 'age' }, byAge);
  }
}

/** Redis failed or did not answer: the request is refused with UNAVAILABLE (the message is not relayed). */
function unavailable(): never {
  throw new UnavailableError();
}

/** The JSON kept in the list entry: the message without its offset and epoch (kept beside it). */
function stored(m: MessageDraft): string {
  return JSON.stringify({ id: m.id, room: m.room, message: m.message, from: m.from, fromId: m.fromId, at: m.at });
}

/** `<offset>|<bytes>|<at>|<json>` back to the RoomMessage it was broadcast as (or its tombstone). */
function parseEntry(entry: string, epoch: string): RoomMessage | RedactedMessage {
  const a = entry.indexOf('|');
  const b = entry.indexOf('|', a + 1);
  const c = entry.indexOf('|', b + 1);
  const message = JSON.parse(entry.slice(c + 1)) as RoomMessage | RedactedMessage;
  message.offset = Number(entry.slice(0, a));
  message.epoch = epoch;
  return message;
}
