/**
 * Where the browser keeps the device identity (docs/ENCRYPTION.md): IndexedDB, as
 * non-extractable CryptoKeyPairs (structured clone keeps CryptoKey objects without exposing
 * the private keys), so the fingerprint people verify stays the same across visits.
 */
import type { DeviceKeyPairs, IdentityStore } from '../index.js';

const DB = 'parley';
const STORE = 'keys';
const KEY = 'identity-v2';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx<T>(mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return open().then((db) =>
    new Promise<T>((resolve, reject) => {
      const req = run(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error);
    }).finally(() => db.close()),
  );
}

/** Fails (and the library falls back to a per-page identity) where IndexedDB is missing. */
export const indexedDbIdentityStore: IdentityStore = {
  load: () => tx<DeviceKeyPairs | undefined>('readonly', (s) => s.get(KEY)),
  save: async (pairs) => {
    await tx('readwrite', (s) => s.put(pairs, KEY));
  },
};
