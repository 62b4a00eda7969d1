/**
 * What a page shows of the room it is in: the people, and the messages in offset order as
 * they open (history on entering, live ones, the ones missed while reconnecting, each once),
 * with gap markers where the server no longer had everything. Also sends, in the session's
 * mode, and notices members who write in the other mode (the two cannot read each other).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { decryptMessage, encryptMessage, isRedacted, type RoomMessage, type User } from '../index.js';
import { envelopeMode } from './room-mode.js';
import { addGap, emptyTimeline, markIncomplete, placeMessage, settleMessage, type Timeline } from './timeline.js';
import type { ParleyState, RoomSession } from './use-parley.js';
import { useParleyEvent } from './use-parley-event.js';

type Opened = { ok: true; text: string; gap?: number; late?: boolean } | { ok: false; reason: string };

export interface RoomState {
  users: readonly User[];
  timeline: Timeline;
  /** Names seen writing in the other room mode, in order of first sight. */
  otherMode: readonly string[];
  /** Encrypts for the room and sends; rejects with the library's error. */
  send(text: string): Promise<void>;
  /** Shows a message as if it had arrived (it is placed by its offset, once). */
  receive(m: RoomMessage): void;
}

async function open(s: RoomSession, m: RoomMessage): Promise<Opened> {
  try {
    if (s.keys) return await s.keys.open(m);
    return await decryptMessage(s.roomKey!, m.message, m.from);
  } catch {
    return { ok: false, reason: 'undecryptable' };
  }
}

export function useRoom(parley: Pick<ParleyState, 'client' | 'session' | 'current'>): RoomState {
  const { client, session, current } = parley;
  const [users, setUsers] = useState<readonly User[]>([]);
  const [timeline, setTimeline] = useState<Timeline>(emptyTimeline);
  const [otherMode, setOtherMode] = useState<readonly string[]>([]);
  const shown = useRef(new Set<string>());
  const joinId = session?.joinId;

  const receive = useCallback(
    (m: RoomMessage) => {
      const s = current();
      if (!s || m.room !== s.user.room || shown.current.has(m.id)) return;
      shown.current.add(m.id);
      setTimeline((t) => placeMessage(t, m, m.fromId === client.id));
      void open(s, m).then((result) => {
        // Still the same login: a message of an earlier one has no place any more.
        if (current()?.joinId !== s.joinId) return;
        setTimeline((t) => settleMessage(t, m.id, result));
        if (!result.ok && result.reason === 'unsupported-version') {
          const mode = envelopeMode(m.message);
          if (mode && mode !== s.mode) setOtherMode((names) => (names.includes(m.from) ? names : [...names, m.from]));
        }
      });
    },
    [client, current],
  );

  // A new login: an empty list, then history, live messages and resumes until it ends.
  useEffect(() => {
    shown.current = new Set();
    setTimeline(emptyTimeline);
    setOtherMode([]);
    if (joinId === undefined) {
      setUsers([]);
      return;
    }
    let live = true;
    // Where the page stood when the connection dropped, to place a gap after it.
    let before: { epoch: string; offset: number } | undefined;
    const onDisconnect = () => {
      const seen = client.lastSeen;
      before = seen && { epoch: seen.epoch, offset: seen.offset };
    };
    client.socket.on('disconnect', onDisconnect);
    const offs = [
      client.onMessage(receive),
      client.onResume((e) => {
        if (!live || e.error || e.complete) return;
        const now = client.lastSeen;
        if (!now) return;
        const from = before;
        setTimeline((t) =>
          from && !e.epochChanged ? addGap(t, from.epoch, from.offset + 1) : addGap(t, now.epoch, 1),
        );
      }),
    ];
    client.history().then(
      (reply) => {
        if (!live) return;
        for (const m of reply.messages) if (!isRedacted(m)) receive(m);
        setTimeline((t) => markIncomplete(t, reply));
      },
      () => undefined,
    );
    return () => {
      live = false;
      client.socket.off('disconnect', onDisconnect);
      offs.forEach((off) => off());
    };
  }, [client, joinId, receive]);

  // Each socket of the session (a login, a rejoin): the `users` list from before it existed.
  useEffect(() => {
    if (!session) return;
    let live = true;
    client.listUsers().then(
      (list) => {
        if (!live || current() !== session) return;
        void session.keys?.updateMembers(list);
        setUsers(list);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [client, session, current]);

  useParleyEvent(client, 'users', (list) => {
    const s = current();
    if (s && list.every((u) => u.room === s.user.room)) setUsers(list);
  });

  const send = useCallback(
    async (text: string) => {
      const s = current();
      if (!s) throw new Error('Not in a room');
      const envelope = s.keys ? await s.keys.encrypt(text) : await encryptMessage(s.roomKey!, text, s.user.name);
      await client.sendMessage(envelope);
    },
    [client, current],
  );

  return { users, timeline, otherMode, send, receive };
}
