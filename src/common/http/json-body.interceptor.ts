import {
  HttpException,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import express from 'express';
import { from, switchMap, type Observable } from 'rxjs';

const parseJson = express.json({ limit: '100kb' });

/**
 * Reads a JSON body only once the route's guards have let the request in: an interceptor
 * runs after guards and before pipes. So a request without the admin token is answered 401
 * without its body being read, and a body is parsed only for routes that take one. A body
 * the parser refuses becomes 400 VALIDATION (unreadable) or 413 PAYLOAD_TOO_LARGE, in the
 * protocol's shape (see ParleyExpressAdapter).
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    return from(
      new Promise<void>((resolve, reject) => {
        parseJson(req, res, (err?: unknown) => (err ? reject(bodyError(err)) : resolve()));
      }),
    ).pipe(switchMap(() => next.handle()));
  }
}

function bodyError(err: unknown): unknown {
  const e = err as { type?: string; status?: number };
  if (e.type === 'entity.too.large')
    return new HttpException({ error: 'The request body is too large', code: 'PAYLOAD_TOO_LARGE' }, 413);
  if (typeof e.status === 'number' && e.status < 500)
    return new HttpException({ error: 'The request body must be valid JSON', code: 'VALIDATION' }, 400);
  return err;
}
