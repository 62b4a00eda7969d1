/** Key fingerprints of a list of users, computed once per published key. */
import { useEffect, useRef, useState } from 'react';
import { fingerprint, type User } from '../index.js';

/** By published key: the fingerprint, or absent while it is being computed. */
export function useFingerprints(users: readonly User[]): ReadonlyMap<string, string> {
  const [prints, setPrints] = useState<ReadonlyMap<string, string>>(() => new Map());
  const started = useRef(new Set<string>());
  useEffect(() => {
    for (const { publicKey } of users) {
      if (!publicKey || started.current.has(publicKey)) continue;
      started.current.add(publicKey);
      fingerprint(publicKey).then(
        (fp) => setPrints((m) => new Map(m).set(publicKey, fp)),
        () => started.current.delete(publicKey),
      );
    }
  }, [users]);
  return prints;
}
