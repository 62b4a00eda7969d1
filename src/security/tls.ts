import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
}

/**
 * HTTPS options from TLS_CERT_FILE and TLS_KEY_FILE (PEM), or undefined when they are not
 * set. A file that cannot be read, or a pair that is not a usable certificate and key,
 * throws an Error naming the variable and the path (never the file's contents).
 */
export function loadHttpsOptions(env: TlsFiles): { cert: Buffer; key: Buffer } | undefined {
  if (!env.TLS_CERT_FILE || !env.TLS_KEY_FILE) return undefined;
  const cert = readPem('TLS_CERT_FILE', env.TLS_CERT_FILE);
  const key = readPem('TLS_KEY_FILE', env.TLS_KEY_FILE);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(
      `TLS_CERT_FILE "${env.TLS_CERT_FILE}" and TLS_KEY_FILE "${env.TLS_KEY_FILE}" are not a usable PEM certificate and private key: ${reason(err)}`,
    );
  }
  return { cert, key };
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${variable} "${path}" cannot be read: ${reason(err)}`);
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}
