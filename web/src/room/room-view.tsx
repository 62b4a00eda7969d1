/** Inside a room: the people beside the chat (the call panel above the messages). */
import type { CallState, RoomCallState, RoomSession, RoomState } from '../../../client/react/index.js';
import { CallStage } from '../call/call-stage.js';
import { RoomCallBar } from '../call/room-call-bar.js';
import { RoomCallGrid } from '../call/room-call-grid.js';
import { Composer } from '../composer/composer.js';
import { MODE_LABEL } from '../common/mode-text.js';
import { MessageList } from '../messages/message-list.js';
import { PeopleList } from '../people/people-list.js';

function ModeWarning({ names, mode }: { names: readonly string[]; mode: RoomSession['mode'] }) {
  const other = mode === 'keys' ? 'passphrase' : 'keys';
  const who = names.length === 1 ? `${names[0]} writes` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} write`;
  return (
    <p className="mode-warning" data-testid="mode-warning" role="status">
      {who} with “{MODE_LABEL[other]}” encryption, this page with “{MODE_LABEL[mode]}”: you cannot read each other.
      Everyone in a room needs to choose the same encryption when joining.
    </p>
  );
}

export function RoomView(props: {
  session: RoomSession;
  room: RoomState;
  call: CallState;
  roomCall: RoomCallState;
  fingerprints: ReadonlyMap<string, string>;
  onSendError: (err: unknown) => void;
}) {
  const { session, room, call } = props;
  return (
    <main className="view view-room" data-testid="room-view">
      <PeopleList
        users={room.users}
        session={session}
        fingerprints={props.fingerprints}
        otherMode={room.otherMode}
        call={call}
      />
      <section className="chat">
        <RoomCallBar call={props.roomCall} myId={session.user.id} />
        <RoomCallGrid call={props.roomCall} me={session.user} />
        <CallStage call={call} />
        {room.otherMode.length > 0 && <ModeWarning names={room.otherMode} mode={session.mode} />}
        <MessageList timeline={room.timeline} mode={session.mode} />
        <Composer send={room.send} onError={props.onSendError} />
      </section>
    </main>
  );
}
