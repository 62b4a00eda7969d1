/**
 * The room's call in the room header: whether one is going on and who is in it, with
 * "Join call" / "Leave call", and why joining did not work (a full call, no devices).
 */
import type { RoomCallState } from '../../../client/react/index.js';
import { Icon } from '../common/icon.js';

function names(list: readonly string[]): string {
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}

export function RoomCallBar({ call, myId }: { call: RoomCallState; myId: string }) {
  const { view } = call;
  const people = view.participants.map((p) => (p.id === myId ? 'you' : p.name));
  const ongoing = view.participants.length > 0;
  return (
    <section
      className="room-call-bar"
      data-testid="room-call-bar"
      data-phase={view.phase}
      data-count={view.participants.length}
      aria-label="Room call"
    >
      <span className="room-call-summary">
        <Icon name="users" />
        <span data-testid="room-call-people" role="status">
          {ongoing ? `In the call: ${names(people)}` : 'No call in this room'}
        </span>
      </span>
      {view.error && (
        <span className="room-call-error" data-testid="room-call-error" data-code={view.error.code} role="alert">
          {view.error.message}
        </span>
      )}
      {call.active ? (
        <button
          type="button"
          className="btn btn-danger"
          data-testid="leave-call"
          disabled={view.phase === 'joining'}
          onClick={call.leave}
        >
          <Icon name="phone-off" />
          {view.phase === 'joining' ? 'Joining…' : 'Leave call'}
        </button>
      ) : (
        <button type="button" className="btn btn-primary" data-testid="join-call" onClick={call.join}>
          <Icon name="video" />
          {ongoing ? 'Join call' : 'Start a call'}
        </button>
      )}
    </section>
  );
}
