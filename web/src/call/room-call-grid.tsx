/**
 * The room call's tiles (this page and each of up to five others, plus screen shares) with
 * names, microphone and camera state and the connection's state, the active speaker
 * outlined, and the switches for microphone, camera and screen share.
 */
import { useEffect, useRef } from 'react';
import type { RemotePeerView, RoomCallState } from '../../../client/react/index.js';
import { Avatar } from '../common/avatar.js';
import { Icon } from '../common/icon.js';

const STATE_TEXT: Partial<Record<RemotePeerView['connectionState'], string>> = {
  waiting: 'Connecting…',
  new: 'Connecting…',
  connecting: 'Connecting…',
  disconnected: 'Connection lost, reconnecting…',
  failed: 'Connection failed, retrying…',
  unverified: 'Could not verify this connection',
};

interface TileProps {
  id: string;
  name: string;
  stream: MediaStream | null;
  kind: 'camera' | 'screen';
  mine?: boolean;
  microphone?: boolean;
  camera?: boolean;
  speaking?: boolean;
  state: RemotePeerView['connectionState'];
}

function Tile(props: TileProps) {
  const ref = useRef<HTMLVideoElement>(null);
  const { stream, kind, mine } = props;
  useEffect(() => {
    const video = ref.current;
    if (!video || video.srcObject === stream) return;
    video.srcObject = stream;
    if (stream) video.play().catch(() => undefined);
  }, [stream]);
  const cameraOff = kind === 'camera' && (props.camera === false || !stream?.getVideoTracks().length);
  const problem = STATE_TEXT[props.state];
  const label = [
    kind === 'screen' ? `${props.name}'s screen` : props.name,
    kind === 'camera' && props.microphone === false && 'muted',
    kind === 'camera' && props.camera === false && 'camera off',
    props.speaking && 'speaking',
    problem,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <figure
      className="tile"
      data-testid="call-tile"
      data-peer={props.id}
      data-name={props.name}
      data-kind={kind}
      data-state={props.state}
      data-speaking={props.speaking ? 'true' : 'false'}
      data-mic={props.microphone === false ? 'off' : 'on'}
      data-camera={props.camera === false ? 'off' : 'on'}
      aria-label={label}
    >
      <video
        ref={ref}
        data-testid="tile-video"
        className={mine && kind === 'camera' ? 'mirrored' : undefined}
        autoPlay
        playsInline
        muted={mine || kind === 'screen'}
      />
      {cameraOff && (
        <span className="tile-avatar">
          <Avatar name={props.name} />
        </span>
      )}
      <figcaption className="tile-caption">
        {kind === 'screen' && <Icon name="screen" />}
        <span className="tile-name">{kind === 'screen' ? `${props.name} (screen)` : props.name}</span>
        {kind === 'camera' && props.microphone === false && (
          <span data-testid="tile-muted" title="Muted">
            <Icon name="mic-off" />
          </span>
        )}
        {kind === 'camera' && props.camera === false && (
          <span data-testid="tile-camera-off" title="Camera off">
            <Icon name="video-off" />
          </span>
        )}
      </figcaption>
      {problem && kind === 'camera' && (
        <span className="tile-problem" data-testid="tile-problem">
          {problem}
        </span>
      )}
    </figure>
  );
}

export function RoomCallGrid({ call, me }: { call: RoomCallState; me: { id: string; name: string } }) {
  const { view } = call;
  if (view.phase === 'idle') return null;
  const tiles: TileProps[] = [
    {
      id: me.id,
      name: `${me.name} (you)`,
      stream: view.local.stream,
      kind: 'camera',
      mine: true,
      microphone: view.local.microphone,
      camera: view.local.camera,
      speaking: view.local.speaking,
      state: 'connected',
    },
  ];
  if (view.local.screen) {
    tiles.push({ id: me.id, name: 'You', stream: view.local.screen, kind: 'screen', mine: true, state: 'connected' });
  }
  for (const p of view.peers) {
    tiles.push({ ...p, kind: 'camera', state: p.connectionState });
    if (p.screen) tiles.push({ id: p.id, name: p.name, stream: p.screen, kind: 'screen', state: p.connectionState });
  }
  const canShare = typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getDisplayMedia;
  return (
    <section
      className="room-call"
      data-testid="room-call"
      data-phase={view.phase}
      aria-label={`Call with ${view.peers.length} other${view.peers.length === 1 ? '' : 's'}`}
    >
      <div className="tiles" data-count={tiles.length}>
        {tiles.map((t) => (
          <Tile key={`${t.id}-${t.kind}`} {...t} />
        ))}
      </div>
      <div className="call-controls">
        <button
          type="button"
          className="btn btn-ghost btn-round"
          data-testid="room-call-mic"
          aria-pressed={!view.local.microphone}
          title={view.local.microphone ? 'Mute microphone' : 'Unmute microphone'}
          onClick={call.toggleMicrophone}
        >
          <Icon name={view.local.microphone ? 'mic' : 'mic-off'} />
          <span className="label">{view.local.microphone ? 'Mute' : 'Unmute'}</span>
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-round"
          data-testid="room-call-camera"
          aria-pressed={!view.local.camera}
          title={view.local.camera ? 'Turn camera off' : 'Turn camera on'}
          onClick={call.toggleCamera}
        >
          <Icon name={view.local.camera ? 'video' : 'video-off'} />
          <span className="label">Camera</span>
        </button>
        {canShare && (
          <button
            type="button"
            className="btn btn-ghost btn-round"
            data-testid="room-call-screen"
            aria-pressed={!!view.local.screen}
            title={view.local.screen ? 'Stop sharing the screen' : 'Share the screen'}
            disabled={view.phase !== 'joined'}
            onClick={call.toggleScreen}
          >
            <Icon name="screen" />
            <span className="label">{view.local.screen ? 'Stop sharing' : 'Share screen'}</span>
          </button>
        )}
      </div>
    </section>
  );
}
