/**
 * JWTs for the auth specs, made with jose (and by hand for the forged ones).
 */
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export const SECRET = 'parley-test-secret-0123456789abcdef';

const enc = (s: string) => new TextEncoder().encode(s);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export interface TokenOptions {
  secret?: string;
  alg?: 'HS256' | 'HS384' | 'HS512';
  /** Seconds from now; negative: already expired. Absent: an hour; null: no exp claim. */
  expiresIn?: number | null;
  notBeforeIn?: number;
}

export async function hsToken(claims: JWTPayload = {}, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' }).setIssuedAt(now - 60);
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
  if (expiresIn !== null) jwt.setExpirationTime(now + expiresIn);
  if (options.notBeforeIn !== undefined) jwt.setNotBefore(now + options.notBeforeIn);
  return jwt.sign(enc(options.secret ?? SECRET));
}

/** An unsigned token: header `alg: none`, empty signature. */
export function noneToken(claims: JWTPayload = {}): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iat: Math.floor(Date.now() / 1000), ...claims })}.`;
}

/** A validly signed HS256 token whose payload was then swapped (the signature no longer matches). */
export async function tamperedToken(claims: JWTPayload): Promise<string> {
  const [header, , signature] = (await hsToken({ rooms: ['somewhere-else'] })).split('.');
  return `${header}.${b64url(claims)}.${signature}`;
}

export async function rsToken(claims: JWTPayload = {}): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuedAt().sign(privateKey);
}
