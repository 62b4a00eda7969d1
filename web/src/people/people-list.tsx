/**
 * Who is in the room, each with their key fingerprint and, in member-keys mode, its trust
 * state (new here, verified, key changed — held until accepted), a Verify button (safety
 * number), a flag when they write in the other mode, and a button to call them. Below the
 * list, in member-keys mode, the room code members read to each other.
 */
import type { User } from '../../../client/index.js';
import type { CallState, RoomSession } from '../../../client/react/index.js';
import { Avatar } from '../common/avatar.js';
import { Icon } from '../common/icon.js';
import { TRUST_HINT } from '../common/mode-text.js';

interface PersonProps {
  user: User;
  me: boolean;
  session: RoomSession;
  fingerprint: string | undefined;
  otherMode: boolean;
  call: Pick<CallState, 'busy' | 'start'>;
  onVerify: (memberId: string) => void;
  onAccept: (memberId: string) => void;
}

function Person({ user, me, session, fingerprint, otherMode, call, onVerify, onAccept }: PersonProps) {
  const member = session.keys?.room.member(user.id);
  const fpText = user.publicKey ? (fingerprint ?? '…') : 'no key';
  const fpTitle = !user.publicKey
    ? `${user.name} published no key`
    : fingerprint
      ? `Key fingerprint of ${user.name}`
      : undefined;
  return (
    <li
      className="user"
      data-testid="user"
      data-trust={member?.trust}
      data-held={member?.held || undefined}
      data-verified={member?.verified || undefined}
      data-user-id={user.id}
      data-name={user.name}
      data-other-mode={otherMode || undefined}
    >
      <Avatar name={user.name} />
      <div className="user-info">
        <span className="user-name" data-testid="user-name">
          {user.name}
          {me && (
            <>
              {' '}
              <span className="you">(you)</span>
            </>
          )}
        </span>
        <code className="fingerprint" data-testid="fingerprint" title={fpTitle}>
          {fpText}
        </code>
        {member?.firstSeen && (
          <span
            className="trust-badge trust-new"
            data-testid="first-seen"
            title={`First time this device sees ${user.name} in this room: the key comes from the server. Compare safety numbers to be sure it is theirs.`}
          >
            new
          </span>
        )}
        {member?.verified && (
          <span
            className="trust-badge trust-verified"
            data-testid="verified-badge"
            title={`You verified ${user.name}'s key (compared safety numbers)`}
          >
            verified
          </span>
        )}
        {member?.trust === 'changed' && (
          <span
            className="key-changed"
            data-testid="key-changed"
            title={
              member.held
                ? `${user.name} now uses a different device key than before in this room. It gets no messages from you until you accept it: compare safety numbers first.`
                : `${user.name} now uses a different device key than before in this room. Compare fingerprints before trusting it.`
            }
          >
            {member.held ? 'key changed — held' : 'key changed'}
          </span>
        )}
        {member?.held && (
          <button
            type="button"
            className="btn btn-small btn-warning"
            data-testid="accept-key"
            aria-label={`Accept ${user.name}'s new key`}
            onClick={() => onAccept(user.id)}
          >
            Accept new key
          </button>
        )}
        {otherMode && (
          <span
            className="other-mode"
            data-testid="other-mode"
            title={`${user.name} writes in the other encryption mode: neither of you can read the other.`}
          >
            other mode
          </span>
        )}
      </div>
      {!me && (
        <div className="user-actions">
          {member?.bundle && (
            <button
              type="button"
              className="btn btn-ghost btn-small"
              data-testid="verify-button"
              aria-label={`Verify ${user.name}`}
              title={`Compare safety numbers with ${user.name}`}
              onClick={() => onVerify(user.id)}
            >
              <Icon name={member.verified ? 'shield-check' : 'shield'} />
              Verify
            </button>
          )}
          <button
            type="button"
            className="btn btn-ghost btn-small"
            data-testid="call-button"
            title={`Video call ${user.name}`}
            disabled={call.busy}
            onClick={() => call.start(user.id, user.name)}
          >
            <Icon name="video" />
            Call
          </button>
        </div>
      )}
    </li>
  );
}

export function PeopleList(props: {
  users: readonly User[];
  session: RoomSession;
  fingerprints: ReadonlyMap<string, string>;
  otherMode: readonly string[];
  call: Pick<CallState, 'busy' | 'start'>;
  /** Member-keys mode: the room code of the list as this device sees it (null while computing). */
  roomCode: string | null;
  onVerify: (memberId: string) => void;
  onAccept: (memberId: string) => void;
}) {
  const { users, session } = props;
  return (
    <aside className="sidebar" aria-label="People in the room">
      <h2>
        People{' '}
        <span className="count" data-testid="user-count">
          {users.length}
        </span>
      </h2>
      <ul className="users" data-testid="users">
        {users.map((u) => (
          <Person
            key={u.id}
            user={u}
            me={u.id === session.user.id}
            session={session}
            fingerprint={u.publicKey ? props.fingerprints.get(u.publicKey) : undefined}
            otherMode={props.otherMode.includes(u.name)}
            call={props.call}
            onVerify={props.onVerify}
            onAccept={props.onAccept}
          />
        ))}
      </ul>
      {session.keys && (
        <div className="room-code" data-testid="room-code-box">
          <span className="room-code-label" id="room-code-label">
            Room code
          </span>
          <code className="room-code-digits" data-testid="room-code" aria-labelledby="room-code-label">
            {props.roomCode ?? '…'}
          </code>
          <span className="muted small">
            Read it aloud to each other: everyone who sees the same people and keys sees the same code. A different code
            means the server shows you different rooms.
          </span>
        </div>
      )}
      <p className="muted small hint" data-testid="trust-hint" data-mode={session.mode}>
        {TRUST_HINT[session.mode]}
      </p>
    </aside>
  );
}
