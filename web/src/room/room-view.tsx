/** Inside a room: the people beside the chat (the call panel above the messages). */
import { useEffect, useState } from 'react';
import type { CallState, RoomCallState, RoomSession, RoomState } from '../../../client/react/index.js';
import { CallStage } from '../call/call-stage.js';
import { RoomCallBar } from '../call/room-call-bar.js';
import { RoomCallGrid } from '../call/room-call-grid.js';
import { Composer } from '../composer/composer.js';
import { MODE_LABEL } from '../common/mode-text.js';
import { MessageList } from '../messages/message-list.js';
import { PeopleList } from '../people/people-list.js';
import { SendingBlocked } from '../trust/sending-blocked.js';
import { VerifyDialog } from '../trust/verify-dialog.js';

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
  /** This device's fingerprint. */
  myFingerprint: string | undefined;
  /** Changes whenever a member list or trust state changes (member-keys mode). */
  membersVersion: number;
  onSendError: (err: unknown) => void;
}) {
  const { session, room, call, membersVersion } = props;
  const keys = session.keys?.room;
  const [verifying, setVerifying] = useState<string | null>(null);
  const [code, setCode] = useState<string | null>(null);

  useEffect(() => {
    if (!keys) return;
    let live = true;
    keys.roomCode().then(
      (c) => live && setCode(c),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [keys, membersVersion, room.users]);

  const accept = (id: string) => void keys?.accept(id);
  const member = verifying ? keys?.member(verifying) : undefined;
  const blockedBy = keys?.blockedBy ?? [];
  return (
    <main className="view view-room" data-testid="room-view">
      <PeopleList
        users={room.users}
        session={session}
        fingerprints={props.fingerprints}
        otherMode={room.otherMode}
        call={call}
        roomCode={keys ? code : null}
        onVerify={setVerifying}
        onAccept={accept}
      />
      <section className="chat">
        <RoomCallBar call={props.roomCall} myId={session.user.id} />
        <RoomCallGrid call={props.roomCall} me={session.user} />
        <CallStage call={call} />
        {room.otherMode.length > 0 && <ModeWarning names={room.otherMode} mode={session.mode} />}
        <MessageList timeline={room.timeline} mode={session.mode} />
        {blockedBy.length > 0 && <SendingBlocked members={blockedBy} onVerify={setVerifying} onAccept={accept} />}
        <Composer send={room.send} onError={props.onSendError} blocked={blockedBy.length > 0} />
      </section>
      {member && (
        <VerifyDialog
          session={session}
          member={member}
          myFingerprint={props.myFingerprint}
          onAccept={accept}
          onClose={() => setVerifying(null)}
        />
      )}
    </main>
  );
}
