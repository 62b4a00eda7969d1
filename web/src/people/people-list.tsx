/**
 * Who is in the room, each with their key fingerprint, a flag when a name's key changed
 * (member-keys mode) or when they write in the other mode, and a button to call them.
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
}

function Person({ user, me, session, fingerprint, otherMode, call }: PersonProps) {
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
        {member?.trust === 'changed' && (
          <span
            className="key-changed"
            data-testid="key-changed"
            title={`${user.name} now uses a different device key than before in this room. Compare fingerprints before trusting it.`}
          >
            key changed
          </span>
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
          />
        ))}
      </ul>
      <p className="muted small hint" data-testid="trust-hint" data-mode={session.mode}>
        {TRUST_HINT[session.mode]}
      </p>
    </aside>
  );
}
