import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { Adapter, type Session } from 'socket.io-adapter';
import { closeRecoveryGap } from './recovery-gap.js';

const SID = 'sid-1';
const ROOM = 'room-1';

interface FakeSocket {
  id: string;
  written: string[];
  client: { writeToEngine(encoded: string[]): void };
}

/** An in-memory adapter on a stand-in namespace, with restoreSession answered by hand. */
function setup() {
  const nsp = Object.assign(new EventEmitter(), {
    name: '/',
    sockets: new Map<string, FakeSocket>(),
    server: { encoder: { encode: (packet: { data: unknown[] }) => [JSON.stringify(packet.data)] } },
  });
  const adapter = new Adapter(nsp as never);
  let answer!: (session: Session) => void;
  (adapter as unknown as { restoreSession: () => Promise<Session> }).restoreSession = () =>
    new Promise((resolve) => (answer = resolve));
  closeRecoveryGap(adapter, { stream: true });
  const socket: FakeSocket = {
    id: SID,
    written: [],
    client: { writeToEngine: (encoded) => socket.written.push(...encoded) },
  };
  const broadcast = (id: string, rooms = [ROOM]): void => {
    void adapter.broadcast({ type: 2, data: ['roomMessage', { id }, id] } as never, { rooms: new Set(rooms) });
  };
  const session = (missed: string[]): Session =>
    ({
      sid: SID,
      pid: 'pid-1',
      rooms: [SID, ROOM],
      data: {},
      missedPackets: missed.map((id) => ['roomMessage', { id }, id]),
    }) as never;
  const missedIds = (s: Session) => (s.missedPackets as unknown[][]).map((d) => d[d.length - 1]);
  const written = () => socket.written.map((w) => (JSON.parse(w) as unknown[])[2]);
  return { adapter, nsp, socket, broadcast, session, missedIds, written, answer: (s: Session) => answer(s) };
}

describe('closeRecoveryGap', () => {
  it('adds what was delivered between the read and the join to the missed packets, in stream order', async () => {
    const t = setup();
    const restoring = t.adapter.restoreSession('pid-1', '1-0') as Promise<Session>;
    t.broadcast('3-0'); // after the stream was read: not among the missed packets
    t.broadcast('1-0'); // the client's own offset: it has it
    t.broadcast('4-0', ['elsewhere']); // not for this socket
    const restored = t.session(['2-0', '2-1']);
    t.answer(restored);
    await restoring;
    void t.adapter.addAll(SID, new Set([SID]));
    expect(t.missedIds(restored)).toEqual(['2-0', '2-1', '3-0']);
  });

  it('queues what its rooms get before it is connected, and sends it on connection', async () => {
    const t = setup();
    const restoring = t.adapter.restoreSession('pid-1', '1-0') as Promise<Session>;
    t.answer(t.session([]));
    await restoring;
    void t.adapter.addAll(SID, new Set([SID, ROOM]));
    t.broadcast('5-0'); // middlewares still running: Socket.IO alone would drop it
    expect(t.written()).toEqual([]);
    t.nsp.sockets.set(SID, t.socket);
    t.nsp.emit('connection', t.socket);
    t.broadcast('6-0');
    expect(t.written()).toEqual(['5-0', '6-0']);
  });

  it('does not send again what it was sent as missed and this node delivers later', async () => {
    const t = setup();
    const restoring = t.adapter.restoreSession('pid-1', '1-0') as Promise<Session>;
    t.answer(t.session(['2-0']));
    await restoring;
    void t.adapter.addAll(SID, new Set([SID, ROOM]));
    t.nsp.sockets.set(SID, t.socket);
    t.nsp.emit('connection', t.socket);
    t.broadcast('2-0'); // the reader was behind: already sent as missed
    t.broadcast('3-0');
    expect(t.written()).toEqual(['3-0']);
  });

  it('leaves broadcasts alone when no restore is under way', () => {
    const t = setup();
    void t.adapter.addAll(SID, new Set([SID, ROOM]));
    t.nsp.sockets.set(SID, t.socket);
    t.broadcast('2-0');
    t.broadcast('3-0');
    expect(t.written()).toEqual(['2-0', '3-0']);
  });
});
