/** The brand, who and where you are (with the room's mode), and the connection's state. */
import type { ConnectionState, RoomSession } from '../../client/react/index.js';
import { Icon } from './common/icon.js';
import { MODE_LABEL } from './common/mode-text.js';

function connectionText(c: ConnectionState): string {
  if (c.state === 'connected') return 'Online';
  if (c.state === 'connecting') return 'Connecting…';
  if (c.error === 'UNAUTHORIZED') return 'Not authorized';
  return c.error ? 'Offline, retrying…' : 'Reconnecting…';
}

export function TopBar(props: {
  connection: ConnectionState;
  session: RoomSession | null;
  fingerprint: string | undefined;
  onLeave: () => void;
}) {
  const { session } = props;
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true"></span>
        <span className="brand-name">Parley</span>
      </div>
      <div className="session" data-testid="session" hidden={!session}>
        <span className="room-badge" title="Room">
          <Icon name="lock" />
          <span data-testid="room-name">{session?.user.room}</span>
          {session && (
            <span
              className="mode-badge"
              data-testid="room-mode"
              data-mode={session.mode}
              title={session.mode === 'keys' ? 'Encrypted with member keys' : 'Encrypted with a shared passphrase'}
            >
              {MODE_LABEL[session.mode]}
            </span>
          )}
        </span>
        <span className="me">
          <span data-testid="my-name" className="me-name">
            {session?.user.name}
          </span>
          <code data-testid="my-fingerprint" className="fingerprint" title="Your key fingerprint">
            {props.fingerprint}
          </code>
        </span>
        <button type="button" className="btn btn-ghost" data-testid="logout" onClick={props.onLeave}>
          <Icon name="logout" />
          Leave
        </button>
      </div>
      <span className="conn" data-testid="connection" data-state={props.connection.state}>
        {connectionText(props.connection)}
      </span>
    </header>
  );
}
