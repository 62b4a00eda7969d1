import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomHex } from '../common/random/pooled-random.js';
import { AlreadyInCallError } from '../common/errors/parley.error.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { CallStateService, pairKey, type CallStatus } from './call-state.service.js';
import { RedisService } from '../redis/redis.service.js';
import type { PublishCondition } from '../common/realtime/publish-condition.js';

interface RingTimer {
  token: string;
  timer: NodeJS.Timeout;
}

/**
 * Call state in Redis: `call:<a>|<b>` with caller, callee, status, owning node and a ring
 * token; start, accept and end are Lua scripts. The ring timer runs on the node that
 * started the call. When it fires, a script removes the call only if it is still the same
 * pending call (same token), so `call.ringTimeout` is published exactly once per call that
 * rang out, and never for a call that was answered, hung up, or ended and started again.
 * A dead node's remaining calls are adopted by the node that cleans it up (`adopt`, on
 * the domain event `node.gone`).
 */
@Injectable()
export class RedisCallStateService extends CallStateService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RedisCallState');
  /** Ring timers of the pending calls this node owns, by pair key. */
  private readonly timers = new Map<string, RingTimer>();
  private stopped = false;

  constructor(
    private readonly redis: RedisService,
    private readonly bus: DomainEventBus,
  ) {
    super();
  }

  onModuleInit(): void {
    // After a dead node's sockets departed, its remaining calls ring out here.
    this.bus.on('node.gone', async ({ node }) => {
      const adopted = await this.adopt(node);
      if (adopted > 0) this.logger.log({ event: 'calls-adopted', node, calls: adopted });
    });
  }

  async start(callerId: string, calleeId: string, ringTimeoutMs: number): Promise<void> {
    const k = this.redis.keys;
    const pair = pairKey(callerId, calleeId);
    const token = randomHex(8);
    const started = await this.redis.script<number>(
      'parleyCallStart',
      [k.call(pair), k.socketCalls(callerId), k.socketCalls(calleeId), k.owners],
      [callerId, calleeId, pair, this.redis.nodeId, token, Date.now() + ringTimeoutMs],
    );
    if (started !== 1) throw new AlreadyInCallError(calleeId);
    this.arm(pair, token, ringTimeoutMs);
  }

  async accept(a: string, b: string): Promise<boolean> {
    const pair = pairKey(a, b);
    const accepted = await this.redis.script<[string, string, string, string] | null>(
      'parleyCallAccept',
      [this.redis.keys.call(pair)],
      [],
    );
    if (!accepted) return false;
    const [token, before, callerId, calleeId] = accepted;
    this.disarm(pair, token);
    // Of two answers racing on two nodes, the script lets one see the pending call.
    if (before === 'pending') this.bus.publish('call.started', { callerId, calleeId });
    return true;
  }

  async status(a: string, b: string): Promise<CallStatus | undefined> {
    const status = await this.redis.run((c) => c.hget(this.redis.keys.call(pairKey(a, b)), 'status'));
    return status === 'pending' || status === 'active' ? status : undefined;
  }

  /** The target's entry of the connection registry (RedisConnectionRegistryService) and the pair's call. */
  override relayCondition(from: string, to: string): PublishCondition {
    const k = this.redis.keys;
    return { kind: 'relay', keys: [k.conn(to), k.call(pairKey(from, to))] };
  }

  async end(a: string, b: string): Promise<boolean> {
    const pair = pairKey(a, b);
    const ended = await this.redis.script<[string, string, string] | null>(
      'parleyCallEnd',
      [this.redis.keys.call(pair)],
      [pair, ''],
    );
    if (!ended) return false;
    this.disarm(pair, ended[2]);
    this.bus.publish('call.ended', { callerId: ended[0], calleeId: ended[1], reason: 'hangup' });
    return true;
  }

  async endAll(id: string): Promise<string[]> {
    const flat = await this.redis.script<string[]>('parleyCallEndAll', [this.redis.keys.socketCalls(id)], [id]);
    const peers: string[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const [peer, token, callerId] = flat.slice(i, i + 3);
      peers.push(peer);
      this.disarm(pairKey(id, peer), token);
      this.bus.publish('call.ended', { callerId, calleeId: callerId === id ? peer : id, reason: 'disconnected' });
    }
    return peers;
  }

  /**
   * Takes over the calls a dead node still owns (neither peer was on it, or they are
   * already gone): ownership moves here and pending ones ring out here, on time.
   */
  async adopt(deadNode: string): Promise<number> {
    const k = this.redis.keys;
    const flat = await this.redis.script<string[]>(
      'parleyCallAdopt',
      [k.owned(deadNode, 'calls'), k.owners],
      [this.redis.nodeId],
    );
    let adopted = 0;
    for (let i = 0; i < flat.length; i += 6) {
      const [pair, status, token, deadline] = flat.slice(i, i + 4);
      if (status === 'pending') this.arm(pair, token, Math.max(0, Number(deadline) - Date.now()));
      adopted += 1;
    }
    return adopted;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(pair: string, token: string, ms: number): void {
    if (this.stopped) return;
    this.disarm(pair);
    const timer = setTimeout(() => void this.ringOut(pair, token, 0), ms);
    timer.unref();
    this.timers.set(pair, { token, timer });
  }

  /** Stops the pair's local timer (only the one for `token`, when given). */
  private disarm(pair: string, token?: string): void {
    const t = this.timers.get(pair);
    if (!t || (token !== undefined && t.token !== token)) return;
    clearTimeout(t.timer);
    this.timers.delete(pair);
  }

  private async ringOut(pair: string, token: string, attempt: number): Promise<void> {
    const t = this.timers.get(pair);
    if (t?.token === token) this.timers.delete(pair);
    if (this.stopped) return;
    let ended: [string, string, string] | null;
    try {
      ended = await this.redis.script<[string, string, string] | null>(
        'parleyCallEnd',
        [this.redis.keys.call(pair)],
        [pair, token],
      );
    } catch (err) {
      // Redis is unreachable: try again, so the call does not stay pending for ever.
      if (attempt < 30 && !this.stopped) {
        const retry = setTimeout(() => void this.ringOut(pair, token, attempt + 1), 1_000);
        retry.unref();
      } else {
        this.logger.warn({ event: 'ring-timeout-failed', pair, err: String(err) });
      }
      return;
    }
    if (!ended) return;
    const [callerId, calleeId] = ended;
    this.bus.publish('call.ended', { callerId, calleeId, reason: 'timeout' });
    this.bus.publish('call.ringTimeout', { callerId, calleeId });
  }
}
