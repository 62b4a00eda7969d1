/**
 * Connection state recovery over the Redis streams adapter, without its gap.
 *
 * The adapter restores a session by reading the stream (XRANGE) from the client's offset
 * to its end; Socket.IO then builds the socket, which joins the session's rooms and is sent
 * what was read. Meanwhile this node keeps delivering broadcasts: the other nodes' through
 * its XREAD loop, its own as each XADD is answered. One delivered after the last XRANGE but
 * before the join reaches nobody: it is not in the missed packets and the socket was not
 * yet in its rooms, so an acked message or signal for the returning client was lost. One
 * read by XRANGE but delivered here after the join (the XREAD loop was behind) would reach
 * it twice.
 *
 * And once in its rooms, the socket still gets nothing until its middlewares have run:
 * Socket.IO delivers only to connected sockets, and Parley's middlewares (authentication,
 * the per-address limit) may wait for a verification or for Redis.
 *
 * So while a restore is in flight, this node records every broadcast it delivers. When the
 * restored socket joins its first room (synchronously, in Socket.IO's constructor, before
 * the missed packets are sent), the recorded ones it should have had and did not get join
 * the missed packets (in stream order), and the missed packets this node has not delivered
 * yet are kept from the socket when they come (they were sent to it already). What its
 * rooms get from then until it is connected is queued for it, and sent right after its
 * CONNECT, before anything newer.
 */
import type { Adapter, BroadcastOptions, Room, Session } from 'socket.io-adapter';

/** How long a restored socket is kept from packets it was sent as missed ones. */
const SUPPRESS_MS = 30_000;
/** A restore whose socket never joined is forgotten after this long. */
const ABANDON_MS = 10_000;

type Deliver = (socket: { id: string }) => void;

interface Patched {
  _encode(packet: { data?: unknown[]; id?: number }, packetOpts: unknown): unknown;
  apply(opts: BroadcastOptions, fn: Deliver): void;
  addAll(id: string, rooms: Set<Room>): void;
  restoreSession(pid: string, offset: string): Promise<Session | undefined>;
}

interface Delivery {
  id: string;
  data: unknown[];
  opts: BroadcastOptions;
}

interface Waiting {
  rooms: Room[];
  queue: Deliver[];
  timer: NodeJS.Timeout;
}

interface Restore {
  session: Session;
  offset: string;
  /** Index in the log of the first delivery made after this restore began. */
  start: number;
  timer: NodeJS.Timeout;
}

/**
 * `stream`: the adapter is the Redis streams one (offsets are stream ids, and a restore
 * reads Redis while this node goes on delivering). Socket.IO's own in-memory adapter
 * restores from what it buffered, synchronously: there only the wait for middlewares needs
 * closing.
 */
export function closeRecoveryGap(adapter: Adapter, { stream }: { stream: boolean }): void {
  const target = adapter as unknown as Patched;
  const offsetOf = stream ? streamOffsetOf : eventOffsetOf;
  /** Deliveries made while any restore is in flight; `base` is the index of its first. */
  let log: Delivery[] = [];
  let base = 0;
  let inFlight = 0;
  /** Restored sessions waiting for their socket's first join, by socket id. */
  const restoring = new Map<string, Restore>();
  /** Ids a restored socket was sent as missed packets and must not get again, by socket id. */
  const sent = new Map<string, Set<string>>();
  /** Restored sockets in their rooms but not yet connected (middlewares running), by socket id. */
  const waiting = new Map<string, Waiting>();
  let encoding: { data?: unknown[]; id?: number } | undefined;

  // Socket.IO delivers only to connected sockets: what a restored socket's rooms get while
  // its middlewares run is queued, and sent once it is connected (after its CONNECT).
  (adapter.nsp as unknown as NodeJS.EventEmitter).on('connection', (socket: { id: string }) => {
    const wait = waiting.get(socket.id);
    if (!wait) return;
    waiting.delete(socket.id);
    clearTimeout(wait.timer);
    for (const deliver of wait.queue) deliver(socket);
  });

  // The in-memory adapter's broadcast encodes its packet, then applies it to the sockets,
  // synchronously: the packet encoded last is the one being applied.
  const encode = target._encode.bind(adapter);
  target._encode = (packet, packetOpts) => {
    encoding = packet;
    return encode(packet, packetOpts);
  };

  const apply = target.apply.bind(adapter);
  target.apply = (opts, fn) => {
    const packet = encoding;
    encoding = undefined;
    const id = packet && (inFlight > 0 || sent.size > 0 || waiting.size > 0) ? offsetOf(packet) : undefined;
    if (id === undefined) return apply(opts, fn);
    if (stream && inFlight > 0) log.push({ id, data: packet!.data!, opts });
    for (const [sid, wait] of waiting) {
      if (reaches(wait.rooms, opts) && !sent.get(sid)?.delete(id)) wait.queue.push(fn);
    }
    if (sent.size === 0) return apply(opts, fn);
    apply(opts, (socket) => {
      const ids = sent.get(socket.id);
      if (ids?.delete(id)) return;
      fn(socket);
    });
  };

  const addAll = target.addAll.bind(adapter);
  target.addAll = (id, rooms) => {
    const restore = restoring.get(id);
    if (restore) finish(id, restore);
    addAll(id, rooms);
  };

  const restoreSession = target.restoreSession.bind(adapter);
  target.restoreSession = async (pid, offset) => {
    inFlight += 1;
    const start = base + log.length;
    let session: Session | undefined;
    try {
      session = await restoreSession(pid, offset);
    } catch (err) {
      release();
      throw err;
    }
    if (!session) {
      release();
      return session;
    }
    const sid = session.sid;
    const timer = setTimeout(() => {
      if (restoring.get(sid)?.timer === timer) {
        restoring.delete(sid);
        release();
      }
    }, ABANDON_MS);
    timer.unref();
    restoring.set(sid, { session, offset, start, timer });
    return session;
  };

  /** The socket joins its rooms now: complete its missed packets, from what the log holds. */
  function finish(sid: string, restore: Restore): void {
    restoring.delete(sid);
    clearTimeout(restore.timer);
    const { session } = restore;
    const missed = session.missedPackets as unknown[][];
    const read = new Set<string>();
    for (const data of missed) {
      const id = data[data.length - 1];
      if (typeof id === 'string') read.add(id);
    }
    const delivered = new Set<string>();
    let added = false;
    for (let i = restore.start - base; i < log.length; i++) {
      const delivery = log[i];
      delivered.add(delivery.id);
      if (read.has(delivery.id) || !isAfter(delivery.id, restore.offset)) continue;
      if (!reaches(session.rooms, delivery.opts)) continue;
      missed.push(delivery.data);
      read.add(delivery.id);
      added = true;
    }
    if (added) missed.sort((a, b) => compareIds(a[a.length - 1] as string, b[b.length - 1] as string));
    // What was read but not delivered here yet will be delivered here later: not to it.
    const pending = new Set<string>();
    for (const id of read) if (!delivered.has(id)) pending.add(id);
    const wait: Waiting = { rooms: session.rooms, queue: [], timer: setTimeout(() => waiting.delete(sid), ABANDON_MS) };
    wait.timer.unref();
    waiting.set(sid, wait);
    if (stream && pending.size > 0) {
      sent.set(sid, pending);
      setTimeout(() => {
        if (sent.get(sid) === pending) sent.delete(sid);
      }, SUPPRESS_MS).unref();
    }
    release();
  }

  /** One restore is over: the log keeps only what the ones still in flight need. */
  function release(): void {
    inFlight -= 1;
    if (inFlight === 0) {
      base += log.length;
      log = [];
      return;
    }
    let oldest = base + log.length;
    for (const restore of restoring.values()) oldest = Math.min(oldest, restore.start);
    // Restores still awaiting Redis are not in `restoring`: keep everything for them.
    if (restoring.size < inFlight) return;
    log = log.slice(oldest - base);
    base = oldest;
  }
}

/** The stream offset the cluster adapter appended to a packet's data, if it did. */
function streamOffsetOf(packet: { data?: unknown[]; id?: number }): string | undefined {
  const last = eventOffsetOf(packet);
  return last !== undefined && STREAM_ID.test(last) ? last : undefined;
}

/** The offset the in-memory adapter appended to an event without an ack (its last string). */
function eventOffsetOf(packet: { data?: unknown[]; id?: number }): string | undefined {
  if (packet.id !== undefined || !Array.isArray(packet.data) || packet.data.length < 2) return undefined;
  const last = packet.data[packet.data.length - 1];
  return typeof last === 'string' ? last : undefined;
}

const STREAM_ID = /^\d+-\d+$/;

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

function isAfter(id: string, offset: string): boolean {
  return !STREAM_ID.test(offset) || compareIds(id, offset) > 0;
}

/** Whether a broadcast to `opts` reaches a socket in `rooms` (as the streams adapter decides). */
function reaches(rooms: Room[], opts: BroadcastOptions): boolean {
  const included = opts.rooms.size === 0 || rooms.some((room) => opts.rooms.has(room));
  return included && !rooms.some((room) => opts.except?.has(room));
}
