/**
 * Trust on first use for the member-keys mode: the fingerprint first seen for each room and
 * name, and the one the user marked as verified (after comparing safety numbers), kept in
 * localStorage so a key change is flagged, and a verification lasts, across visits. Falls
 * back to memory when storage is unavailable (private browsing).
 */
import { memoryTrustStore, type TrustStore } from '../index.js';

export function localTrustStore(storage: Storage | undefined = globalThis.localStorage): TrustStore {
  const memory = memoryTrustStore();
  const id = (room: string, name: string) => JSON.stringify([room, name.toLocaleLowerCase('en-US')]);
  const key = (room: string, name: string) => `parley:tofu:${id(room, name)}`;
  const verifiedKey = (room: string, name: string) => `parley:verified:${id(room, name)}`;
  const read = (k: string, fallback: () => string | undefined) => {
    try {
      return storage?.getItem(k) ?? fallback();
    } catch {
      return fallback();
    }
  };
  const write = (k: string, value: string | undefined) => {
    try {
      if (value === undefined) storage?.removeItem(k);
      else storage?.setItem(k, value);
    } catch {
      /* private mode */
    }
  };
  return {
    get: (room, name) => read(key(room, name), () => memory.get(room, name)),
    set(room, name, fp) {
      memory.set(room, name, fp);
      write(key(room, name), fp);
    },
    getVerified(room, name) {
      // Read storage first: a verification withdrawn in another tab is withdrawn here too.
      try {
        if (storage) return storage.getItem(verifiedKey(room, name)) ?? undefined;
      } catch {
        /* private mode */
      }
      return memory.getVerified!(room, name);
    },
    setVerified(room, name, fp) {
      memory.setVerified!(room, name, fp);
      write(verifiedKey(room, name), fp);
    },
  };
}
