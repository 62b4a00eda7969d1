import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { instrument } from '@socket.io/admin-ui';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Socket } from 'socket.io';
import { AuthFailureThrottle } from '../common/guards/auth-failure-throttle.js';
import { unwrapAddress } from '../common/realtime/client-address.js';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { adminUiConfig, type AdminUiConfig } from '../config/configuration.js';
import { BcryptWorker } from './bcrypt-worker.js';

/** The Socket.IO namespace the admin UI dashboard connects to. */
export const ADMIN_UI_NAMESPACE = '/admin';
/** The origin the hosted UI is served from; allowed by CORS only while ADMIN_UI is on. */
export const ADMIN_UI_ORIGIN = 'https://admin.socket.io';

/** The handshake `auth` fields the login reads, with the longest string kept of each (see boundHandshake). */
export const ADMIN_UI_HANDSHAKE_FIELDS = { username: 1024, password: 1024, sessionId: 1024 } as const;

/** How long a dashboard may reconnect with the session id it was given, without the password. */
const SESSION_TTL_MS = 24 * 60 * 60_000;
/** Sessions kept at most (the oldest go first). */
const MAX_SESSIONS = 1000;

type Next = (err?: Error) => void;

/**
 * The Socket.IO admin UI's server side, on the /admin namespace. Always in the library's
 * "production" mode: its development mode forwards every event's arguments (ciphertext, call
 * signals) to the dashboard, which Parley never does. Read-only unless ADMIN_UI_READONLY=false.
 * With the Redis adapter the dashboard sees every node, through the adapter's serverSideEmit.
 *
 * Authentication is Parley's, not the library's: the library's check hands whatever the
 * handshake carries to bcrypt and a rejected promise from there ended the process (a
 * username with no password was enough). Here the handshake's fields are checked for type
 * first, failed attempts are throttled per address before any hashing, and the hash runs in a
 * worker thread so guesses cannot stall the chat. A dashboard that logged in gets a session
 * id (the `session` event, as the library does) and may reconnect with it.
 */
@Injectable()
export class AdminUiService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AdminUiService.name);
  private readonly bcrypt = new BcryptWorker();
  /** Session id → when it expires. */
  private readonly sessions = new Map<string, number>();

  constructor(
    private readonly realtime: RealtimeService,
    private readonly throttle: AuthFailureThrottle,
    @Inject(adminUiConfig.KEY) private readonly config: AdminUiConfig,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.realtime.server;
    // Ours runs first, and is the only check: the library is told there is none.
    server.of(ADMIN_UI_NAMESPACE).use((socket, next) => void this.authenticate(socket, next));
    instrument(server as never, {
      namespaceName: ADMIN_UI_NAMESPACE,
      auth: false,
      readonly: this.config.readonly,
      mode: 'production',
      // One entry per node in the dashboard, even for several nodes on one host.
      serverId: `${hostname()}#${process.pid}#${randomBytes(3).toString('hex')}`,
    });
    this.logger.log({ event: 'admin-ui', namespace: ADMIN_UI_NAMESPACE, readonly: this.config.readonly });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bcrypt.close();
  }

  private async authenticate(socket: Socket, next: Next): Promise<void> {
    try {
      const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
      if (this.hasSession(auth.sessionId)) return next();
      const address = unwrapAddress(socket.handshake.address);
      if (this.throttle.waitMs(address) > 0) {
        this.throttle.refused(address, 'admin-ui');
        return next(refusal('too many failed attempts, try again later', 'RATE_LIMITED'));
      }
      const ok =
        typeof auth.username === 'string' &&
        auth.username === this.config.username &&
        (await this.bcrypt.compare(auth.password, this.config.passwordHash!));
      if (!ok) {
        this.throttle.failed(address, 'admin-ui');
        return next(refusal('invalid credentials', 'UNAUTHORIZED'));
      }
      this.throttle.succeeded(address);
      const sessionId = this.newSession();
      // Queued by the client until the namespace's connect arrives, as the library does it.
      socket.emit('session', sessionId);
      next();
    } catch (err) {
      // Whatever fails here refuses this one dashboard and nothing else.
      this.logger.error({ event: 'admin-ui-auth-error', err: String(err) });
      next(refusal('authentication failed', 'INTERNAL'));
    }
  }

  private hasSession(id: unknown): boolean {
    if (typeof id !== 'string') return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires > Date.now()) return true;
    this.sessions.delete(id);
    return false;
  }

  private newSession(): string {
    const id = randomBytes(16).toString('base64url');
    this.sessions.set(id, Date.now() + SESSION_TTL_MS);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return id;
  }
}

function refusal(message: string, code: string): Error {
  const err = new Error(message) as Error & { data?: unknown };
  err.data = { code, error: message };
  return err;
}
