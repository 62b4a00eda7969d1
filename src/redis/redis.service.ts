import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LogThrottle } from '../common/logging/log-throttle.js';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { Redis, type RedisOptions } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { UnavailableError } from '../common/errors/parley.error.js';
import { fenced, SCRIPTS, type ScriptName } from './lua.js';
import {
  DEFAULT_TIMINGS,
  redactUrl,
  RedisKeys,
  REDIS_OPTIONS,
  type LivenessTimings,
  type RedisModuleOptions,
} from './redis.constants.js';

type Arg = string | number;
type ScriptFn = (...args: Arg[]) => Promise<unknown>;

/** How long one Redis command may take before it fails (the request then gets UNAVAILABLE). */
export const COMMAND_TIMEOUT_MS = 1_000;
/**
 * A connection with a command outstanding that receives nothing for this long is a dead
 * one (a partition keeps it open): ioredis destroys it and reconnects.
 */
export const SOCKET_TIMEOUT_MS = 3_000;

/**
 * ioredis options shared by every Parley client. ioredis reconnects by itself forever
 * (with this backoff) and resubscribes. Every command has a deadline: a command fails after
 * `commandTimeout` whether Redis is down (refused, queued offline) or connected but silent
 * (a partition), so no request waits for Redis longer than that. Commands a broken
 * connection left unanswered are never sent again on the next one: their callers have
 * already been told they failed.
 *
 * `blockingMs`: for a client that blocks (the adapter's XREAD loop), the longest block it
 * sends; its deadlines are that much longer.
 */
export function clientOptions(connectionName: string, blockingMs = 0): RedisOptions {
  return {
    lazyConnect: true,
    connectionName,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS + blockingMs,
    socketTimeout: SOCKET_TIMEOUT_MS + blockingMs,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * times, 1_000),
  };
}

/**
 * Redis's clock as seen from here (measured with TIME at each connection), for the fence
 * deadlines of scripts: they are compared with Redis's own clock, so node clocks that
 * differ from Redis's do not matter.
 */
export class RedisClock {
  /** Redis's clock minus ours. */
  private offsetMs = 0;

  constructor(private readonly client: Redis) {}

  measure(): void {
    const sent = Date.now();
    this.client.time().then(
      ([seconds, micros]) => {
        const received = Date.now();
        this.offsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sent + received) / 2;
      },
      () => undefined,
    );
  }

  /** The Redis time after which a command sent now must not take effect any more. */
  deadline(): number {
    // A margin for the reply's way back: a script that runs just before the caller's
    // timeout must not be reported as failed when it did take effect.
    return Math.floor(Date.now() + this.offsetMs + COMMAND_TIMEOUT_MS - 250);
  }
}

/** Connects and resolves once the client is `ready`; rejects after `timeoutMs`. */
export async function connectReady(client: Redis, url: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve) => client.once('ready', () => resolve()));
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis at ${redactUrl(url)} is not reachable (no connection within ${timeoutMs} ms)`)),
      timeoutMs,
    );
  });
  // connect() rejects when the first attempt fails; ioredis keeps retrying, so only the
  // timeout decides.
  client.connect().catch(() => undefined);
  try {
    await Promise.race([ready, timeout]);
  } catch (err) {
    client.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * This node's Redis connection for the stores: one ioredis client, connected and `ready`
 * before the app uses it, with the Lua scripts registered. Also this node's id (recorded
 * as the owner of every entry it writes), the key names, the /health indicator, and a count
 * of the commands in flight so shutdown can let them finish before quitting.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis;
  readonly keys: RedisKeys;
  readonly nodeId: string;
  readonly timings: LivenessTimings;
  private inFlight = 0;
  private everReady = false;
  private downSince = 0;
  private readyPromise?: Promise<void>;
  private closing = false;
  /** When a command last failed for want of Redis, while no command has succeeded since (0: healthy). */
  private failingSince = 0;
  private readonly clock: RedisClock;

  constructor(
    @Inject(REDIS_OPTIONS) private readonly options: RedisModuleOptions,
    private readonly bus: DomainEventBus,
  ) {
    this.keys = new RedisKeys(options.keyPrefix);
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    // No ':' in node ids: they are parsed back out of `node:<id>:<kind>` keys.
    this.nodeId = `${hostname()
      .replace(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.client = new Redis(options.url, clientOptions(`parley-${this.nodeId}`));
    this.clock = new RedisClock(this.client);
    // Every script is fenced (see lua.ts `fenced`): one that reaches Redis after its caller
    // gave up on it does nothing.
    for (const [name, def] of Object.entries(SCRIPTS)) this.client.defineCommand(name, fenced(def));
    this.client.on('error', (err: Error) => this.onError(err));
    this.client.on('close', () => {
      if (this.everReady && !this.downSince && !this.closing) {
        this.downSince = Date.now();
        this.logger.warn({ event: 'redis-disconnected', url: redactUrl(options.url) });
      }
    });
    this.client.on('ready', () => this.onReady());
  }

  async onModuleInit(): Promise<void> {
    this.bus.answer('health', () => this.check());
    await this.ready();
  }

  /** Resolves once the first connection is ready (every store method may await it). */
  ready(): Promise<void> {
    this.readyPromise ??= connectReady(this.client, this.options.url, 10_000);
    return this.readyPromise;
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Runs one of the Lua scripts (see lua.ts for each one's KEYS and ARGV). The script gets
   * a deadline in Redis time: if it only reaches Redis after this call has given up on it
   * (a partition that delivers it late), it changes nothing.
   */
  script<T>(name: ScriptName, keys: string[], args: Arg[]): Promise<T> {
    const fn = (this.client as unknown as Record<ScriptName, ScriptFn>)[name];
    return this.track(() => fn.call(this.client, ...keys, this.deadline(), this.keys.prefix, ...args) as Promise<T>);
  }

  /** Runs plain commands, counted as in flight. */
  run<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    return this.track(() => fn(this.client));
  }

  /** The Redis time after which a script sent now must not take effect any more. */
  deadline(): number {
    return this.clock.deadline();
  }

  /** Whether commands are failing for want of Redis right now. */
  get failing(): boolean {
    return this.failingSince !== 0;
  }

  /**
   * Resolves when no command has been in flight for two turns of the event loop (the
   * services chain several store calls; each next one starts within a microtask of the
   * last), or after `timeoutMs`.
   */
  async drain(timeoutMs = 2_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let idleTurns = 0;
    while (idleTurns < 2 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      idleTurns = this.inFlight === 0 ? idleTurns + 1 : 0;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
    this.closing = true;
    try {
      if (this.client.status === 'ready') await this.client.quit();
      else this.client.disconnect();
    } catch {
      this.client.disconnect();
    }
  }

  private async check(): Promise<HealthIndicatorResult> {
    if (this.client.status !== 'ready') {
      return { redis: { status: 'down', message: `Redis connection is ${this.client.status}` } };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('Redis did not answer PING within 1000 ms')), 1_000);
        }),
      ]);
      return { redis: { status: 'up' } };
    } catch (err) {
      return { redis: { status: 'down', message: err instanceof Error ? err.message : String(err) } };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Counts the command as in flight, turns every failure into UNAVAILABLE (a timeout, a
   * closed connection, a refused fence: the request changed nothing), and notices when
   * Redis answers again after failures without a reconnection (a partition that ended
   * while the connection stayed open), which counts as a reconnection.
   */
  private track<T>(start: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    let promise: Promise<T>;
    try {
      promise = start();
    } catch (err) {
      promise = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return promise.then(
      (value) => {
        this.inFlight -= 1;
        if (this.failingSince) this.answeringAgain();
        return value;
      },
      (err: unknown) => {
        this.inFlight -= 1;
        if (err instanceof UnavailableError) throw err;
        if (!this.failingSince) {
          this.failingSince = Date.now();
          this.logger.warn({ event: 'redis-not-answering', err: err instanceof Error ? err.message : String(err) });
        }
        throw new UnavailableError();
      },
    );
  }

  private answeringAgain(): void {
    const downMs = Date.now() - this.failingSince;
    this.failingSince = 0;
    if (this.closing) return;
    this.logger.log({ event: 'redis-answering-again', downMs });
    // As after a reconnection: the features put back what they know, liveness waits again.
    this.bus.publish('store.reconnected', {});
  }

  private onReady(): void {
    this.clock.measure();
    if (!this.everReady) {
      this.everReady = true;
      this.logger.log({ event: 'redis-ready', url: redactUrl(this.options.url), node: this.nodeId });
      return;
    }
    this.logger.log({ event: 'redis-reconnected', downMs: this.downSince ? Date.now() - this.downSince : 0 });
    this.downSince = 0;
    this.failingSince = 0;
    // Redis came back, maybe empty: the features put back what they know (store.reconnected).
    this.bus.publish('store.reconnected', {});
  }

  private readonly errorLog = new LogThrottle();
  private onError(err: Error): void {
    // ioredis reports every failed reconnection attempt; one line every 10 s is enough.
    this.errorLog.run('redis-error', (extra) => this.logger.warn({ event: 'redis-error', err: err.message, ...extra }));
  }
}
