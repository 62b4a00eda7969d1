/**
 * One 1:1 video call at a time as React state, around the framework-free CallController:
 * its phase and status line, the incoming call waiting for an answer, the two media streams,
 * and the microphone and camera switches.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ParleyClient } from '../index.js';
import type { DescriptionVerifier } from '../room-call.js';
import { CallController, type CallView } from './call-controller.js';

export type { CallPhase, CallView, EndKind } from './call-controller.js';

export interface IncomingCall {
  peerId: string;
  peerName: string;
}

export interface UseCallOptions {
  /** The name the callee sees. */
  myName(): string;
  /** A call rings: return false to decline it at once (say, when not in a room). */
  onIncoming?(call: IncomingCall): boolean | void;
  /** Something to tell the user that does not end the call (no camera, a second caller). */
  onError?(message: string): void;
  onEnded?(view: CallView): void;
  /** Signs and checks the calls' DTLS fingerprints (client/call-auth.ts `callVerifier`). */
  fingerprints?: DescriptionVerifier;
  /** The server-stamped name of a socket (its `users` entry), shown instead of the caller's own. */
  peerName?(peerId: string): string | undefined;
}

export interface CallState {
  /** The current or last call; null before the first. */
  view: CallView | null;
  /** A call ringing and not yet answered. */
  incoming: IncomingCall | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  /** In a call (ringing included): one at a time. */
  busy: boolean;
  microphone: boolean;
  camera: boolean;
  start(peerId: string, peerName: string): void;
  accept(): void;
  decline(): void;
  hangup(): void;
  toggleMicrophone(): void;
  toggleCamera(): void;
  /** The controller, for diagnostics (its RTCPeerConnection). */
  controller(): CallController | null;
}

export function useCall(client: ParleyClient, options: UseCallOptions): CallState {
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const ctl = useRef<CallController | null>(null);
  const [view, setView] = useState<CallView | null>(null);
  const [incoming, setIncoming] = useState<IncomingCall | null>(null);
  const [localStream, setLocalStream] = useState<MediaStream | null>(null);
  const [remoteStream, setRemoteStream] = useState<MediaStream | null>(null);
  const [microphone, setMicrophone] = useState(true);
  const [camera, setCamera] = useState(true);

  useEffect(() => {
    const c: CallController = new CallController(
      client,
      () => latest.current.myName(),
      {
        change: (v) => {
          setView(v);
          if (v.phase !== 'ended') return;
          setIncoming(null);
          setMicrophone(true);
          setCamera(true);
          latest.current.onEnded?.(v);
        },
        incoming: (call) => {
          if (latest.current.onIncoming?.(call) === false) c.decline();
          else setIncoming(call);
        },
        localStream: setLocalStream,
        remoteStream: setRemoteStream,
        error: (message) => latest.current.onError?.(message),
      },
      {
        fingerprints: latest.current.fingerprints && {
          sign: (peerId, d) => latest.current.fingerprints!.sign(peerId, d),
          verify: (peerId, d, proof) => latest.current.fingerprints!.verify(peerId, d, proof),
        },
        peerName: latest.current.peerName && ((peerId) => latest.current.peerName?.(peerId)),
      },
    );
    ctl.current = c;
    return () => {
      c.dispose();
      if (ctl.current === c) ctl.current = null;
    };
  }, [client]);

  const busy = !!view && view.phase !== 'ended' && view.phase !== 'idle';

  const start = useCallback((peerId: string, peerName: string) => {
    if (ctl.current?.busy) return;
    void ctl.current?.start(peerId, peerName);
  }, []);
  const accept = useCallback(() => {
    setIncoming(null);
    void ctl.current?.accept();
  }, []);
  const decline = useCallback(() => {
    setIncoming(null);
    ctl.current?.decline();
  }, []);
  const hangup = useCallback(() => ctl.current?.hangup(), []);
  const toggleMicrophone = useCallback(() => {
    ctl.current?.setMicrophone(!microphone);
    setMicrophone(!microphone);
  }, [microphone]);
  const toggleCamera = useCallback(() => {
    ctl.current?.setCamera(!camera);
    setCamera(!camera);
  }, [camera]);
  const controller = useCallback(() => ctl.current, []);

  return {
    view,
    incoming,
    localStream,
    remoteStream,
    busy,
    microphone,
    camera,
    start,
    accept,
    decline,
    hangup,
    toggleMicrophone,
    toggleCamera,
    controller,
  };
}
