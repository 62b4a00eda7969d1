import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { flushLoggers } from './pino-logger.js';

/**
 * Logs are written asynchronously; a process that exits on a signal runs no `exit`
 * handlers, so the last lines (the shutdown's own) are flushed here, the last hook to run.
 */
@Injectable()
export class LogFlushService implements OnApplicationShutdown {
  onApplicationShutdown(): void {
    setImmediate(flushLoggers);
    flushLoggers();
  }
}
