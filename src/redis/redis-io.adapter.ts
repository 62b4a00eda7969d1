import { Logger, type INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { ParleyIoAdapter, type ParleyIoOptions } from '../common/adapters/parley-io.adapter.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { redactUrl, RedisKeys } from './redis.constants.js';
import { clientOptions, connectReady } from './redis.service.js';

export interface RedisIoOptions {
  url: string;
  keyPrefix: string;
}

type Ack = (...args: unknown[]) => unknown;
type AdapterFactory = ReturnType<typeof createAdapter>;

/** The broadcasts one event handler started, still on their way through Redis. */
interface HandlerBroadcasts {
  pending: Set<Promise<unknown>>;
}

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
 * `await connectToRedis()` before `app.useWebSocketAdapter(adapter)`.
 */
export class RedisIoAdapter extends ParleyIoAdapter {
  private readonly redisLog = new Logger('RedisIoAdapter');
  private readonly clients: Redis[] = [];
  private pub?: Redis;
  private adapterFactory?: AdapterFactory;
  private readonly handlerContext = new AsyncLocalStorage<HandlerBroadcasts>();
  /** The handler call context of each ack mapPayload handed out. */
  private readonly ackContexts = new WeakMap<Ack, HandlerBroadcasts>();

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
    // The adapter duplicates this client for its reader and subscriber: keep them, to close
    // them on dispose, and make their first connection wait for `ready` (a subscription
    // sent before that could be lost) without ever rejecting (ioredis keeps retrying).
    const duplicate = pub.duplicate.bind(pub);
    pub.duplicate = (override?: Parameters<Redis['duplicate']>[0]) => {
      const client = duplicate(override);
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
      }),
    );
    this.registerHealth();
    this.redisLog.log({ event: 'socketio-adapter', adapter: 'redis-streams', url: redactUrl(this.redis.url), stream: keys.socketIo });
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    if (!this.adapterFactory) throw new Error('RedisIoAdapter: call connectToRedis() before useWebSocketAdapter()');
    return super.createIOServer(port, { ...options, adapter: this.adapterFactory } as ServerOptions);
  }

  /** Acks wait for the broadcasts of their handler call (see the class comment). */
  override mapPayload(payload: unknown): { data: unknown; ack?: Ack } {
    const mapped = super.mapPayload(payload) as { data: unknown; ack?: Ack };
    const ack = mapped.ack;
    if (typeof ack !== 'function') return mapped;
    const context: HandlerBroadcasts = { pending: new Set() };
    const ordered: Ack = (...args) => {
      if (context.pending.size === 0) return ack(...args);
      void Promise.allSettled([...context.pending]).then(() => ack(...args));
      return undefined;
    };
    this.ackContexts.set(ordered, context);
    return { ...mapped, ack: ordered };
  }

  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    const inContext = handlers.map((handler) => ({
      ...handler,
      callback: (data: unknown, ack?: Ack) => {
        const context = ack ? this.ackContexts.get(ack) : undefined;
        return context ? this.handlerContext.run(context, () => handler.callback(data, ack)) : handler.callback(data, ack);
      },
    }));
    super.bindMessageHandlers(socket, inContext, transform);
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

  /** Records each broadcast in the context of the handler call that started it. */
  private trackingBroadcasts(factory: AdapterFactory): AdapterFactory {
    const handlerContext = this.handlerContext;
    // A function, not an arrow: Socket.IO calls it with `new`.
    return function parleyRedisAdapter(nsp: unknown) {
      const adapter = factory(nsp);
      const broadcast = adapter.broadcast.bind(adapter) as (packet: unknown, opts: unknown) => unknown;
      adapter.broadcast = ((packet: unknown, opts: unknown) => {
        const result = broadcast(packet, opts);
        const context = handlerContext.getStore();
        if (context && typeof (result as Promise<unknown> | undefined)?.then === 'function') {
          const done: Promise<unknown> = Promise.resolve(result).then(
            () => context.pending.delete(done),
            () => context.pending.delete(done),
          );
          context.pending.add(done);
        }
        return result;
      }) as typeof adapter.broadcast;
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
