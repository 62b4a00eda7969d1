import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LogThrottle } from '../common/logging/log-throttle.js';
import { RateLimitedError } from '../common/errors/parley.error.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { RealtimeService, type ParleyServer } from '../common/realtime/realtime.service.js';
import { authConfig, limitsConfig, type AuthConfig, type LimitsConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionService } from '../sessions/session.service.js';
import { ConnectionCounter, type ConnectionLease } from './connection-counter.js';
import { JwtVerifier, TokenRefused } from './jwt-auth.js';
import { SocketRateLimiter } from './socket-rate-limiter.js';
import { enforceTokenExpiry } from './token-expiry.js';

/** The `connect_error` messages. */
export const UNAUTHORIZED = 'UNAUTHORIZED';
export const TOO_MANY_CONNECTIONS = 'TOO_MANY_CONNECTIONS';

type Middleware = Parameters<ParleyServer['use']>[0];

/** A listener that hands the emitter it is called on (its `this`) to `fn`, first. */
function asListener<T, A extends unknown[]>(fn: (self: T, ...args: A) => void): (this: T, ...args: A) => void {
  return function (this: T, ...args: A) {
    fn(this, ...args);
  };
}

/** Where a socket keeps its counted slot (see trackRelease). */
const LEASE = Symbol('parley.lease');
type GuardedSocket = ParleySocket & { [LEASE]?: { ip: string; lease: ConnectionLease } };
type Packet = unknown[];

interface Held {
  ip: string;
  lease: ConnectionLease;
  /** The SessionService hold this slot follows (set once the session service holds the socket). */
  token?: string;
}

/**
 * Guards the Socket.IO server, in this order, before a connection is accepted:
 * 1. authentication (when AUTH_JWT_SECRET is set): `auth.token` must be a valid HS256 JWT,
 *    else `connect_error` UNAUTHORIZED; its claims go to `socket.data.auth`;
 * 2. concurrent connections per client address (MAX_CONNECTIONS_PER_IP), else
 *    `connect_error` TOO_MANY_CONNECTIONS; a socket held for recovery keeps its slot;
 * 3. a per-socket rate limit over every inbound event (RATE_LIMIT_PER_SEC, RATE_LIMIT_BURST):
 *    an event over the limit is dropped and answered RATE_LIMITED (ack, else `exception`);
 *    a socket that keeps flooding is disconnected.
 * Nothing here logs a payload or a token.
 */
@Injectable()
export class SocketGuardService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Security');
  private readonly verifier?: JwtVerifier;
  private readonly limiter?: SocketRateLimiter;
  private readonly held = new Map<string, Held>();
  private readonly throttle = new LogThrottle();

  constructor(
    private readonly realtime: RealtimeService,
    private readonly metrics: MetricsService,
    private readonly counter: ConnectionCounter,
    private readonly sessions: SessionService,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    @Inject(authConfig.KEY) auth: AuthConfig,
  ) {
    // A held socket keeps its slot exactly as long as the session service holds it here.
    sessions.onHold({
      held: (id, token) => {
        const h = this.held.get(id);
        if (h && h.token === undefined) h.token = token;
      },
      ended: (id, token) => {
        const h = this.held.get(id);
        if (!h || h.token !== token) return;
        this.held.delete(id);
        void h.lease.release();
      },
    });
    if (auth.jwtSecret) this.verifier = new JwtVerifier(auth.jwtSecret, auth.allowNoExp);
    if (limits.rateLimitPerSec > 0) {
      this.limiter = new SocketRateLimiter({ perSec: limits.rateLimitPerSec, burst: limits.rateLimitBurst });
    }
  }

  onApplicationBootstrap(): void {
    if (!this.realtime.attached) {
      this.logger.warn('no Socket.IO server: authentication, connection and rate limits are not installed');
      return;
    }
    const io = this.realtime.server;
    if (this.verifier) io.use(this.authenticate);
    io.use(this.limitConnections);
    io.on('connection', this.onConnected);
    if (this.limiter) io.use(this.installRateLimit);
    this.logger.log({
      event: 'security',
      auth: this.verifier !== undefined,
      rateLimitPerSec: this.limits.rateLimitPerSec,
      rateLimitBurst: this.limits.rateLimitBurst,
      maxConnectionsPerIp: this.limits.maxConnectionsPerIp,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const held = [...this.held.values()];
    this.held.clear();
    await Promise.all(held.map((h) => h.lease.release()));
  }

  // ---------- 1. authentication ----------

  private readonly authenticate: Middleware = (socket, next) => {
    const token = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    this.verifier!.verify(token).then(
      (claims) => {
        socket.data.auth = claims;
        enforceTokenExpiry(socket);
        next();
      },
      (err: unknown) => {
        const reason = err instanceof TokenRefused ? err.reason : 'verification failed';
        this.logger.debug({ event: 'connection-refused', reason: UNAUTHORIZED, detail: reason });
        this.metrics.refusedConnections.inc({ reason: UNAUTHORIZED });
        next(connectError(UNAUTHORIZED, 'A valid authentication token is required'));
      },
    );
  };

  // ---------- 2. connections per address ----------

  private readonly limitConnections: Middleware = (socket, next) => {
    void this.admit(socket).then(
      (admitted) => {
        if (!admitted) return next(connectError(TOO_MANY_CONNECTIONS, 'Too many connections from your address'));
        next();
        // Socket.IO connects the socket on the tick after the last middleware lets it in.
        process.nextTick(() => this.afterAdmission(socket));
      },
      (err: unknown) => {
        // Never lock clients out on an internal error.
        this.logger.error({ msg: 'connection limit check failed', err: String(err) });
        next();
      },
    );
  };

  private async admit(socket: ParleySocket): Promise<boolean> {
    const ip = clientAddress(socket);
    let lease: ConnectionLease | undefined;
    const held = this.held.get(socket.id);
    if (held && socket.recovered) {
      // The same session is back within its window: it keeps the slot it had.
      this.held.delete(socket.id);
      if (held.ip === ip) lease = held.lease;
      else await held.lease.release();
    }
    lease ??= await this.counter.acquire(ip);
    if (!lease) {
      this.metrics.refusedConnections.inc({ reason: TOO_MANY_CONNECTIONS });
      this.warnThrottled('too-many-connections', { event: 'connection-refused', reason: TOO_MANY_CONNECTIONS, ip });
      return false;
    }
    if (socket.conn.readyState !== 'open') {
      // The client went away while we were checking: Socket.IO will drop the socket silently.
      await lease.release();
      return true;
    }
    this.trackRelease(socket, ip, lease);
    return true;
  }

  /**
   * Gives the slot back when the socket goes. The listener is the same function on every
   * socket and the lease rides on the socket itself: a connection lives for hours, so what
   * it keeps is counted in bytes.
   */
  private trackRelease(socket: ParleySocket, ip: string, lease: ConnectionLease): void {
    (socket as GuardedSocket)[LEASE] = { ip, lease };
    socket.on('disconnect', this.onDisconnect);
  }

  /**
   * A socket that never connects gets no `disconnect`: its connection closed while the
   * middlewares ran, or a later middleware refused it. Usually that is settled by now;
   * otherwise (a later middleware still working) the connection's close decides.
   */
  private afterAdmission(socket: GuardedSocket): void {
    if (socket.connected || socket[LEASE] === undefined) return;
    if (socket.conn.readyState !== 'open') return this.releaseUnconnected(socket);
    // (A socket refused earlier on this connection never connected either.)
    const refused = this.connecting.get(socket.conn);
    if (refused) this.releaseUnconnected(refused);
    else socket.conn.once('close', this.onEarlyClose);
    this.connecting.set(socket.conn, socket);
  }

  /** Sockets still connecting after admission, by their Engine.IO connection. */
  private readonly connecting = new Map<object, GuardedSocket>();

  private readonly onConnected = (socket: ParleySocket): void => {
    if (this.connecting.delete(socket.conn)) socket.conn.off('close', this.onEarlyClose);
  };

  private readonly onEarlyClose = asListener((conn: object) => {
    const socket = this.connecting.get(conn);
    if (!socket) return;
    this.connecting.delete(conn);
    this.releaseUnconnected(socket);
  });

  private releaseUnconnected(socket: GuardedSocket): void {
    if (!socket.connected && !this.held.has(socket.id)) void socket[LEASE]!.lease.release();
  }

  private readonly onDisconnect = asListener((socket: GuardedSocket, reason: string) => this.released(socket, reason));

  private released(socket: GuardedSocket, reason: string): void {
    if (this.limiter) void this.limiter.forget(socket.id);
    const slot = socket[LEASE]!;
    if (this.sessions.isHeld(reason)) {
      // Held for recovery: still counts as connected until the session service's window
      // for this drop ends (see the onHold listener).
      this.held.set(socket.id, { ip: slot.ip, lease: slot.lease });
    } else {
      void slot.lease.release();
    }
  }

  /** At most one warning of a kind every 10 s, so a connection storm cannot flood the logs. */
  private warnThrottled(kind: string, entry: Record<string, unknown>): void {
    this.throttle.run(kind, (extra) => this.logger.warn({ ...entry, ...extra }));
  }

  // ---------- 3. rate limit ----------

  private readonly installRateLimit: Middleware = (socket, next) => {
    const limiter = this.limiter!;
    // Decisions are made one packet at a time, so allowed events keep their order.
    let queue: Promise<void> = Promise.resolve();
    let flooded = false;
    socket.use((packet, proceed) => {
      queue = queue
        .then(async () => {
          let decision: Awaited<ReturnType<SocketRateLimiter['check']>>;
          try {
            decision = await limiter.check(socket.id);
          } catch (err) {
            // A limiter failure must not stall the socket: let the event through.
            this.logger.error({ msg: 'rate limiter failed', err: String(err) });
            decision = 'allow';
          }
          if (decision === 'allow') return proceed();
          this.refuse(socket, packet as Packet);
          if (decision === 'flood' && !flooded) {
            flooded = true;
            this.metrics.floodDisconnects.inc();
            this.logger.warn({
              event: 'flood-disconnect',
              socketId: socket.id,
              reason: `kept sending over ${limiter.floodPerSec} events a second for several seconds (limit ${this.limits.rateLimitPerSec}/s)`,
            });
            socket.disconnect(true);
          }
        })
        .catch((err: unknown) => this.logger.error({ msg: 'rate limit reply failed', err: String(err) }));
    });
    // The limiter forgets the socket in the disconnect listener trackRelease added, if any.
    if ((socket as GuardedSocket)[LEASE] === undefined) socket.once('disconnect', () => void limiter.forget(socket.id));
    next();
  };

  private refuse(socket: ParleySocket, packet: Packet): void {
    this.metrics.reject('RATE_LIMITED');
    const reply = new RateLimitedError().toReply();
    const ack = packet[packet.length - 1];
    if (packet.length > 1 && typeof ack === 'function') (ack as (r: unknown) => void)(reply);
    else socket.emit('exception', { event: String(packet[0]), ...reply });
  }
}

/** A middleware error the client receives as `connect_error` with this message. */
function connectError(message: string, sentence: string): Error {
  const err = new Error(message) as Error & { data?: unknown };
  err.data = { code: message, error: sentence };
  return err;
}

/** The peer address of the connection (proxies are not trusted), IPv4-mapped IPv6 unwrapped. */
export function clientAddress(socket: Pick<ParleySocket, 'handshake'>): string {
  const address = socket.handshake.address || 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
