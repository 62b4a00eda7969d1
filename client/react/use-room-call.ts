/**
 * The room's group call as React state, around the framework-free RoomCall (client/room-call.ts):
 * who is in the call (also before this page joins), the tiles' streams and switches, the
 * active speaker, and the actions. The call is forgotten when the page leaves its room.
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ParleyClient } from '../index.js';
import { RoomCall, type RoomCallOptions, type RoomCallView } from '../room-call.js';
import type { RoomSession } from './use-parley.js';

export type { RemotePeerView, RoomCallView } from '../room-call.js';

export interface RoomCallState {
  view: RoomCallView;
  /** In the call, or joining it. */
  active: boolean;
  join(): void;
  leave(): void;
  toggleMicrophone(): void;
  toggleCamera(): void;
  /** Start or stop sharing the screen (a failure lands in `view.error`). */
  toggleScreen(): void;
  /** The RoomCall, for diagnostics (its peer connections). */
  call(): RoomCall | null;
}

const IDLE: RoomCallView = {
  phase: 'idle',
  participants: [],
  peers: [],
  local: { stream: null, screen: null, microphone: true, camera: true, speaking: false },
  activeSpeaker: null,
  error: null,
};

export function useRoomCall(
  client: ParleyClient,
  session: RoomSession | null,
  options: RoomCallOptions = {},
): RoomCallState {
  const initial = useRef(options);
  const [call, setCall] = useState<RoomCall | null>(null);
  useEffect(() => {
    const c = new RoomCall(client, initial.current);
    setCall(c);
    return () => c.dispose();
  }, [client]);

  const subscribe = useCallback((onChange: () => void) => call?.subscribe(onChange) ?? (() => undefined), [call]);
  const view = useSyncExternalStore(subscribe, () => call?.view ?? IDLE);

  // Out of the room (left, kicked, or the rejoin failed): no call goes on without it.
  const inRoom = session !== null;
  useEffect(() => {
    if (!inRoom) call?.reset();
  }, [inRoom, call]);

  const join = useCallback(() => void call?.join().catch(() => undefined), [call]);
  const leave = useCallback(() => void call?.leave(), [call]);
  const toggleMicrophone = useCallback(() => call?.setMicrophone(!call.view.local.microphone), [call]);
  const toggleCamera = useCallback(() => call?.setCamera(!call.view.local.camera), [call]);
  const toggleScreen = useCallback(() => {
    if (!call) return;
    if (call.view.local.screen) call.stopScreenShare();
    else void call.startScreenShare().catch(() => undefined);
  }, [call]);
  const get = useCallback(() => call, [call]);

  return {
    view,
    active: view.phase !== 'idle',
    join,
    leave,
    toggleMicrophone,
    toggleCamera,
    toggleScreen,
    call: get,
  };
}
