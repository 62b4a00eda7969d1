import { Logger } from '@nestjs/common';
import { ParleyError, UnavailableError } from '../common/errors/parley.error.js';
import type { ErrorReply } from '../common/events.js';

const logger = new Logger('Compat');

/**
 * Logs an unexpected failure in a compatibility event (ids and the error, never a payload).
 * Redis not answering is no fault of ours: a warning, and the client gets UNAVAILABLE.
 */
export function compatFault(event: string, socketId: string | undefined, err: unknown): ErrorReply {
  if (err instanceof UnavailableError) {
    logger.warn({ msg: 'Redis not answering in a compatibility event', event, socketId });
    return err.toReply();
  }
  logger.error({ msg: 'unexpected error in a compatibility event', event, socketId, err: String(err) });
  return err instanceof ParleyError ? err.toReply() : { error: 'Internal server error', code: 'INTERNAL' };
}
