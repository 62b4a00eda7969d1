/**
 * A page's Parley session as React state: the device identity, the login into one room in
 * either encryption mode, and what happens to it afterwards without the user doing anything
 * (a rejoin after a dropped connection, a resume that failed, a kick). The room's content
 * (people, messages) is `useRoom`'s.
 *
 * Event handlers read the session through `current()`, not the render's `session`: the
 * client calls them between renders (a rejoin's missed messages arrive before React has
 * drawn the new session).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  deriveRoomKey,
  loadOrCreateIdentity,
  newLoginSession,
  type DeviceIdentity,
  type IdentityStore,
  type ParleyClient,
  type ParleyError,
  type RatchetStore,
  type RoomKey,
  type TrustStore,
  type User,
} from '../index.js';
import { indexedDbIdentityStore } from './identity-store.js';
import { EarlyDirects, KeysSession } from './keys-session.js';
import { browserRatchetStore } from './ratchet-store.js';
import type { RoomMode } from './room-mode.js';
import { localTrustStore } from './trust-store.js';

export interface RoomSession {
  /** One per login; the same across rejoins after a dropped connection (a new `user.id`). */
  readonly joinId: number;
  readonly user: User;
  readonly mode: RoomMode;
  /** The device identity with this login's session (its bundle is what was published). */
  readonly identity: DeviceIdentity;
  /** Passphrase mode: the room key derived from it. */
  readonly roomKey?: RoomKey;
  /** Member-keys mode: this socket's keys state. */
  readonly keys?: KeysSession;
}

export interface LoginRequest {
  name: string;
  room: string;
  mode: RoomMode;
  /** Passphrase mode only. */
  passphrase?: string;
}

/** Where a login in progress stands: deriving a passphrase's key takes a noticeable moment. */
export type LoginPhase = 'idle' | 'deriving' | 'joining';

export interface Kick {
  room: string;
  reason: string;
}

/** What happened to the session by itself, for the page to tell the user. */
export type ParleyNotice =
  | { type: 'resumed'; room: string; complete: boolean }
  | { type: 'resume-failed'; room: string; error?: ParleyError }
  | ({ type: 'kicked' } & Kick);

export interface UseParleyOptions {
  /** Where the device identity lives (default IndexedDB). */
  identityStore?: IdentityStore;
  /** Fingerprints first seen (and verified) per room and name (default localStorage). */
  trustStore?: TrustStore;
  /** Where member-keys ratchet state lasts across reloads (default IndexedDB, wrapped). */
  ratchetStore?: RatchetStore;
  /**
   * What a changed key gets until the user accepts it (default 'hold': no sender key; the
   * page offers "Accept new key"). A verified key that changed is always held.
   */
  keyChanges?: 'hold' | 'warn';
  onNotice?: (notice: ParleyNotice) => void;
}

export interface ParleyState {
  client: ParleyClient;
  /** Null until loaded (or made, on a first visit). */
  identity: DeviceIdentity | null;
  session: RoomSession | null;
  /** Changes whenever a member-keys member list or trust state changes: re-read `keys.room`. */
  membersVersion: number;
  /** The last kick, until the next login or `dismissKick()`. */
  kick: Kick | null;
  loginPhase: LoginPhase;
  /** Rejects with the library's error (a ParleyError for the server's refusals). */
  login(request: LoginRequest): Promise<RoomSession>;
  logout(): void;
  dismissKick(): void;
  /** The session now, for event handlers. */
  current(): RoomSession | null;
}

export function useParley(client: ParleyClient, options: UseParleyOptions = {}): ParleyState {
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const [identityStore] = useState(() => options.identityStore ?? indexedDbIdentityStore);
  const [trust] = useState(() => options.trustStore ?? localTrustStore());
  const [early] = useState(() => new EarlyDirects());
  const [ratchet] = useState(() =>
    options.ratchetStore ? Promise.resolve(options.ratchetStore) : browserRatchetStore(),
  );
  const [keyChanges] = useState(() => options.keyChanges ?? 'hold');
  const [identity, setIdentity] = useState<DeviceIdentity | null>(null);
  const [session, setSession] = useState<RoomSession | null>(null);
  const [membersVersion, setMembersVersion] = useState(0);
  const [kick, setKick] = useState<Kick | null>(null);
  const [loginPhase, setLoginPhase] = useState<LoginPhase>('idle');
  const sessionRef = useRef<RoomSession | null>(null);
  const identityRef = useRef<Promise<DeviceIdentity> | null>(null);
  const joins = useRef(0);

  // Loaded once per page, even when effects run twice (two loads could make two identities).
  const loadIdentity = useCallback(
    () => (identityRef.current ??= loadOrCreateIdentity(identityStore)),
    [identityStore],
  );

  const publish = useCallback((s: RoomSession | null) => {
    sessionRef.current = s;
    setSession(s);
  }, []);

  const endSession = useCallback(() => {
    sessionRef.current?.keys?.close();
    publish(null);
  }, [publish]);

  const startKeys = useCallback(
    (id: DeviceIdentity, user: User, store: RatchetStore) => {
      const keys = new KeysSession(client, {
        identity: id,
        user,
        trust,
        early,
        keyChanges,
        store,
        onMembers: () => setMembersVersion((v) => v + 1),
      });
      void keys.room.ready.then(() => setMembersVersion((v) => v + 1));
      return keys;
    },
    [client, trust, early, keyChanges],
  );

  useEffect(() => {
    let live = true;
    loadIdentity().then(
      (id) => live && setIdentity(id),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [loadIdentity]);

  useEffect(() => early.watch(client), [client, early]);

  // Unmounted in a room: its keys stop listening (the socket may outlive this component).
  useEffect(() => () => sessionRef.current?.keys?.close(), []);

  useEffect(() => {
    const notify = (n: ParleyNotice) => latest.current.onNotice?.(n);
    const offs = [
      // A new socket after a drop: a new id, so in keys mode a new sender key for the room
      // as it is now, keeping the keys the old socket held for what it could already read.
      client.onRejoin(async (user) => {
        const s = sessionRef.current;
        if (!s || user.room !== s.user.room) return;
        // The same login session: the rejoin published the same bundle.
        const keys = s.mode === 'keys' ? startKeys(s.identity, user, await ratchet) : undefined;
        if (keys && s.keys) keys.room.adopt(s.keys.room);
        s.keys?.close();
        publish({ ...s, user, keys });
      }),
      client.onResume((e) => {
        const s = sessionRef.current;
        if (!s || e.room !== s.user.room) return;
        if (e.error || !e.user) {
          endSession();
          notify({ type: 'resume-failed', room: e.room, error: e.error });
        } else {
          notify({ type: 'resumed', room: e.room, complete: e.complete });
        }
      }),
      // The application's backend removed us from the room.
      client.on('kicked', (k) => {
        const s = sessionRef.current;
        if (!s || k.room !== s.user.room) return;
        endSession();
        setKick({ room: k.room, reason: k.reason });
        notify({ type: 'kicked', room: k.room, reason: k.reason });
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [client, startKeys, ratchet, publish, endSession]);

  const login = useCallback(
    async ({ name, room, mode, passphrase }: LoginRequest): Promise<RoomSession> => {
      setLoginPhase(mode === 'passphrase' ? 'deriving' : 'joining');
      try {
        const [roomKey, loaded, store] = await Promise.all([
          mode === 'passphrase' ? deriveRoomKey(passphrase ?? '', room) : undefined,
          loadIdentity(),
          ratchet,
        ]);
        // A fresh login session for every login: shares made for an earlier login in this
        // tab (recorded and replayed by the server) are refused.
        const id = await newLoginSession(loaded);
        setLoginPhase('joining');
        await client.ready();
        const user = await client.login({ name, room, publicKey: id.bundle });
        sessionRef.current?.keys?.close();
        const s: RoomSession = {
          joinId: ++joins.current,
          user,
          mode,
          identity: id,
          roomKey,
          keys: mode === 'keys' ? startKeys(id, user, store) : undefined,
        };
        publish(s);
        setKick(null);
        return s;
      } finally {
        setLoginPhase('idle');
      }
    },
    [client, loadIdentity, startKeys, publish, ratchet],
  );

  const logout = useCallback(() => {
    client.logout().catch(() => undefined);
    endSession();
  }, [client, endSession]);

  const dismissKick = useCallback(() => setKick(null), []);
  const current = useCallback(() => sessionRef.current, []);

  return {
    client,
    identity,
    session,
    membersVersion,
    kick,
    loginPhase,
    login,
    logout,
    dismissKick,
    current,
  };
}
