import { randomFillSync } from 'node:crypto';

/**
 * Random bytes from the system's CSPRNG, drawn from a pool that is refilled 4 KiB at a
 * time. `randomBytes(n)` makes one call into OpenSSL per use, which showed up in the
 * profile of the hot paths (an epoch candidate per room message, a token per call); the
 * pool costs one such call per few hundred ids. Node's own `randomUUID()` buffers the same
 * way. Each byte is handed out once.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function take(bytes: number): Buffer {
  if (bytes > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} pooled random bytes at a time`);
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return pool.subarray(start, offset);
}

/** `bytes` random bytes as lowercase hex (twice as many characters). */
export function randomHex(bytes: number): string {
  return take(bytes).toString('hex');
}

/** `bytes` random bytes as unpadded base64url. */
export function randomBase64url(bytes: number): string {
  return take(bytes).toString('base64url');
}
