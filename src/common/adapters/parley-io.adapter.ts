import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable, type Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { directHandlers, type DirectHandler } from './direct-handlers.js';

export interface ParleyIoOptions {
  corsOrigins: string[];
  /** Largest frame Socket.IO accepts; bigger frames close the connection at the transport. */
  maxHttpBufferSize: number;
  /** Connection state recovery window in ms; 0 turns recovery off. */
  recoveryWindowMs: number;
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
    // Engine.IO keeps the HTTP upgrade request for the life of the connection; Parley reads
    // only socket.handshake (a copy made before any middleware runs), so the request goes
    // once every 'connection' listener, gateways' handleConnection included, has seen it.
    server.on('connection', (socket) => queueMicrotask(() => releaseRequest(socket)));
    return server;
  }

  /**
   * The listeners every socket shares, per set of handlers (one set per gateway), built on
   * the first socket. A handler runs directly (see direct-handlers.ts) or, when it needs
   * Nest's full pipeline, through the callback Nest made for the socket, kept in its slot.
   */
  private readonly tables = new Map<string, Table>();
  private direct?: Map<string, DirectHandler>;

  /**
   * Binds each handler as a plain listener, and the same listener function on every
   * socket. Nest's default builds an RxJS pipeline per handler per socket, and even a plain
   * closure per handler per socket is most of what a connection costs beyond Socket.IO's
   * own objects. Semantics are the same: the payload is mapped to (data, ack), a nullish
   * result sends nothing, `{ event, data }` is emitted, anything else goes to the ack.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    // Built on the first connection: by then every gateway exists.
    const direct = (this.direct ??= directHandlers(this.app));
    const key = handlers.map((h) => `${String(h.message)}${h.isAckHandledManually ? '!' : ''}`).join('\n');
    let table = this.tables.get(key);
    if (!table) {
      const slot = this.tables.size;
      const entries = handlers.map((h) => ({
        event: String(h.message),
        manual: h.isAckHandledManually,
        // (a handler with @Ack() is never direct: directHandlers leaves it to Nest)
        direct: direct.get(String(h.message)),
      }));
      table = {
        slot,
        viaNest: entries.map((e) => e.direct === undefined),
        listeners: entries.map((e, i) => this.sharedListener(slot, i, e)),
      };
      this.tables.set(key, table);
    }
    if (table.viaNest.includes(true)) {
      const slots = ((socket as SlottedSocket)[CALLBACKS] ??= []);
      const viaNest = table.viaNest;
      slots[table.slot] = handlers.map((h, i) => (viaNest[i] ? h.callback : undefined));
    }
    for (let i = 0; i < handlers.length; i++) socket.on(handlers[i].message as string, table.listeners[i]);
  }

  /**
   * Runs one handler call. Subclasses wrap it (the Redis adapter tracks the broadcasts a
   * call starts); `run` must be called exactly once, synchronously.
   */
  protected invoke(_socket: Socket, _event: string, _ack: unknown, run: () => unknown): unknown {
    return run();
  }

  private sharedListener(slot: number, index: number, entry: Entry): (...args: unknown[]) => void {
    const run: DirectHandler =
      entry.direct ?? ((socket, data, ack) => (socket as SlottedSocket)[CALLBACKS]![slot][index]!(data, ack));
    const dispatch = (socket: Socket, args: unknown[]) => this.dispatch(socket, entry, run, args);
    // A function, not an arrow: the emitter calls it with the socket as `this`.
    return function (this: Socket, ...args: unknown[]) {
      dispatch(this, args);
    };
  }

  private dispatch(socket: Socket, entry: Entry, run: DirectHandler, args: unknown[]): void {
    const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args);
    let pending: unknown;
    try {
      pending = this.invoke(socket, entry.event, ack, () => run(socket, data, ack));
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
  /** Which handlers go through Nest's per-socket callback. */
  viaNest: boolean[];
  listeners: Array<(...args: unknown[]) => void>;
}

function settle(socket: Socket, result: unknown, ack: unknown, manual: boolean): void {
  if (isObservable(result)) result.subscribe((value) => reply(socket, value, ack, manual));
  else reply(socket, result, ack, manual);
}

type Handler = MessageMappingProperties['callback'];

function releaseRequest(socket: Socket): void {
  (socket.conn as { request?: unknown }).request = undefined;
}

/** Where a socket keeps the Nest callbacks bound to it, one array per handler set. */
const CALLBACKS = Symbol('parley.callbacks');
type SlottedSocket = Socket & { [CALLBACKS]?: Array<Array<Handler | undefined>> };

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
