import { createHmac } from 'node:crypto';

/**
 * `X-Parley-Signature`: HMAC-SHA256 over "<timestamp>.<raw body>", keyed with the secret,
 * as lowercase hex after "sha256=". The timestamp is signed too, so a receiver that checks
 * its age can refuse a replayed request.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
