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
    return server;
  }

  /**
   * Binds each handler as one plain listener. Nest's default builds an RxJS pipeline per
   * handler per socket; on a chat server that is most of the memory a connection costs
   * and a measurable share of the CPU per message. Semantics are the same: the payload is
   * mapped to (data, ack), a nullish result sends nothing, `{ event, data }` is emitted,
   * anything else goes to the ack.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message, (...args: unknown[]) => {
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
            if (isObservable(result)) result.subscribe((value) => reply(socket, value, ack, isAckHandledManually));
            else reply(socket, result, ack, isAckHandledManually);
          },
          (err: unknown) => this.log.error(err),
        );
      });
    }
  }
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
