import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Security headers for every HTTP response (helmet's defaults: CSP, HSTS, nosniff,
 * frame-ancestors, referrer policy, no X-Powered-By…), adjusted for Parley:
 * - `connect-src 'self'`: the web client only ever talks to the server that served it;
 * - `upgrade-insecure-requests` only when this server speaks TLS itself, or a plain-HTTP
 *   deployment on a LAN address would break its own page's assets.
 * Socket.IO's own requests (/socket.io/) are answered before Express and are unaffected.
 */
export function securityHeaders(options: { tls: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        connectSrc: ["'self'"],
        upgradeInsecureRequests: options.tls ? [] : null,
      },
    },
  }) as RequestHandler;
}
