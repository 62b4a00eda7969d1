/**
 * Where the browser keeps the device identity (docs/ENCRYPTION.md): IndexedDB, as
 * non-extractable CryptoKeyPairs (structured clone keeps CryptoKey objects without exposing
 * the private keys), so the fingerprint people verify stays the same across visits.
 */
import type { DeviceKeyPairs, IdentityStore } from '../index.js';
import { KEYS_STORE, request } from './browser-db.js';

const KEY = 'identity-v2';

/** Fails (and the library falls back to a per-page identity) where IndexedDB is missing. */
export const indexedDbIdentityStore: IdentityStore = {
  load: () => request<DeviceKeyPairs | undefined>(KEYS_STORE, 'readonly', (s) => s.get(KEY)),
  save: async (pairs) => {
    await request(KEYS_STORE, 'readwrite', (s) => s.put(pairs, KEY));
  },
};
