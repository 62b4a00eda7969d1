/**
 * The device's ECDH P-256 identity, kept in IndexedDB as a non-extractable CryptoKeyPair
 * (structured clone keeps CryptoKey objects without exposing the private key), so the
 * fingerprint people verify stays the same across visits. Falls back to a per-page key
 * when IndexedDB is unavailable.
 */
import { generateIdentity, identityFromKeyPair, type Identity } from '../../client/crypto.js';

const DB = 'parley';
const STORE = 'keys';
const KEY = 'identity-v1';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx<T>(db: IDBDatabase, mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = run(db.transaction(STORE, mode).objectStore(STORE));
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error);
  });
}

export async function loadIdentity(): Promise<Identity> {
  try {
    const db = await open();
    try {
      const stored = await tx<CryptoKeyPair | undefined>(db, 'readonly', (s) => s.get(KEY));
      if (stored?.publicKey && stored.privateKey) return await identityFromKeyPair(stored);
      const fresh = await generateIdentity();
      await tx(db, 'readwrite', (s) => s.put(fresh.keyPair, KEY));
      return fresh;
    } finally {
      db.close();
    }
  } catch {
    return generateIdentity();
  }
}
