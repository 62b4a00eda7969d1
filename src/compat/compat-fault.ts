import { Logger } from '@nestjs/common';
import type { ErrorReply } from '../common/events.js';

const logger = new Logger('Compat');

/** Logs an unexpected failure in a compatibility event (ids and the error, never a payload). */
export function compatFault(event: string, socketId: string | undefined, err: unknown): ErrorReply {
  logger.error({ msg: 'unexpected error in a compatibility event', event, socketId, err: String(err) });
  return { error: 'Internal server error', code: 'INTERNAL' };
}
