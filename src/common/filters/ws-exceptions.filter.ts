import { Catch, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseWsExceptionFilter, WsException } from '@nestjs/websockets';
import type { ErrorReply } from '../events.js';
import { isErrorCode } from '../errors/error-codes.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { handlerCalls } from '../realtime/handler-call.js';

/**
 * Turns any error thrown while handling an event into the protocol's `{ error, code }`:
 * through the ack callback when the client gave one, else as the `exception` event.
 * Bound on each gateway class (global filters do not cover gateways).
 */
@Catch()
export class WsExceptionsFilter extends BaseWsExceptionFilter {
  private readonly logger = new Logger(WsExceptionsFilter.name);

  constructor(private readonly metrics: MetricsService) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const [client, , ack] = host.getArgs() as [{ emit: (e: string, p: unknown) => void }, unknown, unknown];
    const event = String(host.switchToWs().getPattern());
    const reply = this.toReply(exception, event);
    const call = handlerCalls.getStore();
    if (call) call.refused = true;
    this.metrics.reject(reply.code);
    if (typeof ack === 'function') ack(reply);
    else client.emit('exception', { event, ...reply });
  }

  private toReply(exception: unknown, event: string): ErrorReply {
    if (exception instanceof WsException) {
      const body = exception.getError();
      if (isErrorReply(body)) return { error: body.error, code: body.code };
      return { error: typeof body === 'string' ? body : 'The request was refused', code: 'VALIDATION' };
    }
    // Never log the payload: it may hold a message body or a signal.
    this.logger.error({ msg: 'unexpected error while handling an event', event, err: String(exception) });
    return { error: 'Internal server error', code: 'INTERNAL' };
  }
}

function isErrorReply(body: unknown): body is ErrorReply {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ErrorReply).error === 'string' &&
    isErrorCode((body as ErrorReply).code)
  );
}
