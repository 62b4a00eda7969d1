/**
 * The call panel above the chat: both videos, who and how the call is going, the
 * microphone and camera switches and hang-up. Opens with a call (not while it only rings:
 * the incoming dialog is the UI then), and closes itself a while after the call ended.
 */
import { useEffect, useRef, useState } from 'react';
import type { CallState } from '../../../client/react/index.js';
import { Icon } from '../common/icon.js';

/** How long an ended call's panel stays, so its reason can be read. */
const ENDED_VISIBLE_MS = 8000;

export function CallStage({ call }: { call: CallState }) {
  const { view } = call;
  const [open, setOpen] = useState(false);
  const [soundBlocked, setSoundBlocked] = useState(false);
  const localRef = useRef<HTMLVideoElement>(null);
  const remoteRef = useRef<HTMLVideoElement>(null);
  const ended = view?.phase === 'ended';

  useEffect(() => {
    if (!view) return;
    setOpen(view.phase !== 'incoming');
    if (view.phase !== 'ended') return;
    const timer = setTimeout(() => setOpen(false), ENDED_VISIBLE_MS);
    return () => clearTimeout(timer);
  }, [view]);

  useEffect(() => {
    const video = localRef.current;
    if (!video || video.srcObject === call.localStream) return;
    video.srcObject = call.localStream;
    video.play().catch(() => undefined);
  }, [call.localStream]);

  useEffect(() => {
    const video = remoteRef.current;
    if (!video || video.srcObject === call.remoteStream) return;
    video.srcObject = call.remoteStream;
    if (!call.remoteStream) {
      // The next call starts with sound again.
      video.muted = false;
      setSoundBlocked(false);
      return;
    }
    video.play().catch(() => {
      // Autoplay with sound was blocked: play muted and offer a button.
      video.muted = true;
      setSoundBlocked(true);
      video.play().catch(() => undefined);
    });
  }, [call.remoteStream]);

  function enableSound() {
    const video = remoteRef.current;
    setSoundBlocked(false);
    if (!video) return;
    video.muted = false;
    video.play().catch(() => undefined);
  }

  return (
    <section className="call-stage" data-testid="call-stage" data-phase={view?.phase} hidden={!open}>
      <div className="videos">
        <video className="remote-video" data-testid="remote-video" autoPlay playsInline ref={remoteRef}></video>
        <video className="local-video" data-testid="local-video" autoPlay playsInline muted ref={localRef}></video>
        <div className="call-overlay">
          <span className="call-peer" data-testid="call-peer">
            {view?.peerName}
          </span>
          <span
            className="call-status"
            data-testid="call-status"
            data-state={view?.phase ?? 'idle'}
            data-reason={view?.endKind}
            role="status"
          >
            {view?.status}
          </span>
        </div>
      </div>
      <div className="call-controls">
        <button
          type="button"
          className="btn btn-ghost"
          data-testid="unmute-remote"
          hidden={!soundBlocked || ended}
          onClick={enableSound}
        >
          <Icon name="speaker" />
          Enable sound
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-round"
          data-testid="toggle-mic"
          aria-pressed={!call.microphone}
          title={call.microphone ? 'Mute microphone' : 'Unmute microphone'}
          hidden={ended}
          onClick={call.toggleMicrophone}
        >
          <Icon name="mic" className="icon icon-on" />
          <Icon name="mic-off" className="icon icon-off" />
          <span className="label">{call.microphone ? 'Mute' : 'Unmute'}</span>
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-round"
          data-testid="toggle-camera"
          aria-pressed={!call.camera}
          title={call.camera ? 'Turn camera off' : 'Turn camera on'}
          hidden={ended}
          onClick={call.toggleCamera}
        >
          <Icon name="video" className="icon icon-on" />
          <Icon name="video-off" className="icon icon-off" />
          <span className="label">Camera</span>
        </button>
        <button type="button" className="btn btn-danger" data-testid="hangup" hidden={ended} onClick={call.hangup}>
          <Icon name="phone-off" />
          Hang up
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          data-testid="close-call"
          hidden={!ended}
          onClick={() => setOpen(false)}
        >
          Close
        </button>
      </div>
    </section>
  );
}
