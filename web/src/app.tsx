/**
 * Parley's reference web client: encrypted room chat and 1:1 video calls. The state lives
 * in the client library's hooks (client/react); this composes them with the page's views.
 */
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { callVerifier } from '../../client/index.js';
import {
  useCall,
  useConnection,
  useFingerprints,
  useParley,
  useParleyClient,
  useParleyEvent,
  useRoom,
  useRoomCall,
  type ParleyNotice,
} from '../../client/react/index.js';
import { IncomingCallDialog } from './dialogs/incoming-call-dialog.js';
import { errorText } from './common/error-text.js';
import { useDiagnostics } from './diagnostics.js';
import { LoginView } from './login/login-view.js';
import { RoomView } from './room/room-view.js';
import { Toasts } from './toasts/toasts.js';
import { useToasts } from './toasts/use-toasts.js';
import { TopBar } from './top-bar.js';

const TITLE = 'Parley — encrypted rooms and calls';

export function App() {
  const client = useParleyClient();
  const { toasts, toast } = useToasts();
  const connection = useConnection(client);

  const onNotice = useCallback(
    (n: ParleyNotice) => {
      if (n.type === 'resumed') {
        toast(
          'info',
          'Reconnected',
          n.complete ? `Back in ${n.room}` : `Back in ${n.room}; some messages may be missing`,
        );
      } else if (n.type === 'resume-failed') {
        toast('error', 'Could not rejoin the room', errorText(n.error));
      }
      // A kick is told by the login form's banner, which stays.
    },
    [toast],
  );
  const parley = useParley(client, { onNotice });
  const room = useRoom(parley);
  const users = useRef(room.users);
  users.current = room.users;
  // Member-keys rooms: each side signs its DTLS fingerprints with its device key and checks
  // the other's against the member's key as this page knows it (passphrase rooms: unsigned).
  const fingerprintProofs = useMemo(() => callVerifier(() => parley.current()?.keys?.callAuth()), [parley.current]);
  const call = useCall(client, {
    fingerprints: fingerprintProofs,
    // The server-stamped login name of the caller's socket, never the name it sent.
    peerName: (id) => users.current.find((u) => u.id === id)?.name,
    myName: () => parley.current()?.user.name ?? 'Someone',
    // Not in a room: nobody to answer.
    onIncoming: () => parley.current() !== null,
    onError: (message) => toast('error', 'Call', message),
    onEnded: (view) => {
      if (view.endKind !== 'hangup') toast('call', 'Call ended', view.status);
    },
  });
  const roomCall = useRoomCall(client, parley.session, { fingerprints: fingerprintProofs });
  const fingerprints = useFingerprints(room.users);
  useDiagnostics(client, { parley, room, call, roomCall });

  useParleyEvent(client, 'notification', (n) => {
    const s = parley.current();
    if (!s) return;
    if (n.type === 'server') return toast('info', n.title, n.description);
    if (n.user.room !== s.user.room) return;
    toast(n.type, n.title, n.description);
  });

  const { session } = parley;
  const inRoom = session !== null;
  const { hangup } = call;
  useEffect(() => {
    document.title = session ? `${session.user.room} · Parley` : TITLE;
    const app = document.querySelector<HTMLElement>('[data-testid="app"]');
    if (app) app.dataset.view = session ? 'room' : 'login';
  }, [session]);
  // Out of the room (left, kicked, or the rejoin failed): no call goes on without it.
  useEffect(() => {
    if (!inRoom) hangup();
  }, [inRoom, hangup]);

  const caller = call.incoming && room.users.find((u) => u.id === call.incoming!.peerId);
  return (
    <>
      <TopBar
        connection={connection}
        session={session}
        fingerprint={parley.identity?.fingerprint}
        onLeave={() => {
          call.hangup();
          roomCall.leave();
          parley.logout();
        }}
      />
      <LoginView hidden={inRoom} parley={parley} />
      {session && (
        <RoomView
          session={session}
          room={room}
          call={call}
          roomCall={roomCall}
          fingerprints={fingerprints}
          myFingerprint={parley.identity?.fingerprint}
          membersVersion={parley.membersVersion}
          onSendError={(err) => toast('error', 'Message not sent', errorText(err))}
        />
      )}
      <IncomingCallDialog
        incoming={inRoom ? call.incoming : null}
        fingerprint={caller?.publicKey ? fingerprints.get(caller.publicKey) : undefined}
        onAccept={call.accept}
        onDecline={call.decline}
      />
      <Toasts toasts={toasts} />
    </>
  );
}
