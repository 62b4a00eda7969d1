import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable, type Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';

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
    app: INestApplicationContext,
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
   * the first socket. Each finds the socket's own Nest callback in the socket's slot.
   */
  private readonly tables = new Map<string, { slot: number; listeners: Array<(...args: unknown[]) => void> }>();

  /**
   * Binds each handler as a plain listener, and the same listener function on every
   * socket. Nest's default builds an RxJS pipeline per handler per socket, and even a plain
   * closure per handler per socket is most of what a connection costs beyond Socket.IO's
   * own objects; here a socket holds only the callbacks Nest made for it. Semantics are
   * the same: the payload is mapped to (data, ack), a nullish result sends nothing,
   * `{ event, data }` is emitted, anything else goes to the ack.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    const key = handlers.map((h) => `${String(h.message)}${h.isAckHandledManually ? '!' : ''}`).join('\n');
    let table = this.tables.get(key);
    if (!table) {
      const slot = this.tables.size;
      table = { slot, listeners: handlers.map((h, i) => this.sharedListener(slot, i, h.isAckHandledManually)) };
      this.tables.set(key, table);
    }
    const slots = ((socket as SlottedSocket)[CALLBACKS] ??= []);
    slots[table.slot] = handlers.map((h) => h.callback);
    for (let i = 0; i < handlers.length; i++) socket.on(handlers[i].message as string, table.listeners[i]);
  }

  private sharedListener(slot: number, index: number, manual: boolean): (...args: unknown[]) => void {
    const dispatch = (socket: Socket, args: unknown[]) =>
      this.dispatch(socket, (socket as SlottedSocket)[CALLBACKS]![slot][index], manual, args);
    // A function, not an arrow: the emitter calls it with the socket as `this`.
    return function (this: Socket, ...args: unknown[]) {
      dispatch(this, args);
    };
  }

  private dispatch(socket: Socket, callback: Handler, manual: boolean, args: unknown[]): void {
    const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args);
    let pending: unknown;
    try {
      pending = callback(data, ack);
    } catch (err) {
      this.log.error(err);
      return;
    }
    Promise.resolve(pending).then(
      (result) => {
        if (isObservable(result)) result.subscribe((value) => reply(socket, value, ack, manual));
        else reply(socket, result, ack, manual);
      },
      (err: unknown) => this.log.error(err),
    );
  }
}

type Handler = MessageMappingProperties['callback'];

function releaseRequest(socket: Socket): void {
  (socket.conn as { request?: unknown }).request = undefined;
}

/** Where a socket keeps the Nest callbacks bound to it, one array per handler set. */
const CALLBACKS = Symbol('parley.callbacks');
type SlottedSocket = Socket & { [CALLBACKS]?: Handler[][] };

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
