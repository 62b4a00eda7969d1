import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LogThrottle } from '../common/logging/log-throttle.js';
import { RateLimitedError } from '../common/errors/parley.error.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { unwrapAddress } from '../common/realtime/client-address.js';
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

/** Where an Engine.IO connection keeps its admission (see onEngineConnection). */
const SLOT = Symbol('parley.slot');
/** The admission of a connection over the limit. */
const REFUSED = 0;
/** Counting (a promise), counted (the lease), over the limit, or nothing (given back or handed to a hold). */
type Slot = Promise<void> | ConnectionLease | typeof REFUSED | undefined;

/** What the guard uses of an Engine.IO connection (`socket.conn`). */
interface EngineConn {
  readonly readyState: string;
  readonly remoteAddress: string;
  once(event: 'close', listener: (this: EngineConn) => void): unknown;
  close(): unknown;
  [SLOT]?: Slot;
}

/**
 * How long a connection over the limit may stay open without asking for the main namespace
 * (where it is refused with TOO_MANY_CONNECTIONS). A Socket.IO client asks within a round
 * trip of the handshake; anything else is closed.
 */
const REFUSED_GRACE_MS = 2_000;

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
 * 2. concurrent connections per client address (MAX_CONNECTIONS_PER_IP), counted per
 *    Engine.IO connection from its handshake, else `connect_error` TOO_MANY_CONNECTIONS
 *    (see onEngineConnection); a socket held for recovery keeps its slot;
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
    io.engine.on('connection', this.onEngineConnection);
    io.use(this.limitConnections);
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

  /**
   * Every Engine.IO connection is counted from its handshake, before it asks for any
   * namespace: one that never joins one (or only an unknown one) still holds a slot until
   * it closes. Refusing right there would only give the client an HTTP 403, which a
   * Socket.IO client reports as a transport error; so a connection over the limit is let
   * through the handshake, marked, and refused when it asks for the main namespace
   * (`connect_error` TOO_MANY_CONNECTIONS), then closed; if it asks for nothing it is closed
   * after REFUSED_GRACE_MS. The slot rides on the connection itself (no map, no closure).
   */
  private readonly onEngineConnection = (conn: EngineConn): void => {
    const ip = unwrapAddress(conn.remoteAddress);
    conn[SLOT] = this.counter.acquire(ip).then(
      (lease) => this.admitted(conn, lease),
      (err: unknown) => {
        // Never lock clients out on an internal error.
        this.logger.error({ msg: 'connection limit check failed', err: String(err) });
        conn[SLOT] = undefined;
      },
    );
    conn.once('close', this.onEngineClose);
  };

  private admitted(conn: EngineConn, lease: ConnectionLease | undefined): void {
    if (conn.readyState === 'closed') {
      // Gone while we were counting.
      conn[SLOT] = undefined;
      void lease?.release();
      return;
    }
    if (lease) {
      conn[SLOT] = lease;
      return;
    }
    conn[SLOT] = REFUSED;
    setTimeout(() => {
      if (conn[SLOT] !== REFUSED || conn.readyState !== 'open') return;
      this.refused(unwrapAddress(conn.remoteAddress));
      conn.close();
    }, REFUSED_GRACE_MS).unref();
  }

  private readonly onEngineClose = asListener((conn: EngineConn) => {
    const slot = conn[SLOT];
    // (A count still in progress is settled by `admitted`.)
    if (slot === undefined || slot === REFUSED || slot instanceof Promise) return;
    conn[SLOT] = undefined;
    void slot.release();
  });

  /** The main namespace's check: a connection over the limit is refused here, where the client hears why. */
  private readonly limitConnections: Middleware = (socket, next) => {
    const conn = socket.conn as unknown as EngineConn;
    const slot = conn[SLOT];
    if (slot instanceof Promise) {
      void slot.then(() => this.limitConnections(socket, next));
      return;
    }
    const held = socket.recovered ? this.held.get(socket.id) : undefined;
    if (held) {
      // The same session is back within its window: its held slot becomes this
      // connection's when the connection itself was over the limit (it is that session's
      // slot coming back); otherwise the connection was counted anew and the hold gives its back.
      this.held.delete(socket.id);
      if (slot === REFUSED && held.ip === clientAddress(socket)) conn[SLOT] = held.lease;
      else void held.lease.release();
    }
    if (conn[SLOT] === REFUSED) {
      this.refused(clientAddress(socket));
      next(connectError(TOO_MANY_CONNECTIONS, 'Too many connections from your address'));
      // Socket.IO writes the refusal on the next tick; close once it is on its way.
      setImmediate(() => conn.close());
      return;
    }
    if (this.tracksDisconnects) socket.on('disconnect', this.onDisconnect);
    next();
  };

  private refused(ip: string): void {
    this.metrics.refusedConnections.inc({ reason: TOO_MANY_CONNECTIONS });
    this.warnThrottled('too-many-connections', { event: 'connection-refused', reason: TOO_MANY_CONNECTIONS, ip });
  }

  /** Whether a socket's disconnect matters here: a hold keeps its slot, the rate limiter forgets it. */
  private get tracksDisconnects(): boolean {
    return this.limiter !== undefined || this.limits.recoveryWindowMs > 0;
  }

  private readonly onDisconnect = asListener((socket: ParleySocket, reason: string) => this.released(socket, reason));

  private released(socket: ParleySocket, reason: string): void {
    if (this.limiter) void this.limiter.forget(socket.id);
    if (!this.sessions.isHeld(reason)) return;
    // Held for recovery: the slot stays counted until the session service's window for
    // this drop ends (see the onHold listener), whatever becomes of the connection.
    // Socket.IO disconnects the connection's sockets before the connection's own `close`
    // listeners run, so the slot is taken off the connection before it is given back.
    const conn = socket.conn as unknown as EngineConn;
    const slot = conn[SLOT];
    if (slot === undefined || slot === REFUSED || slot instanceof Promise) return;
    conn[SLOT] = undefined;
    this.held.set(socket.id, { ip: clientAddress(socket), lease: slot });
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
    // The limiter forgets the socket in the disconnect listener limitConnections added.
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
  return unwrapAddress(socket.handshake.address);
}
