/**
 * The page's RatchetStore (docs/ENCRYPTION.md, "Persistence"): records in IndexedDB, each
 * sealed with AES-256-GCM under a device key that Web Crypto made non-extractable and that
 * IndexedDB keeps as a CryptoKey (script can use it, never read it), with the record's key
 * as additional data (a record moved under another key does not open). A record that does
 * not open is treated as absent. Falls back to memory where IndexedDB is unavailable.
 */
import { memoryRatchetStore, type RatchetStore } from '../index.js';
import { KEYS_STORE, RATCHET_STORE, request, requests } from './browser-db.js';

const WRAP_KEY = 'ratchet-wrap-v1';

interface Sealed {
  iv: Uint8Array<ArrayBuffer>;
  ct: ArrayBuffer;
}

const utf8 = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

/** The device's wrapping key: made once, never extractable; a second tab racing uses the first's. */
async function deviceKey(): Promise<CryptoKey> {
  const stored = await request<CryptoKey | undefined>(KEYS_STORE, 'readonly', (s) => s.get(WRAP_KEY));
  if (stored) return stored;
  const made = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await request(KEYS_STORE, 'readwrite', (s) => s.add(made, WRAP_KEY)).catch(() => undefined);
  const now = await request<CryptoKey | undefined>(KEYS_STORE, 'readonly', (s) => s.get(WRAP_KEY));
  if (!now) throw new Error('could not keep the device key');
  return now;
}

export function indexedDbRatchetStore(): RatchetStore {
  let keyPromise: Promise<CryptoKey> | undefined;
  const key = () => (keyPromise ??= deviceKey());
  // Writes in the order they were made (a chain's state must not go back).
  let writes: Promise<unknown> = Promise.resolve();
  const write = (fn: () => Promise<unknown>) => {
    const run = writes.then(fn);
    writes = run.catch(() => undefined);
    return run.then(() => undefined);
  };
  const unseal = async (k: string, sealed: Sealed | undefined): Promise<unknown> => {
    if (!sealed?.iv || !sealed.ct) return undefined;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: sealed.iv, additionalData: utf8(k) },
        await key(),
        sealed.ct,
      );
      return JSON.parse(new TextDecoder().decode(plain));
    } catch {
      return undefined;
    }
  };
  const range = (prefix: string) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);
  return {
    async get(k) {
      await writes;
      return unseal(k, await request<Sealed | undefined>(RATCHET_STORE, 'readonly', (s) => s.get(k)));
    },
    put: (k, v) =>
      write(async () => {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        const ct = await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: utf8(k) },
          await key(),
          utf8(JSON.stringify(v)),
        );
        await request(RATCHET_STORE, 'readwrite', (s) => s.put({ iv, ct } satisfies Sealed, k));
      }),
    delete: (k) => write(() => request(RATCHET_STORE, 'readwrite', (s) => s.delete(k))),
    async keys(prefix) {
      await writes;
      const keys = await request<IDBValidKey[]>(RATCHET_STORE, 'readonly', (s) => s.getAllKeys(range(prefix)));
      return keys.filter((k): k is string => typeof k === 'string');
    },
    async entries(prefix) {
      await writes;
      const [keys, values] = await requests<[IDBValidKey[], Sealed[]]>(RATCHET_STORE, 'readonly', (s) => [
        s.getAllKeys(range(prefix)),
        s.getAll(range(prefix)),
      ]);
      const out = await Promise.all(keys.map(async (k, i) => [String(k), await unseal(String(k), values[i])] as const));
      return out.filter(([, v]) => v !== undefined).map(([k, v]) => [k, v] as [string, unknown]);
    },
  };
}

/** IndexedDB when the browser has it (and it opens), else memory for this page. */
export async function browserRatchetStore(): Promise<RatchetStore> {
  try {
    if (typeof indexedDB === 'undefined' || !globalThis.crypto?.subtle) return memoryRatchetStore();
    const store = indexedDbRatchetStore();
    await store.keys('probe/');
    return store;
  } catch {
    return memoryRatchetStore();
  }
}
