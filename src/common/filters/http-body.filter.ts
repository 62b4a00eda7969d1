import { BadRequestException, Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

/**
 * A body the JSON parser could not read is a bad body too: 400 `{ error, code: 'VALIDATION' }`
 * like any other, rather than the framework's own error shape. Other HTTP errors keep theirs.
 */
@Catch(HttpException)
export class HttpBodyFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = exception.getResponse();
    if (exception instanceof BadRequestException && !isParleyBody(body)) {
      res.status(400).json({ error: 'The request body must be a JSON object', code: 'VALIDATION' });
      return;
    }
    res.status(exception.getStatus()).json(body);
  }
}

function isParleyBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'code' in body && 'error' in body;
}

/**
 * Express error middleware for the JSON body parser, which runs before any route (and so
 * before Nest's filters): an unreadable body gets the same 400 as a body that breaks a rule.
 */
export function jsonBodyErrors(err: unknown, _req: unknown, res: Response, next: (err?: unknown) => void): void {
  const e = err as { type?: string; status?: number } | undefined;
  if (e?.type === 'entity.parse.failed' || e?.type === 'entity.verify.failed') {
    res.status(400).json({ error: 'The request body must be valid JSON', code: 'VALIDATION' });
    return;
  }
  if (e?.type === 'entity.too.large') {
    res.status(400).json({ error: 'The request body is too large', code: 'VALIDATION' });
    return;
  }
  next(err);
}
