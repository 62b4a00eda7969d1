/**
 * The page's IndexedDB database `parley`: `keys` holds the device identity and the device
 * key that wraps stored ratchet state (non-extractable CryptoKeys: structured clone keeps
 * them without exposing the key bytes); `ratchet` holds that wrapped state.
 */
export const DB_NAME = 'parley';
export const DB_VERSION = 2;
export const KEYS_STORE = 'keys';
export const RATCHET_STORE = 'ratchet';

export function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      for (const name of [KEYS_STORE, RATCHET_STORE]) {
        if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('IndexedDB upgrade blocked by another tab'));
  });
}

let connection: Promise<IDBDatabase> | undefined;

/** One connection per page, closed (and opened again on the next request) if a newer version wants in. */
function db(): Promise<IDBDatabase> {
  connection ??= openDb().then(
    (d) => {
      d.onversionchange = () => {
        d.close();
        connection = undefined;
      };
      return d;
    },
    (err: unknown) => {
      connection = undefined;
      throw err;
    },
  );
  return connection;
}

/** Requests in one transaction; resolves with their results once it commits. */
export function requests<T extends unknown[]>(
  store: string,
  mode: IDBTransactionMode,
  run: (s: IDBObjectStore) => IDBRequest[],
): Promise<T> {
  return db().then(
    (d) =>
      new Promise<T>((resolve, reject) => {
        const t = d.transaction(store, mode);
        const reqs = run(t.objectStore(store));
        t.oncomplete = () => resolve(reqs.map((r) => r.result) as T);
        t.onerror = () => reject(t.error ?? new Error('IndexedDB request failed'));
        t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
      }),
  );
}

/** One request in its own transaction; resolves with its result once the transaction commits. */
export async function request<T>(
  store: string,
  mode: IDBTransactionMode,
  run: (s: IDBObjectStore) => IDBRequest,
): Promise<T> {
  const [result] = await requests<[T]>(store, mode, (s) => [run(s)]);
  return result;
}
