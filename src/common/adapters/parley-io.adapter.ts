import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable, type Observable } from 'rxjs';
import { EventEmitter } from 'node:events';
import { Socket as SocketClass, type Server, type ServerOptions, type Socket } from 'socket.io';
import { ServerResponse } from 'node:http';
import {
  directHandlers,
  gatewayEvents,
  wantsDisconnect,
  type DirectHandler,
  type GatewayEvents,
} from './direct-handlers.js';
import { boundHandshake, useFirst, type HandshakeFieldsByNamespace } from './handshake-fields.js';
import { closeRecoveryGap } from './recovery-gap.js';

export interface ParleyIoOptions {
  corsOrigins: string[];
  /** Largest frame Socket.IO accepts; bigger frames close the connection at the transport. */
  maxHttpBufferSize: number;
  /** Connection state recovery window in ms; 0 turns recovery off. */
  recoveryWindowMs: number;
  /** One write per client per turn of the event loop (see coalesceWrites). */
  coalesceWrites: boolean;
  /** What each namespace's sockets keep of their handshake's `auth` and `query` (see boundHandshake). */
  handshakeFields: HandshakeFieldsByNamespace;
}

/**
 * Socket.IO server options from configuration: CORS (the same origins as HTTP, never `*`),
 * frame size, and connection state recovery. Subclasses attach cluster adapters.
 */
export class ParleyIoAdapter extends IoAdapter {
  private readonly log = new Logger(ParleyIoAdapter.name);

  constructor(
    private readonly app: INestApplicationContext,
    protected readonly options: ParleyIoOptions,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server: Server = super.createIOServer(port, {
      ...options,
      cors: { origin: this.options.corsOrigins, credentials: true },
      maxHttpBufferSize: this.options.maxHttpBufferSize,
      // Deflate costs CPU on every frame and mostly buys nothing on ciphertext.
      perMessageDeflate: false,
      ...(this.options.recoveryWindowMs > 0 && {
        connectionStateRecovery: { maxDisconnectionDuration: this.options.recoveryWindowMs, skipMiddlewares: false },
      }),
    } as ServerOptions);
    // Before any other middleware of any namespace (the guards, the admin UI's login).
    const bound = boundHandshake(this.options.handshakeFields);
    useFirst(server.of('/'), bound);
    server.on('new_namespace', (namespace) => useFirst(namespace, bound));
    // Engine.IO keeps the HTTP upgrade request for the life of the connection, twice: as
    // the connection's `request` and through the stand-in response of a WebSocket upgrade
    // (its 'close' listener on the TCP socket holds it). Parley reads neither, so both go,
    // with the response and the handshake's copy of the headers, once every 'connection'
    // listener (gateways' handleConnection included) has run.
    const responses = new WeakMap<object, UpgradeResponse>();
    server.engine.use((req: object, res: UpgradeResponse, next: () => void) => {
      if (!(res instanceof ServerResponse)) responses.set(req, res);
      next();
    });
    server.on('connection', (socket) => queueMicrotask(() => releaseRequest(socket, responses)));
    if (this.options.coalesceWrites) coalesceWrites(server);
    // A cluster adapter (options.adapter) closes its own gaps; the in-memory one is here.
    if (this.options.recoveryWindowMs > 0 && !options?.adapter) {
      closeRecoveryGap(server.of('/').adapter, { stream: false });
    }
    return server;
  }

  /**
   * One 'disconnect' listener per socket, shared by all sockets, instead of one `once`
   * wrapper per gateway; a gateway without handleDisconnect gets none (Nest would call a
   * subject nobody listens to). Nest binds a gateway's disconnect right after its handlers.
   */
  override bindClientDisconnect(client: Socket, callback: (reason: string) => void): void {
    const wanted = this.lastTable?.wantsDisconnect ?? true;
    this.lastTable = undefined;
    if (!wanted) return;
    const socket = client as SlottedSocket;
    // (concat: an array that grows by push reserves room for 16 more)
    if (socket[ON_DISCONNECT]) socket[ON_DISCONNECT] = socket[ON_DISCONNECT].concat(callback);
    else {
      socket[ON_DISCONNECT] = [callback];
      socket.on('disconnect', runDisconnects);
    }
  }

  /**
   * The routes every socket shares, per set of handlers (one set per gateway), built on the
   * first socket. A handler runs directly (see direct-handlers.ts) or, when it needs Nest's
   * full pipeline, through the callback Nest made for the socket, kept in the socket's
   * CALLBACKS array.
   */
  private readonly tables = new Map<string, Table>();
  private direct?: Map<string, DirectHandler>;
  private gateways?: GatewayEvents[];
  /** The table bindMessageHandlers used last, for the bindClientDisconnect that follows. */
  private lastTable?: Table;
  /** How many handlers, over all tables, go through Nest's callback. */
  private nestCount = 0;

  /**
   * Routes the gateways' events through one table shared by every socket with the same
   * gateways, instead of a listener per event per socket. Nest's default builds an RxJS
   * pipeline per handler per socket; even a plain listener per event fills each socket's
   * emitter with a dictionary of some twenty entries, which is most of what a connection
   * costs beyond Socket.IO's own objects. See routedDispatch for how an event is delivered.
   * Semantics are Nest's: the payload is mapped to (data, ack), a nullish result sends
   * nothing, `{ event, data }` is emitted, anything else goes to the ack.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    // Built on the first connection: by then every gateway exists.
    const direct = (this.direct ??= directHandlers(this.app));
    const gateways = (this.gateways ??= gatewayEvents(this.app));
    const key = handlers.map((h) => `${String(h.message)}${h.isAckHandledManually ? '!' : ''}`).join('\n');
    let table = this.tables.get(key);
    if (!table) {
      const slot = this.tables.size;
      const entries: Entry[] = handlers.map((h) => ({
        event: String(h.message),
        manual: h.isAckHandledManually,
        // (a handler with @Ack() is never direct: directHandlers leaves it to Nest)
        direct: direct.get(String(h.message)),
      }));
      // Handlers that go through Nest's per-socket callback, and where each socket keeps it.
      const nest = entries.flatMap((e, i) => (e.direct === undefined ? [i] : []));
      const nestBase = this.nestCount;
      this.nestCount += nest.length;
      table = {
        slot,
        wantsDisconnect: wantsDisconnect(
          gateways,
          entries.map((e) => e.event),
        ),
        nest,
        nestBase,
        routes: entries.map((e, i) => [e.event, this.route(e, nestBase + nest.indexOf(i))] as const),
      };
      this.tables.set(key, table);
    }
    if (table.nest.length > 0) {
      // One array per socket, exactly as long as it needs to be (it lives as long as the socket).
      const before = (socket as SlottedSocket)[CALLBACKS];
      const callbacks = new Array<Handler | undefined>(
        Math.max(before?.length ?? 0, table.nestBase + table.nest.length),
      );
      before?.forEach((c, i) => (callbacks[i] = c));
      table.nest.forEach((handlerIndex, i) => (callbacks[table.nestBase + i] = handlers[handlerIndex].callback));
      (socket as SlottedSocket)[CALLBACKS] = callbacks;
    }
    const routed = socket as unknown as RoutedSocket;
    if (routed[ROUTES] === undefined) routed.dispatch = routedDispatch;
    routed[ROUTES] = this.extendRoutes(routed[ROUTES], table);
    this.lastTable = table;
  }

  /** Route tables by the handler sets they combine, so sockets alike share one. */
  private readonly routeSets = new Map<string, Routes>();

  private extendRoutes(prev: Routes | undefined, table: Table): Routes {
    const key = prev === undefined ? String(table.slot) : `${prev.key},${table.slot}`;
    let routes = this.routeSets.get(key);
    if (!routes) {
      const byEvent = new Map(prev?.byEvent);
      for (const [event, route] of table.routes) {
        // Two gateways handling one event both run, as with two listeners.
        const before = byEvent.get(event);
        byEvent.set(
          event,
          before === undefined
            ? route
            : (socket, event) => {
                before(socket, event);
                route(socket, event);
              },
        );
      }
      routes = { key, byEvent };
      this.routeSets.set(key, routes);
    }
    return routes;
  }

  /**
   * Runs one handler call: `run(socket, data, ack)`. Subclasses wrap it (the Redis adapter
   * tracks the broadcasts a call starts); `run` must be called exactly once, synchronously.
   */
  protected invoke(socket: Socket, _event: string, ack: unknown, run: DirectHandler, data: unknown): unknown {
    return run(socket, data, ack);
  }

  /** `at`: where a socket keeps the handler's Nest callback, for a handler that is not direct. */
  private route(entry: Entry, at: number): Route {
    const run: DirectHandler =
      entry.direct ?? ((socket, data, ack) => (socket as SlottedSocket)[CALLBACKS]![at]!(data, ack));
    return (socket, event) => this.dispatch(socket, entry, run, event);
  }

  /**
   * The ack a handler gets, for the client's own: subclasses wrap it (the Redis adapter
   * holds it back until the call's broadcasts are published).
   */
  protected wrapAck(ack: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    return ack;
  }

  private dispatch(socket: Socket, entry: Entry, run: DirectHandler, event: unknown[]): void {
    // Nest's mapPayload, without its object or a copy of the arguments: the ack is the last
    // argument when it is a function; one argument is the data itself, none is an empty
    // list, several are a list.
    const argc = event.length - 1;
    const last = event[argc];
    const ack =
      argc > 0 && typeof last === 'function' ? this.wrapAck(last as (...args: unknown[]) => unknown) : undefined;
    const count = ack === undefined ? argc : argc - 1;
    let data: unknown;
    if (count === 1) data = event[1];
    else if (count > 1) ARGUMENT_LISTS.add((data = event.slice(1, 1 + count)));
    else if (argc === 0) data = [];
    let pending: unknown;
    try {
      pending = this.invoke(socket, entry.event, ack, run, data);
    } catch (err) {
      this.log.error(err);
      return;
    }
    // A direct handler that finished synchronously replies at once.
    if (!(pending instanceof Promise)) return settle(socket, pending, ack, entry.manual);
    pending.then(
      (result) => settle(socket, result, ack, entry.manual),
      (err: unknown) => this.log.error(err),
    );
  }
}

interface Entry {
  event: string;
  manual: boolean;
  direct?: DirectHandler;
}

interface Table {
  slot: number;
  /** The handlers (by index) called through Nest's callback for the socket. */
  nest: number[];
  /** Where the first of those callbacks is in each socket's CALLBACKS array. */
  nestBase: number;
  /** Whether the gateway these handlers belong to handles disconnects (true when unsure). */
  wantsDisconnect: boolean;
  routes: ReadonlyArray<readonly [string, Route]>;
}

/** Delivers one event (its name, its arguments, the ack last when the client asked for one) to a socket. */
type Route = (socket: Socket, event: unknown[]) => void;

interface Routes {
  key: string;
  byEvent: Map<string, Route>;
}

/** The Socket.IO internals routedDispatch stands in for (socket.io 4.8, lib/socket.ts). */
interface RoutedSocket {
  [ROUTES]?: Routes;
  connected: boolean;
  dispatch(event: unknown[]): void;
  run(event: unknown[], fn: (err?: Error) => void): void;
  _onerror(err: Error): void;
  _events: Record<string, unknown>;
}

const ROUTES = Symbol('parley.routes');
const socketDispatch = (SocketClass.prototype as unknown as RoutedSocket).dispatch;

/**
 * Socket.IO's dispatch, for events a gateway handles: the socket's middlewares run first
 * (the rate limit), then the route, straight away rather than
 * on the next tick through the emitter. Listeners a developer adds for the same event with
 * socket.on still run, after it; any other event takes Socket.IO's own path.
 */
function routedDispatch(this: RoutedSocket, event: unknown[]): void {
  const route = this[ROUTES]!.byEvent.get(event[0] as string);
  if (route === undefined) return socketDispatch.call(this, event);
  this.run(event, (err) => {
    if (err) return process.nextTick(() => this._onerror(err));
    if (!this.connected) return;
    route(this as unknown as Socket, event);
    if (this._events[event[0] as string] !== undefined) EventEmitter.prototype.emit.apply(this, event as [string]);
  });
}

function settle(socket: Socket, result: unknown, ack: unknown, manual: boolean): void {
  if (isObservable(result)) result.subscribe((value) => reply(socket, value, ack, manual));
  else reply(socket, result, ack, manual);
}

type Handler = MessageMappingProperties['callback'];

function releaseRequest(socket: Socket, responses: WeakMap<object, UpgradeResponse>): void {
  const conn = socket.conn as { request?: object; transport?: { socket?: EventEmitter } };
  const res = conn.request && responses.get(conn.request);
  if (res) {
    res.req = undefined;
    // Its relay of the TCP socket's 'close' (for middlewares that log the response's end)
    // is the last thing that keeps the response alive.
    for (const listener of res.socket?.rawListeners('close') ?? []) {
      if (isCloseRelay(listener)) res.socket!.removeListener('close', listener as (...args: unknown[]) => void);
    }
  }
  conn.request = undefined;
  socket.handshake.headers = NO_HEADERS;
  // Engine.IO leaves this listener (it only matters until the handshake) on the WebSocket.
  const ws = conn.transport?.socket;
  for (const listener of ws?.listeners('error') ?? []) {
    if (listener.name === 'onUpgradeError') ws!.removeListener('error', listener as (...args: unknown[]) => void);
  }
}

/**
 * Frames to one client within one turn of the event loop go out in one write: each TCP
 * socket Engine.IO flushes to is corked, and all of them are uncorked together once the
 * turn's I/O has been handled (setImmediate). Without it every frame is a system call of
 * its own, which is most of what a fan-out costs. A frame waits at most for the rest of
 * the turn; while a client's batch is being written, Engine.IO queues what follows and
 * sends it as the next batch. In a long turn (a saturated server) the held frames are
 * written every COALESCING_WINDOW_MS instead of at its end.
 */
function coalesceWrites(server: Server): void {
  let corked: Array<{ uncork(): void }> = [];
  let openedAt = 0;
  const uncorkAll = (): void => {
    const batch = corked;
    corked = [];
    for (const raw of batch) raw.uncork();
  };
  server.engine.on('flush', (conn: { transport?: { name?: string; socket?: { _socket?: RawSocket } } }) => {
    const raw = conn.transport?.name === 'websocket' ? conn.transport.socket?._socket : undefined;
    if (!raw || raw.writableCorked > 0 || raw.destroyed) return;
    // A long turn (a saturated server) writes what it holds every COALESCING_WINDOW_MS: frames
    // held for the whole of a long turn outlive young-generation collections and are
    // promoted, to be found dead by the next full collection.
    if (corked.length > 0 && performance.now() - openedAt > COALESCING_WINDOW_MS) uncorkAll();
    raw.cork();
    if (corked.push(raw) === 1) {
      openedAt = performance.now();
      setImmediate(uncorkAll);
    }
  });
}

/**
 * How long, in a long turn of the event loop, frames are held for others to the same
 * clients. Measured on the bench's fan-out: against holding for the whole turn, 0.5 ms
 * promoted 40% less to the old generation with the same CPU per delivery.
 */
const COALESCING_WINDOW_MS = 0.5;

interface RawSocket {
  cork(): void;
  uncork(): void;
  writableCorked: number;
  destroyed: boolean;
}

/** Engine.IO 6.6's stand-in response for a WebSocket upgrade (what the engine middleware gets). */
interface UpgradeResponse {
  req?: unknown;
  socket?: EventEmitter;
}

/** Engine.IO's `socket.once("close", () => this.emit("close"))`, as the once wrapper holds it. */
function isCloseRelay(listener: unknown): boolean {
  const inner = (listener as { listener?: unknown }).listener;
  return typeof inner === 'function' && inner.toString() === CLOSE_RELAY_SOURCE;
}
const CLOSE_RELAY_SOURCE = '() => this.emit("close")';

/**
 * Arrays the adapter made of several arguments. A handler is handed the same array for
 * `emit('e', 'a', 'b')` as for `emit('e', ['a', 'b'])`; this tells the two apart.
 */
const ARGUMENT_LISTS = new WeakSet<object>();

/** Whether `data` (as a handler received it) is the list of several arguments, not one array. */
export function isArgumentList(data: unknown): boolean {
  return typeof data === 'object' && data !== null && ARGUMENT_LISTS.has(data);
}

/** What socket.handshake.headers reads once the connection is set up (see createIOServer). */
const NO_HEADERS: Socket['handshake']['headers'] = Object.freeze({});

/** Where a socket keeps the Nest callbacks bound to it, one array per handler set. */
const CALLBACKS = Symbol('parley.callbacks');
/** The gateways' disconnect callbacks for a socket, in the order Nest bound them. */
const ON_DISCONNECT = Symbol('parley.onDisconnect');
type SlottedSocket = Socket & {
  [CALLBACKS]?: Array<Handler | undefined>;
  [ON_DISCONNECT]?: Array<(reason: string) => void>;
};

function runDisconnects(this: SlottedSocket, reason: string): void {
  for (const callback of this[ON_DISCONNECT]!) callback(reason);
}

function reply(socket: Socket, response: unknown, ack: unknown, manual: boolean): void {
  if (response === null || response === undefined) return;
  const r = response as { event?: string; data?: unknown };
  if (r.event) {
    socket.emit(r.event, r.data);
    return;
  }
  if (!manual && typeof ack === 'function') ack(response);
}

/**
 * Every legal payload must fit in one frame. A message's JSON encoding can grow up to six
 * times its UTF-8 size (control characters become \u00XX); signals are measured as JSON
 * already. The margin covers the packet header and the other fields of the largest event.
 */
export function frameLimit(maxMessageBytes: number, maxSignalBytes: number): number {
  return Math.max(6 * maxMessageBytes, maxSignalBytes) + 16 * 1024;
}
