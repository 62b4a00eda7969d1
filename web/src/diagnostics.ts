/**
 * `window.parley`: the page's client and state for tests and the curious (browser specs
 * drive the socket, read the peer connection and the sender keys, inject messages and time
 * a key rotation through it).
 */
import { useEffect, useRef } from 'react';
import * as clientLib from '../../client/index.js';
import {
  createKeyShare,
  generateDeviceIdentity,
  generateSenderKey,
  openKeyShare,
  parseBundle,
  type ParleyClient,
  type RoomMessage,
} from '../../client/index.js';
import type { CallState, ParleyState, RoomCallState, RoomState } from '../../client/react/index.js';

/**
 * The cost of one membership change in a room of `n` for one device: a new sender key, a
 * share for each of the n−1 others (ECDH + HKDF + AES-GCM + ECDSA each), and opening the
 * n−1 shares the others send it. The others' identities are made beforehand, untimed.
 */
export async function measureRotation(
  n: number,
): Promise<{ n: number; makeAndShareMs: number; openSharesMs: number; totalMs: number; shareBytes: number }> {
  const me = await generateDeviceIdentity();
  const meBundle = (await parseBundle(me.bundle))!;
  const others = await Promise.all(Array.from({ length: n - 1 }, () => generateDeviceIdentity()));
  const bundles = await Promise.all(others.map((o) => parseBundle(o.bundle)));
  const room = 'measure';
  const t0 = performance.now();
  const key = await generateSenderKey();
  const items = await Promise.all(
    others.map(async (_, i) => ({
      to: `m${i}`,
      payload: await createKeyShare(key, { identity: me, name: 'me' }, { name: `m${i}`, bundle: bundles[i]! }, room),
    })),
  );
  const t1 = performance.now();
  // The shares the others send this device after the same change (made untimed).
  const incoming = await Promise.all(
    others.map(async (o, i) =>
      createKeyShare(await generateSenderKey(), { identity: o, name: `m${i}` }, { name: 'me', bundle: meBundle }, room),
    ),
  );
  const t2 = performance.now();
  await Promise.all(
    incoming.map((s, i) => openKeyShare(s, { identity: me, name: 'me', room }, { name: `m${i}`, bundle: bundles[i]! })),
  );
  const t3 = performance.now();
  return {
    n,
    makeAndShareMs: t1 - t0,
    openSharesMs: t3 - t2,
    totalMs: t1 - t0 + (t3 - t2),
    shareBytes: JSON.stringify(items).length,
  };
}

export function useDiagnostics(
  client: ParleyClient,
  state: { parley: ParleyState; room: RoomState; call: CallState; roomCall: RoomCallState },
): void {
  const latest = useRef(state);
  useEffect(() => {
    latest.current = state;
  });
  useEffect(() => {
    const parley = {
      client,
      get peerConnection() {
        return latest.current.call.controller()?.peerConnection ?? null;
      },
      /** The room's group call (client/room-call.ts): its view and peer connections. */
      get roomCall() {
        return latest.current.roomCall.call();
      },
      get callPhase() {
        return latest.current.call.controller()?.phase ?? 'idle';
      },
      /** The member-keys state of this page (sender keys, members). */
      get keys() {
        return latest.current.parley.current()?.keys?.room;
      },
      crypto: clientLib,
      measureRotation,
      /** Shows a room message as if it had arrived (e.g. from history). */
      receive: (m: RoomMessage) => latest.current.room.receive(m),
    };
    Object.assign(window, { parley });
    return () => {
      delete (window as { parley?: unknown }).parley;
    };
  }, [client]);
}
