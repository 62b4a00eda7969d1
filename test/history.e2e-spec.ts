/**
 * Room history end to end: offsets and epochs on every room message, the `history`
 * request (since / epoch / limit / complete), retention by count, bytes and age, and
 * HISTORY_SIZE=0. Black-box, so it also runs against two Redis nodes
 * (test/helpers/jest.cluster.config.js), clients alternating between them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { HistoryReply, MessageAck, RoomMessage } from '../src/common/events.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import {
  closeAllClients,
  connect,
  connectMany,
  joinRoom,
  login,
  sleep,
  uniqueRoom,
  type TestClient,
} from './helpers/client.js';
import { expectError } from './helpers/assert.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => {
  closeAllClients();
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

async function send(c: TestClient, message: string): Promise<MessageAck> {
  const ack = await c.request<MessageAck>('roomMessage', { message });
  if ('error' in (ack as object)) throw new Error(`roomMessage refused: ${JSON.stringify(ack)}`);
  return ack;
}

/** A history reply with no redacted message in it (nothing is redacted in these specs). */
type TextHistory = Omit<HistoryReply, 'messages'> & { messages: RoomMessage[] };

function history(c: TestClient, query: Record<string, unknown> = {}): Promise<TextHistory> {
  return c.request<TextHistory>('history', query);
}

/** A room of `n` members on `srv`; returns the clients. */
async function room(srv: TestServer, n: number): Promise<{ name: string; clients: TestClient[] }> {
  const clients = await connectMany(srv, n);
  const name = uniqueRoom('hist');
  await joinRoom(clients, name);
  return { name, clients };
}

/** Waits until `c` has received `count` room messages; returns them. */
async function receivedAll(c: TestClient, count: number): Promise<RoomMessage[]> {
  const until = Date.now() + 5000;
  while (c.received('roomMessage').length < count) {
    if (Date.now() > until) throw new Error(`only ${c.received('roomMessage').length} of ${count} room messages`);
    await sleep(20);
  }
  return c.received('roomMessage');
}

const offsets = (ms: RoomMessage[]) => ms.map((m) => m.offset);

describe('offsets and epochs', () => {
  it('numbers a room from 1, consecutively, under concurrent senders; ack and broadcast agree', async () => {
    const { clients } = await room(server, 4);
    const perSender = 15;
    const acks = (
      await Promise.all(
        clients
          .slice(0, 3)
          .map((c, s) => Promise.all(Array.from({ length: perSender }, (_, i) => send(c, `s${s}-m${i}`)))),
      )
    ).flat();
    const total = acks.length;
    expect(acks.map((a) => a.offset).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(acks.map((a) => a.epoch)).size).toBe(1);
    for (const c of clients) {
      const got = await receivedAll(c, total);
      expect(got).toHaveLength(total);
      for (const m of got) {
        const ack = acks.find((a) => a.id === m.id)!;
        expect({ id: m.id, at: m.at, offset: m.offset, epoch: m.epoch }).toEqual(ack);
      }
      // One sender's messages arrive in the order sent, with growing offsets.
      for (let s = 0; s < 3; s++) {
        const mine = got.filter((m) => m.message.startsWith(`s${s}-`));
        expect(mine.map((m) => m.message)).toEqual(Array.from({ length: perSender }, (_, i) => `s${s}-m${i}`));
        expect(offsets(mine)).toEqual([...offsets(mine)].sort((x, y) => x - y));
      }
    }
  });

  it('acks after the sender has received its own broadcast', async () => {
    const {
      clients: [a],
    } = await room(server, 1);
    for (let i = 0; i < 5; i++) {
      const ack = await send(a, `own-${i}`);
      const ackRec = a.log.filter((r) => r.event === 'ack:roomMessage').at(-1)!;
      const own = a.log.find((r) => r.event === 'roomMessage' && (r.args[0] as RoomMessage).id === ack.id);
      expect(own).toBeDefined();
      expect(own!.seq).toBeLessThan(ackRec.seq);
    }
  });

  it('keeps one epoch and counts on while the room stays occupied, across logins and logouts', async () => {
    const {
      name,
      clients: [a, b],
    } = await room(server, 2);
    const first = await send(a, 'one');
    await b.request('logout');
    await login(b, 'again', name);
    const second = await send(b, 'two');
    expect(second.epoch).toBe(first.epoch);
    expect(second.offset).toBe(first.offset + 1);
  });

  it('tells the epoch and offset 0 of a room that has had no message, and the first message carries that epoch', async () => {
    const {
      clients: [a],
    } = await room(server, 1);
    const empty = await history(a);
    expect(empty).toEqual({ messages: [], offset: 0, epoch: expect.any(String), complete: true });
    const ack = await send(a, 'first');
    expect(ack).toMatchObject({ offset: 1, epoch: empty.epoch });
  });

  it('gives separate rooms separate offsets and never another room’s messages', async () => {
    const r1 = await room(server, 1);
    const r2 = await room(server, 1);
    await send(r1.clients[0], 'r1-a');
    await send(r1.clients[0], 'r1-b');
    const other = await send(r2.clients[0], 'r2-a');
    expect(other.offset).toBe(1);
    const h1 = await history(r1.clients[0]);
    const h2 = await history(r2.clients[0]);
    expect(h1.messages.map((m) => m.message)).toEqual(['r1-a', 'r1-b']);
    expect(h1.messages.every((m) => m.room === r1.name)).toBe(true);
    expect(h2.messages.map((m) => m.message)).toEqual(['r2-a']);
    expect(h2.epoch).not.toBe(h1.epoch);
  });
});

describe('history', () => {
  it('without since: every retained message as broadcast, oldest first, complete', async () => {
    const {
      name,
      clients: [a, b],
    } = await room(server, 2);
    for (let i = 1; i <= 5; i++) await send(i % 2 ? a : b, `m${i}`);
    const live = await receivedAll(b, 5);
    const reply = await history(b);
    expect(reply).toEqual({ messages: expect.any(Array), offset: 5, epoch: live[0].epoch, complete: true });
    expect(reply.messages).toEqual([...live].sort((x, y) => x.offset - y.offset));
    expect(reply.messages.map((m) => m.room)).toEqual(Array(5).fill(name));
    expect(Object.keys(reply.messages[0]).sort()).toEqual([
      'at',
      'epoch',
      'from',
      'fromId',
      'id',
      'message',
      'offset',
      'room',
    ]);
  });

  it('with since and epoch: exactly the messages after since, complete; since = latest gives none, complete', async () => {
    const {
      clients: [a, b],
    } = await room(server, 2);
    const acks: MessageAck[] = [];
    for (let i = 1; i <= 6; i++) acks.push(await send(a, `m${i}`));
    const { epoch } = acks[0];
    const reply = await history(b, { since: 2, epoch });
    expect(reply.complete).toBe(true);
    expect(offsets(reply.messages)).toEqual([3, 4, 5, 6]);
    expect(reply.messages.map((m) => m.message)).toEqual(['m3', 'm4', 'm5', 'm6']);
    expect(await history(b, { since: 6, epoch })).toEqual({ messages: [], offset: 6, epoch, complete: true });
    expect((await history(b, { since: 0, epoch })).complete).toBe(true);
  });

  it('with a stale epoch: the latest messages and complete: false', async () => {
    const {
      clients: [a],
    } = await room(server, 1);
    for (let i = 1; i <= 3; i++) await send(a, `m${i}`);
    const reply = await history(a, { since: 1, epoch: 'not-this-epoch' });
    expect(reply.complete).toBe(false);
    expect(offsets(reply.messages)).toEqual([1, 2, 3]);
    expect(reply.epoch).not.toBe('not-this-epoch');
  });

  it('with since above the latest offset: the latest messages and complete: false', async () => {
    const {
      clients: [a],
    } = await room(server, 1);
    const { epoch } = await send(a, 'm1');
    await send(a, 'm2');
    const reply = await history(a, { since: 10, epoch });
    expect(reply).toMatchObject({ offset: 2, epoch, complete: false });
    expect(offsets(reply.messages)).toEqual([1, 2]);
  });

  it('with limit: the latest N, complete only when nothing was cut', async () => {
    const {
      clients: [a],
    } = await room(server, 1);
    let epoch = '';
    for (let i = 1; i <= 8; i++) epoch = (await send(a, `m${i}`)).epoch;
    const cut = await history(a, { limit: 3 });
    expect(offsets(cut.messages)).toEqual([6, 7, 8]);
    expect(cut.complete).toBe(false);
    const cutSince = await history(a, { since: 2, epoch, limit: 3 });
    expect(offsets(cutSince.messages)).toEqual([6, 7, 8]);
    expect(cutSince.complete).toBe(false);
    const enough = await history(a, { since: 5, epoch, limit: 3 });
    expect(offsets(enough.messages)).toEqual([6, 7, 8]);
    expect(enough.complete).toBe(true);
  });

  it('works without a payload (ack only)', async () => {
    const {
      clients: [a],
    } = await room(server, 1);
    await send(a, 'x');
    const reply = await a.request<TextHistory>('history');
    expect(offsets(reply.messages)).toEqual([1]);
  });

  it('refuses bad fields with VALIDATION naming them, and changes nothing', async () => {
    const {
      clients: [a],
    } = await room(server, 1);
    const { epoch } = await send(a, 'm1');
    expectError(await history(a, { since: 0 }), 'VALIDATION', /epoch/);
    expectError(await history(a, { since: -1, epoch }), 'VALIDATION', /since/);
    expectError(await history(a, { since: 1.5, epoch }), 'VALIDATION', /since/);
    expectError(await history(a, { since: '1', epoch }), 'VALIDATION', /since/);
    expectError(await history(a, { since: 0, epoch: 5 }), 'VALIDATION', /epoch/);
    expectError(await history(a, { since: 0, epoch: '' }), 'VALIDATION', /epoch/);
    expectError(await history(a, { limit: 0 }), 'VALIDATION', /limit/);
    expectError(await history(a, { limit: 1001 }), 'VALIDATION', /limit/);
    expectError(await history(a, { limit: 'all' }), 'VALIDATION', /limit/);
    expectError(await a.request('history', 'since'), 'VALIDATION');
    a.send('history', { limit: -3 });
    expect(await a.waitFor('exception')).toEqual({
      event: 'history',
      error: expect.stringMatching(/limit/),
      code: 'VALIDATION',
    });
    expect((await history(a, { limit: 1000 })).messages).toHaveLength(1);
    expect((await send(a, 'm2')).offset).toBe(2);
  });

  it('needs a logged-in socket (VALIDATION first, then NOT_LOGGED_IN)', async () => {
    const c = await connect(server);
    expectError(await history(c), 'NOT_LOGGED_IN');
    expectError(await history(c, { since: 0, epoch: 'e' }), 'NOT_LOGGED_IN');
    expectError(await history(c, { limit: 0 }), 'VALIDATION');
    c.send('history', {});
    expect(await c.waitFor('exception')).toEqual({
      event: 'history',
      error: expect.any(String),
      code: 'NOT_LOGGED_IN',
    });
  });

  it('retains send-message messages too, in the RoomMessage shape', async () => {
    const {
      name,
      clients: [a, b],
    } = await room(server, 2);
    const first = await send(a, 'core');
    const compat = await b.request<MessageAck>('send-message', { message: 'legacy' });
    expect(compat).toEqual({ id: expect.any(String), at: expect.any(Number), offset: 2, epoch: first.epoch });
    expect(await a.waitFor('new-message')).toEqual({
      msg: 'legacy',
      from: expect.any(String),
      fromId: b.id,
      ...compat,
    });
    const reply = await history(a);
    expect(reply.messages[1]).toEqual({
      ...compat,
      room: name,
      message: 'legacy',
      from: expect.any(String),
      fromId: b.id,
    });
  });
});

describe('retention', () => {
  it('keeps the latest HISTORY_SIZE messages per room; a resume within them is complete', async () => {
    const small = await startServer({ HISTORY_SIZE: '3' });
    const {
      clients: [a],
    } = await room(small, 1);
    let epoch = '';
    for (let i = 1; i <= 5; i++) epoch = (await send(a, `m${i}`)).epoch;
    const all = await history(a);
    expect(offsets(all.messages)).toEqual([3, 4, 5]);
    expect(all.complete).toBe(false);
    expect((await history(a, { since: 2, epoch })).complete).toBe(true);
    expect((await history(a, { since: 1, epoch })).complete).toBe(false);
    // The default limit is HISTORY_SIZE.
    expect((await history(a, { since: 1, epoch })).messages).toHaveLength(3);
  });

  it('keeps at most HISTORY_ROOM_BYTES of ciphertext per room, the oldest going first', async () => {
    const small = await startServer({ HISTORY_ROOM_BYTES: '10' });
    const {
      clients: [a],
    } = await room(small, 1);
    for (const m of ['aaaa', 'bbbb', 'cccc']) await send(a, m);
    expect((await history(a)).messages.map((m) => m.message)).toEqual(['bbbb', 'cccc']);
    await send(a, 'é'.repeat(5)); // 10 UTF-8 bytes: alone fills the room's budget
    expect((await history(a)).messages.map((m) => m.message)).toEqual(['é'.repeat(5)]);
    await send(a, 'x'.repeat(11)); // over the budget on its own: nothing stays
    const reply = await history(a);
    expect(reply).toMatchObject({ messages: [], offset: 5, complete: false });
  });

  it('drops messages older than HISTORY_TTL_S; the occupied room keeps its epoch and offsets', async () => {
    const short = await startServer({ HISTORY_TTL_S: '1' });
    const {
      clients: [a],
    } = await room(short, 1);
    const first = await send(a, 'old');
    await sleep(1200);
    const after = await history(a, { since: 0, epoch: first.epoch });
    expect(after).toEqual({ messages: [], offset: 1, epoch: first.epoch, complete: false });
    const next = await send(a, 'new');
    expect(next).toMatchObject({ offset: 2, epoch: first.epoch });
    expect(offsets((await history(a, { since: 1, epoch: first.epoch })).messages)).toEqual([2]);
  });

  it('with HISTORY_SIZE=0 retains nothing but still numbers messages', async () => {
    const none = await startServer({ HISTORY_SIZE: '0' });
    const {
      clients: [a, b],
    } = await room(none, 2);
    const acks = [await send(a, 'm1'), await send(b, 'm2')];
    expect(acks.map((x) => x.offset)).toEqual([1, 2]);
    expect((await receivedAll(b, 2)).map((m) => m.offset)).toEqual([1, 2]);
    expect(await history(a)).toEqual({ messages: [], offset: 2, epoch: acks[0].epoch, complete: false });
    expect(await history(a, { since: 2, epoch: acks[0].epoch })).toEqual({
      messages: [],
      offset: 2,
      epoch: acks[0].epoch,
      complete: true,
    });
  });

  it('starts a new epoch once a room is empty with nothing retained, and keeps it while messages remain', async () => {
    const none = await startServer({ HISTORY_SIZE: '0' });
    const c = await connect(none);
    const name = uniqueRoom('epoch');
    await login(c, 'solo', name);
    const before = await send(c, 'gone');
    await c.request('logout');
    await login(c, 'solo', name);
    const after = await send(c, 'fresh');
    expect(after.offset).toBe(1);
    expect(after.epoch).not.toBe(before.epoch);

    // With something retained the room stays vouched for while it is empty.
    const d = await connect(server);
    const kept = uniqueRoom('kept');
    await login(d, 'solo', kept);
    const k1 = await send(d, 'stays');
    await d.request('logout');
    await login(d, 'solo', kept);
    const reply = await history(d, { since: 0, epoch: k1.epoch });
    expect(reply).toMatchObject({ epoch: k1.epoch, offset: 1, complete: true });
    expect((await send(d, 'next')).offset).toBe(2);
  });
});
