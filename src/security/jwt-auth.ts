import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { SocketData } from '../common/events.js';

/** The claims Parley honours (docs: "Authentication"). */
export type AuthClaims = NonNullable<SocketData['auth']>;

/** Tokens longer than this are refused before any crypto. */
export const MAX_TOKEN_CHARS = 8192;

/** Why a handshake token was refused: a short reason for logs, never the token itself. */
export class TokenRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Verifies handshake tokens: HS256 JWTs signed with AUTH_JWT_SECRET and not expired (`exp`,
 * and `nbf` when present), verified with `jose`. Any other algorithm (`none`, HS512, RS256…)
 * is refused. A token must carry `exp` (a token without one would be good forever, and a
 * socket's right to act ends when its token does), unless AUTH_JWT_ALLOW_NO_EXP is set.
 */
export class JwtVerifier {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly allowNoExp = false,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: unknown): Promise<AuthClaims> {
    if (typeof token !== 'string' || token.length === 0) throw new TokenRefused('missing token');
    if (token.length > MAX_TOKEN_CHARS) throw new TokenRefused('token too long');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        ...(!this.allowNoExp && { requiredClaims: ['exp'] }),
      }));
    } catch (err) {
      throw new TokenRefused(reasonOf(err));
    }
    return claimsOf(payload);
  }
}

/** The `rooms` and `name` claims, checked for shape; a malformed claim refuses the token. */
export function claimsOf(payload: JWTPayload): AuthClaims {
  const claims: AuthClaims = {};
  const { rooms, name } = payload as { rooms?: unknown; name?: unknown };
  if (rooms !== undefined) {
    if (!Array.isArray(rooms) || !rooms.every((r): r is string => typeof r === 'string')) {
      throw new TokenRefused('malformed rooms claim');
    }
    claims.rooms = rooms.map((r) => r.trim());
  }
  if (name !== undefined) {
    if (typeof name !== 'string') throw new TokenRefused('malformed name claim');
    claims.name = name.trim();
  }
  // jose has checked that a present `exp` is a number in the future.
  if (typeof payload.exp === 'number') claims.exp = payload.exp;
  return claims;
}

function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return err.reason === 'missing' ? `no ${err.claim} claim` : `claim check failed (${err.claim})`;
  if (err instanceof joseErrors.JOSEError) return err.code;
  return 'invalid token';
}
