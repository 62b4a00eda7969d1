/**
 * Trust on first use for the member-keys mode: the fingerprint first seen for each room and
 * name, kept in localStorage so a key change is flagged across visits too. Falls back to
 * memory when storage is unavailable (private browsing).
 */
import { memoryTrustStore, type TrustStore } from '../index.js';

export function localTrustStore(storage: Storage | undefined = globalThis.localStorage): TrustStore {
  const memory = memoryTrustStore();
  const key = (room: string, name: string) => `parley:tofu:${JSON.stringify([room, name.toLocaleLowerCase('en-US')])}`;
  return {
    get(room, name) {
      try {
        return storage?.getItem(key(room, name)) ?? memory.get(room, name);
      } catch {
        return memory.get(room, name);
      }
    },
    set(room, name, fp) {
      memory.set(room, name, fp);
      try {
        storage?.setItem(key(room, name), fp);
      } catch {
        /* private mode */
      }
    },
  };
}
