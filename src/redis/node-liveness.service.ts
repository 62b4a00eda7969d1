import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { LogThrottle } from '../common/logging/log-throttle.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { limitsConfig, type LimitsConfig } from '../config/configuration.js';
import { OWNED_KINDS } from './redis.constants.js';
import { RedisService } from './redis.service.js';

export interface CleanupReport {
  node: string;
  sockets: number;
  ms: number;
}

/**
 * Node liveness for the cluster:
 * - a heartbeat key `hb:<node>` with a TTL, refreshed every `heartbeatMs`, re-created at
 *   once when Redis comes back;
 * - a sweeper on every node: the owners recorded with the data (`owners`, written by the
 *   same scripts that write the entries, and rebuilt from the `node:<id>:*` index keys by a
 *   periodic scan) that have no heartbeat are dead; one node per dead node (lock
 *   `sweep:<node>`, SET NX) emits `socket.departed` (with `node`) for each of its sockets,
 *   so every feature removes what that node still owns and tells whom it must (rooms get
 *   `leave` + `users`, call peers `ended`, …); then `node.gone`, for what remains (calls
 *   to adopt, per-node tallies);
 * - after a reconnection, `store.reconnected` lets each feature put back what Redis lost of
 *   this node's live sockets; afterwards this node's entries whose socket is gone depart;
 * - graceful shutdown: this node's sockets depart (with the events) before the server
 *   closes, and the heartbeat is deleted.
 * It knows no feature and no socket data: only node ids, socket ids and the index keys.
 * A node only sweeps after it has been connected for one heartbeat TTL, so live nodes have
 * re-created their heartbeats after a Redis restart before anyone judges them.
 */
@Injectable()
export class NodeLivenessService implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('NodeLiveness');
  private heartbeatTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private sweepAllowedAt = 0;
  private lastOwnerScan = 0;
  private sweeping = false;
  private stopped = false;
  private readonly throttle = new LogThrottle();
  private readonly staleTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly redis: RedisService,
    private readonly realtime: RealtimeService,
    private readonly bus: DomainEventBus,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {}

  get nodeId(): string {
    return this.redis.nodeId;
  }

  async onModuleInit(): Promise<void> {
    await this.redis.ready();
    // Alive before this node writes anything.
    await this.heartbeat();
    this.sweepAllowedAt = Date.now() + this.redis.timings.heartbeatTtlMs + 1_000;
    // First of the reconnection's handlers: be alive again before anyone judges this node;
    // last: what is still owned here without a live socket departs.
    this.bus.on('store.reconnected', () => this.reconnected(), { order: 0 });
    this.bus.on('store.reconnected', () => this.dropStale(), { order: 1_000 });
  }

  onApplicationBootstrap(): void {
    const t = this.redis.timings;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), t.heartbeatMs);
    this.heartbeatTimer.unref();
    const tick = () => {
      if (this.stopped) return;
      void this.sweep().finally(() => {
        if (this.stopped) return;
        // Jitter, so the nodes do not all race for the same lock at the same instant.
        this.sweepTimer = setTimeout(tick, t.sweepMs * (0.75 + Math.random() * 0.5));
        this.sweepTimer.unref();
      });
    };
    this.sweepTimer = setTimeout(tick, t.sweepMs);
    this.sweepTimer.unref();
  }

  /** Graceful shutdown: this node's sockets depart (events included) while the server still runs. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.sweepTimer);
    for (const t of this.staleTimers) clearTimeout(t);
    this.staleTimers.clear();
    if (!this.redis.connected) return;
    try {
      const report = await this.cleanNode(this.nodeId);
      await this.redis.run((c) => c.del(this.redis.keys.heartbeat(this.nodeId)));
      await this.redis.script('parleyOwnerRelease', [this.redis.keys.owners], [this.nodeId]);
      this.logger.log({ event: 'node-shutdown-cleanup', ...report });
    } catch (err) {
      this.logger.warn({ event: 'node-shutdown-cleanup-failed', err: String(err) });
    }
  }

  /** One sweep: finds dead owners and cleans each up (exposed for tests and diagnostics). */
  async sweep(): Promise<CleanupReport[]> {
    if (this.sweeping || this.stopped || !this.redis.connected || this.redis.failing || !this.sweepAllowed()) return [];
    this.sweeping = true;
    const reports: CleanupReport[] = [];
    try {
      if (Date.now() - this.lastOwnerScan >= this.redis.timings.ownerScanMs) await this.scanOwners();
      const k = this.redis.keys;
      const owners = (await this.redis.run((c) => c.smembers(k.owners))).filter((n) => n !== this.nodeId);
      if (owners.length === 0) return reports;
      const alive = await this.redis.run((c) => {
        const p = c.pipeline();
        for (const n of owners) p.exists(k.heartbeat(n));
        return p.exec();
      });
      // Redis may have just answered again after failures (this sweep's own commands can be
      // the first to get through): then nobody's heartbeat is to be trusted yet.
      for (let i = 0; i < owners.length && !this.stopped && this.sweepAllowed(); i++) {
        const [err, exists] = alive?.[i] ?? [new Error('no reply'), 1];
        if (err || exists === 1) continue;
        const report = await this.cleanDeadNode(owners[i]);
        if (report) reports.push(report);
      }
    } catch (err) {
      this.warn('sweep-failed', err);
    } finally {
      this.sweeping = false;
    }
    return reports;
  }

  /**
   * Whether this node may judge others by their heartbeats now: not until one heartbeat TTL
   * after it started or after Redis answered it again (an outage or a partition that cut
   * every node: all heartbeats expired together, and the others re-create theirs within
   * one heartbeat period once they get through).
   */
  private sweepAllowed(): boolean {
    return !this.redis.failing && Date.now() >= this.sweepAllowedAt;
  }

  /** Cleans a node whose heartbeat is gone, unless another node already does (lock, NX). */
  private async cleanDeadNode(node: string): Promise<CleanupReport | undefined> {
    const lock = this.redis.keys.sweepLock(node);
    const got = await this.redis.run((c) => c.set(lock, this.nodeId, 'PX', this.redis.timings.lockTtlMs, 'NX'));
    if (got !== 'OK') return undefined;
    try {
      // Re-check under the lock: the node may have come back meanwhile.
      if (!this.sweepAllowed()) return undefined;
      if ((await this.redis.run((c) => c.exists(this.redis.keys.heartbeat(node)))) === 1) return undefined;
      const report = await this.cleanNode(node);
      await this.bus.emit('node.gone', { node });
      await this.redis.script('parleyOwnerRelease', [this.redis.keys.owners], [node]);
      this.logger.warn({ event: 'node-dead-cleaned', ...report });
      return report;
    } finally {
      await this.redis.script('parleyUnlock', [lock], [this.nodeId]).catch(() => undefined);
    }
  }

  /** Every socket `node` owns departs, through the features (`socket.departed` with `node`). */
  private async cleanNode(node: string): Promise<CleanupReport> {
    const started = Date.now();
    const ids = await this.ownedSocketIds(node);
    await pool(ids, 64, (id) => this.departSocket(id, node));
    return { node, sockets: ids.length, ms: Date.now() - started };
  }

  /**
   * A socket of `node` is gone: the same departure as a disconnect on its own node. Each
   * feature removes only what `node` still owns (a session recovered on another node moved
   * its entries there), so of two cleaners, one announces.
   */
  private async departSocket(id: string, node: string): Promise<void> {
    await this.bus.emit('socket.departed', { id, reason: 'node gone', node });
    // Index entries left behind by an interrupted change.
    const k = this.redis.keys;
    await this.redis.run((c) => {
      const p = c.pipeline();
      for (const kind of OWNED_KINDS) if (kind !== 'calls') p.srem(k.owned(node, kind), id);
      return p.exec();
    });
  }

  private async ownedSocketIds(node: string): Promise<string[]> {
    const k = this.redis.keys;
    const sets = await this.redis.run((c) =>
      Promise.all((['users', 'conns', 'lobby', 'peers'] as const).map((kind) => c.smembers(k.owned(node, kind)))),
    );
    return [...new Set(sets.flat())];
  }

  /**
   * Rebuilds `owners` from the index keys themselves (`node:<id>:<kind>`), so an owner
   * missing from the set (an edited or partly restored database) is still found. Runs with
   * the first sweep, after each reconnection and every `ownerScanMs`.
   */
  async scanOwners(): Promise<void> {
    this.lastOwnerScan = Date.now();
    const k = this.redis.keys;
    const base = `${k.prefix}node:`;
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.run((c) => c.scan(cursor, 'MATCH', `${globEscape(base)}*`, 'COUNT', 1000));
      cursor = next;
      for (const key of keys) {
        const rest = key.slice(base.length);
        const cut = rest.lastIndexOf(':');
        if (cut > 0) found.add(rest.slice(0, cut));
      }
    } while (cursor !== '0');
    if (found.size > 0) await this.redis.run((c) => c.sadd(k.owners, ...found));
  }

  /**
   * Keys that must not outlive this node (a feature's per-node tally): each heartbeat gives
   * them the heartbeat's TTL again, so they expire with it when the node stops without
   * cleaning up. Whoever writes such a key gives it that TTL too (`timings.heartbeatTtlMs`).
   */
  keepWithHeartbeat(key: string): void {
    this.heartbeatKeys.add(key);
  }

  private readonly heartbeatKeys = new Set<string>();

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    try {
      const t = this.redis.timings;
      await this.redis.run(async (c) => {
        const p = c.pipeline().set(this.redis.keys.heartbeat(this.nodeId), String(Date.now()), 'PX', t.heartbeatTtlMs);
        for (const key of this.heartbeatKeys) p.pexpire(key, t.heartbeatTtlMs);
        // A pipeline resolves even when its commands failed: a failure must still count as one.
        const failed = (await p.exec())?.find(([err]) => err);
        if (failed) throw failed[0];
      });
    } catch (err) {
      this.warn('heartbeat-failed', err);
    }
  }

  /** Redis is back (maybe empty, maybe after others judged this node dead). */
  private async reconnected(): Promise<void> {
    if (this.stopped) return;
    this.sweepAllowedAt = Date.now() + this.redis.timings.heartbeatTtlMs + 1_000;
    this.lastOwnerScan = 0;
    await this.heartbeat();
  }

  /**
   * After the features put back this node's live sockets: the entries this node owns whose
   * socket is gone depart, once the recovery window is over (held sessions keep theirs).
   */
  private async dropStale(): Promise<void> {
    if (this.stopped || !this.realtime.attached) return;
    const local = this.realtime.server.sockets.sockets;
    let stale: string[];
    try {
      stale = (await this.ownedSocketIds(this.nodeId)).filter((id) => !local.has(id));
    } catch (err) {
      this.warn('reconcile-failed', err);
      return;
    }
    this.logger.log({ event: 'reconciled', sockets: local.size, stale: stale.length });
    if (stale.length === 0) return;
    const timer = setTimeout(() => {
      this.staleTimers.delete(timer);
      void pool(stale, 16, async (id) => {
        if (!this.stopped && !this.realtime.server.sockets.sockets.has(id)) await this.departSocket(id, this.nodeId);
      }).catch((err: unknown) => this.warn('stale-cleanup-failed', err));
    }, this.limits.recoveryWindowMs + 1_000);
    timer.unref();
    this.staleTimers.add(timer);
  }

  private warn(event: string, err: unknown): void {
    this.throttle.run(event, (extra) => this.logger.warn({ event, err: String(err), ...extra }));
  }
}

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first failure once all settled. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
