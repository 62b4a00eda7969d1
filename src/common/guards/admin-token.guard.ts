import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { appConfig, type AppConfig } from '../../config/configuration.js';
import { unwrapAddress } from '../realtime/client-address.js';
import { AuthFailureThrottle } from './auth-failure-throttle.js';

/**
 * Admin routes exist only when ADMIN_TOKEN is set (404 otherwise) and need
 * `Authorization: Bearer <ADMIN_TOKEN>` (401 otherwise). Compared in constant time. Failed
 * attempts are throttled per address (AuthFailureThrottle): past the allowance an address
 * gets 429 RATE_LIMITED, with Retry-After, without its token being looked at. Guards run
 * before the body is read (see JsonBodyInterceptor), so a request without the token never
 * gets its body parsed.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    @Inject(appConfig.KEY) app: AppConfig,
    private readonly throttle: AuthFailureThrottle,
  ) {
    this.expected = app.adminToken ? digest(app.adminToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw new NotFoundException();
    const req = context.switchToHttp().getRequest<Request>();
    const address = unwrapAddress(req.socket.remoteAddress);
    const wait = this.throttle.waitMs(address);
    if (wait > 0) {
      this.throttle.refused(address, 'http');
      context
        .switchToHttp()
        .getResponse<Response>()
        .setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      throw new HttpException(
        { error: 'Too many failed attempts with the admin token; try again later', code: 'RATE_LIMITED' },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]), this.expected)) {
      this.throttle.failed(address, 'http');
      throw new UnauthorizedException({ error: 'A valid admin token is required', code: 'UNAUTHORIZED' });
    }
    this.throttle.succeeded(address);
    return true;
  }
}

// Hashing first gives equal-length buffers, so the comparison leaks nothing about length.
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
