import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { drainLoggers } from './pino-logger.js';

/**
 * Logs are written asynchronously; a process that exits on a signal runs no `exit`
 * handlers, so the last lines (the shutdown's own) are flushed here, the last hook to run.
 */
@Injectable()
export class LogFlushService implements OnApplicationShutdown {
  /** The shutdown's last line (every other hook has run), then the flush. */
  async onApplicationShutdown(signal?: string): Promise<void> {
    new Logger('Parley').log({ event: 'stopped', msg: `Parley stopped${signal ? ` (${signal})` : ''}`, signal });
    await drainLoggers();
  }
}
