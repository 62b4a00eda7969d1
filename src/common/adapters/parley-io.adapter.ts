import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';

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
}

/**
 * Every legal payload must fit in one frame. A message's JSON encoding can grow up to six
 * times its UTF-8 size (control characters become \u00XX); signals are measured as JSON
 * already. The margin covers the packet header and the other fields of the largest event.
 */
export function frameLimit(maxMessageBytes: number, maxSignalBytes: number): number {
  return Math.max(6 * maxMessageBytes, maxSignalBytes) + 16 * 1024;
}
