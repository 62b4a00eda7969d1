/**
 * The device identity (docs/ENCRYPTION.md): an ECDH and an ECDSA P-256 key pair, kept in
 * IndexedDB as non-extractable CryptoKeyPairs (structured clone keeps CryptoKey objects
 * without exposing the private keys), so the fingerprint people verify stays the same
 * across visits. Falls back to a per-page identity when IndexedDB is unavailable.
 */
import {
  loadOrCreateIdentity,
  type DeviceIdentity,
  type DeviceKeyPairs,
  type IdentityStore,
} from '../../client/identity-bundle.js';

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

export const indexedDbIdentityStore: IdentityStore = {
  load: () => tx<DeviceKeyPairs | undefined>('readonly', (s) => s.get(KEY)),
  save: async (pairs) => {
    await tx('readwrite', (s) => s.put(pairs, KEY));
  },
};

export function loadIdentity(): Promise<DeviceIdentity> {
  return loadOrCreateIdentity(indexedDbIdentityStore);
}
