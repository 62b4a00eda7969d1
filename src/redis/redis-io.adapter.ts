import { Logger, type INestApplicationContext } from '@nestjs/common';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { ParleyIoAdapter, type ParleyIoOptions } from '../common/adapters/parley-io.adapter.js';
import type { DirectHandler } from '../common/adapters/direct-handlers.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { UnavailableError } from '../common/errors/parley.error.js';
import { handlerCalls, newHandlerCall, type HandlerCall } from '../common/realtime/handler-call.js';
import { redactUrl, RedisKeys } from './redis.constants.js';
import { PLACE_XADD_SCRIPT, RELAY_XADD_SCRIPT, XADD_SCRIPT } from './lua.js';
import { PublishRefusal, TAKES_CONDITIONS, takePublishCondition } from '../common/realtime/publish-condition.js';
import { clientOptions, connectReady, RedisClock } from './redis.service.js';
import { closeRecoveryGap } from '../common/adapters/recovery-gap.js';

/**
 * The adapter's XREAD blocks this long at most (its default is 5 s): the reader's deadlines
 * are this much longer than a command's, so the shorter, the sooner a dead connection is
 * noticed and replaced.
 */
const STREAM_BLOCK_MS = 2_000;

/** The adapter's broadcast message type (socket.io-adapter's MessageType.BROADCAST). */
const BROADCAST = 3;

export interface RedisIoOptions {
  url: string;
  keyPrefix: string;
}

type Ack = (...args: unknown[]) => unknown;
type AdapterFactory = ReturnType<typeof createAdapter>;

/**
 * Socket.IO over Redis Streams (@socket.io/redis-streams-adapter): every broadcast goes
 * through one stream, so rooms, `io.to(socketId)` and connection state recovery span every
 * node. Uses its own ioredis clients (the adapter duplicates the one given for its blocking
 * XREAD loop and its pub/sub subscriber); the stream, channels and session keys are under
 * the key prefix, so clusters (and test runs) sharing one Redis never mix.
 *
 * Order: a cluster adapter delivers a broadcast to this node's own sockets only once Redis
 * has taken it (the stream offset is part of the packet, for recovery), while an ack goes
 * straight out. So that a client still sees what its request broadcast (`users` after
 * `login`, its own `roomMessage`) before the request's ack, as on one node, an ack waits
 * for the broadcasts its handler started (an AsyncLocalStorage per handler call; an ack
 * with nothing pending goes out at once).
 *
 * While Redis is down or silent, a broadcast cannot be published: then it reaches nobody,
 * not even this node's sockets (the adapter's default would deliver it locally), and the
 * request that started it is answered UNAVAILABLE (its ack, else the `exception` event).
 * Broadcasts go out through a fenced XADD (lua.ts): one a partition delivers late is
 * dropped by Redis instead of reaching the other nodes after the sender was told it failed.
 *
 * Every client has deadlines (clientOptions). The reader's XREAD loop survives a
 * partition: a silent connection is destroyed and replaced, and the loop resumes from the
 * last entry it read, so what was published meanwhile on the other side still arrives.
 *
 * `await connectToRedis()` before `app.useWebSocketAdapter(adapter)`.
 */
export class RedisIoAdapter extends ParleyIoAdapter {
  private readonly redisLog = new Logger('RedisIoAdapter');
  private readonly clients: Redis[] = [];
  private pub?: Redis;
  private adapterFactory?: AdapterFactory;
  /** The handler call of each ack wrapAck handed out. */
  private readonly ackContexts = new WeakMap<Ack, HandlerCall>();

  constructor(
    private readonly appContext: INestApplicationContext,
    options: ParleyIoOptions,
    private readonly redis: RedisIoOptions,
  ) {
    super(appContext, options);
  }

  async connectToRedis(timeoutMs = 10_000): Promise<void> {
    const keys = new RedisKeys(this.redis.keyPrefix);
    const pub = new Redis(this.redis.url, clientOptions('parley-io'));
    pub.on('error', () => undefined); // reported by /health and by the store client's log
    const clock = new RedisClock(pub);
    pub.on('ready', () => clock.measure());
    pub.defineCommand('parleyXadd', XADD_SCRIPT);
    pub.defineCommand('parleyRelayXadd', RELAY_XADD_SCRIPT);
    pub.defineCommand('parleyPlaceXadd', PLACE_XADD_SCRIPT);
    const scripts = pub as unknown as Record<
      'parleyXadd' | 'parleyRelayXadd' | 'parleyPlaceXadd',
      (...args: unknown[]) => Promise<unknown>
    >;
    // The adapter calls xadd(stream, 'MAXLEN', '~', n, '*', ...fields) (as one array),
    // synchronously within the broadcast that emitWithCondition started, so the condition
    // waiting to be taken is that broadcast's.
    pub.xadd = ((...args: unknown[]) => {
      const [stream, ...rest] = args.flat();
      const condition = takePublishCondition();
      if (condition === undefined) return scripts.parleyXadd(stream, clock.deadline(), ...rest);
      let published: Promise<unknown>;
      if (condition.kind === 'relay') {
        published = scripts.parleyRelayXadd(stream, ...condition.keys, clock.deadline(), ...rest).catch(refusal);
      } else {
        const args = condition.args ?? [];
        published = scripts
          .parleyPlaceXadd(...condition.keys, stream, clock.deadline(), ...args, ...rest)
          .then((reply) => {
            // Before the adapter delivers the broadcast here (it awaits the stream id).
            condition.onReply?.(reply);
            return (reply as unknown[])[5];
          }, refusal);
      }
      condition.outcome = published.then(() => undefined);
      return published;
    }) as unknown as Redis['xadd'];
    // The adapter duplicates this client, first for its reader (blocking XREAD), then for
    // its subscriber: keep them, to close them on dispose; the reader's deadlines allow for
    // its blocks; their first connection waits for `ready` (a subscription sent before that
    // could be lost) without ever rejecting (ioredis keeps retrying).
    const duplicate = pub.duplicate.bind(pub);
    let duplicates = 0;
    pub.duplicate = (override?: Parameters<Redis['duplicate']>[0]) => {
      const reader = duplicates++ === 0;
      const client = duplicate({
        ...override,
        ...(reader ? clientOptions('parley-io-reader', STREAM_BLOCK_MS) : { connectionName: 'parley-io-sub' }),
      });
      const connect = client.connect.bind(client);
      client.connect = () => connect().catch(() => undefined);
      this.clients.push(client);
      return client;
    };
    this.clients.push(pub);
    await connectReady(pub, this.redis.url, timeoutMs);
    this.pub = pub;
    this.adapterFactory = this.trackingBroadcasts(
      createAdapter(pub, {
        streamName: keys.socketIo,
        channelPrefix: keys.socketIo,
        sessionKeyPrefix: keys.socketIoSession,
        blockTimeInMs: STREAM_BLOCK_MS,
      }),
    );
    this.registerHealth();
    this.redisLog.log({
      event: 'socketio-adapter',
      adapter: 'redis-streams',
      url: redactUrl(this.redis.url),
      stream: keys.socketIo,
    });
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    if (!this.adapterFactory) throw new Error('RedisIoAdapter: call connectToRedis() before useWebSocketAdapter()');
    return super.createIOServer(port, { ...options, adapter: this.adapterFactory } as ServerOptions);
  }

  /**
   * Acks wait for the broadcasts of their handler call (see the class comment); when one
   * of them could not be published, the ack says UNAVAILABLE instead.
   */
  protected override wrapAck(ack: Ack): Ack {
    const call = newHandlerCall();
    const ordered: Ack = (...args) => {
      if (call.pending.size === 0) return ack(...(call.failed ? [unavailable(args[0])] : args));
      void Promise.allSettled([...call.pending]).then(() => ack(...(call.failed ? [unavailable(args[0])] : args)));
      return undefined;
    };
    this.ackContexts.set(ordered, call);
    return ordered;
  }

  /** Runs the call in its handler-call context, so the broadcasts it starts are recorded. */
  protected override invoke(socket: Socket, event: string, ack: unknown, run: DirectHandler, data: unknown): unknown {
    const withAck = typeof ack === 'function' ? this.ackContexts.get(ack as Ack) : undefined;
    const call = withAck ?? newHandlerCall();
    const result = handlerCalls.run(call, run, socket, data, ack);
    if (!withAck) {
      // No ack to answer through: a broadcast that never left gets the `exception` event.
      void Promise.resolve(result)
        .catch(() => undefined)
        .then(() => Promise.allSettled([...call.pending]))
        .then(() => {
          if (call.failed && !call.refused) {
            socket.emit('exception', { event, ...new UnavailableError().toReply() });
          }
        });
    }
    return result;
  }

  /** After the Socket.IO server closed (its adapter stopped): close every Redis connection. */
  override async dispose(): Promise<void> {
    await super.dispose();
    const clients = this.clients.splice(0);
    await Promise.all(
      clients.map(async (client) => {
        // The reader blocks in XREAD for seconds: disconnect, do not wait for QUIT.
        if (client === this.pub && client.status === 'ready') {
          await client.quit().catch(() => client.disconnect());
          return;
        }
        // Never twice: on a closed stream ioredis would hold a 2 s timer that keeps the
        // process alive (the adapter disconnects its subscriber on close, and its reader
        // again when its XREAD fails).
        if (client.status !== 'end') client.disconnect();
        client.disconnect = () => undefined;
      }),
    );
  }

  /**
   * Records each broadcast in the handler call that started it, and keeps one that could
   * not be published from this node's sockets too (nobody gets it; the call is marked).
   */
  private trackingBroadcasts(factory: AdapterFactory): AdapterFactory {
    // Without a recovery window no session is ever restored: no gap to close.
    const recovery = this.options.recoveryWindowMs > 0;
    // A function, not an arrow: Socket.IO calls it with `new`.
    return function parleyRedisAdapter(nsp: unknown) {
      const adapter = factory(nsp);
      (adapter as unknown as Record<symbol, boolean>)[TAKES_CONDITIONS] = true;
      const unpublished = new WeakSet<object>();
      let publishing: { opts: object; call?: HandlerCall } | undefined;
      type Publish = (message: { type: number }) => Promise<unknown>;
      const target = adapter as unknown as {
        publishAndReturnOffset: Publish;
        apply: (opts: object, fn: unknown) => void;
      };
      const publish = target.publishAndReturnOffset.bind(adapter);
      // ClusterAdapter.broadcast calls this synchronously, then, whatever happened,
      // delivers locally through apply(opts): a failed publish marks opts to skip that.
      target.publishAndReturnOffset = (message) => {
        const current = message.type === BROADCAST ? publishing : undefined;
        return publish(message).catch((err: unknown) => {
          if (current) {
            unpublished.add(current.opts);
            // A condition that did not hold is the request's own answer, not a failure.
            if (current.call && !(err instanceof PublishRefusal)) current.call.failed = true;
          }
          throw err;
        });
      };
      const apply = target.apply.bind(adapter);
      target.apply = (opts, fn) => {
        if (unpublished.has(opts)) return;
        apply(opts, fn);
      };
      const broadcast = adapter.broadcast.bind(adapter) as (packet: unknown, opts: object) => unknown;
      adapter.broadcast = ((packet: unknown, opts: object) => {
        const call = handlerCalls.getStore();
        publishing = { opts, call };
        let result: unknown;
        try {
          result = broadcast(packet, opts);
        } finally {
          publishing = undefined;
        }
        if (call && typeof (result as Promise<unknown> | undefined)?.then === 'function') {
          const done: Promise<unknown> = Promise.resolve(result).then(
            () => call.pending.delete(done),
            () => call.pending.delete(done),
          );
          call.pending.add(done);
        }
        return result;
      }) as typeof adapter.broadcast;
      if (recovery) closeRecoveryGap(adapter, { stream: true });
      return adapter;
    };
  }

  private registerHealth(): void {
    this.appContext.get(DomainEventBus).answer('health', async () => {
      const down = this.clients.find((c) => c.status !== 'ready');
      return down
        ? { 'redis-adapter': { status: 'down', message: `Socket.IO adapter connection is ${down.status}` } }
        : { 'redis-adapter': { status: 'up' } };
    });
  }
}

/** A conditional XADD's refusal (`PARLEY_REFUSED <code>`) as a PublishRefusal; other errors as they are. */
function refusal(err: unknown): never {
  const message = err instanceof Error ? err.message : '';
  if (message.startsWith('PARLEY_REFUSED ')) throw new PublishRefusal(message.slice('PARLEY_REFUSED '.length));
  throw err;
}

/** The reply for a call whose broadcast never left: UNAVAILABLE, unless it already failed. */
function unavailable(reply: unknown): unknown {
  const isError = typeof reply === 'object' && reply !== null && 'error' in reply;
  return isError ? reply : new UnavailableError().toReply();
}
