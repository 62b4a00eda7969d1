import { ExpressAdapter } from '@nestjs/platform-express';
import { errorBody } from './http-errors.js';

/**
 * Nest's Express adapter, with every error answer Nest writes (its exception layer's, for
 * any route, an unknown route's 404, a body the parser refused) in the protocol's shape
 * `{ error, code }`. Done here rather than by a global exception filter: a global filter
 * would also apply to the gateways and take them off their direct path (see
 * common/adapters/direct-handlers.ts). `/health`'s own 503 body is kept, as the protocol says.
 */
export class ParleyExpressAdapter extends ExpressAdapter {
  override reply(response: unknown, body: unknown, statusCode?: number): unknown {
    if (statusCode !== undefined && statusCode >= 400 && !isHealthReport(body)) body = errorBody(body, statusCode);
    return super.reply(response, body, statusCode);
  }
}

/** Terminus's report (`{ status, info, error, details }`), which /health answers with. */
function isHealthReport(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'status' in body && 'details' in body;
}
