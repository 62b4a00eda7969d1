/**
 * What jsdom lacks and the library needs (Web Crypto, text encoding), from Node. Import it
 * first in a jsdom spec: the library's modules use these as they load.
 */
import { webcrypto } from 'node:crypto';
import { TextDecoder, TextEncoder } from 'node:util';

const g = globalThis as Record<string, unknown>;
if (!(g.crypto as Crypto | undefined)?.subtle)
  Object.defineProperty(g, 'crypto', { value: webcrypto, configurable: true });
g.TextEncoder ??= TextEncoder;
g.TextDecoder ??= TextDecoder;
