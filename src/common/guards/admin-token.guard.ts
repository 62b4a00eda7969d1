import {
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { appConfig, type AppConfig } from '../../config/configuration.js';

/**
 * Admin routes exist only when ADMIN_TOKEN is set (404 otherwise) and need
 * `Authorization: Bearer <ADMIN_TOKEN>` (401 otherwise). Compared in constant time.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(appConfig.KEY) app: AppConfig) {
    this.expected = app.adminToken ? digest(app.adminToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw new NotFoundException();
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]), this.expected)) {
      throw new UnauthorizedException('A valid admin token is required');
    }
    return true;
  }
}

// Hashing first gives equal-length buffers, so the comparison leaks nothing about length.
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
