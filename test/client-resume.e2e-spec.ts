/**
 * The client library's resume against a real server: a connection dropped without
 * recovery (a new socket) logs in again, fetches what it missed with `history`, delivers
 * it once, in offset order, and says whether anything may be missing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ParleyClient, type ResumeEvent } from '../client/parley-client.js';
import type { RoomMessage } from '../src/common/events.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { sleep, uniqueRoom } from './helpers/client.js';

let server: TestServer;
const clients: ParleyClient[] = [];

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await closeAllServers();
});

function client(url = server.url): ParleyClient {
  const c = new ParleyClient({
    url,
    socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 },
  });
  clients.push(c);
  return c;
}

/** Cuts the transport under the client, as a network drop does; socket.io-client reconnects. */
function drop(c: ParleyClient): void {
  c.socket.io.engine.close();
}

function nextResume(c: ParleyClient, timeoutMs = 5000): Promise<ResumeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no resume')), timeoutMs);
    const off = c.onResume((e) => {
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('ParleyClient resume', () => {
  it('after a drop without recovery: logs in again, delivers exactly the missed messages in order, complete', async () => {
    const room = uniqueRoom('resume');
    const reader = client();
    const writer = client();
    await reader.ready();
    await writer.ready();
    const got: RoomMessage[] = [];
    reader.onMessage((m) => got.push(m));
    await reader.login({ name: 'reader', room });
    await writer.login({ name: 'writer', room });
    for (let i = 1; i <= 3; i++) await writer.sendMessage(`before-${i}`);
    await until(() => got.length === 3, 'the first messages');
    const oldId = reader.id;

    const resumed = nextResume(reader);
    drop(reader);
    await until(() => !reader.connected, 'the drop');
    for (let i = 1; i <= 4; i++) await writer.sendMessage(`away-${i}`);
    const event = await resumed;
    expect(reader.id).not.toBe(oldId);
    expect(event).toMatchObject({ room, complete: true, missed: 4, epochChanged: false });
    expect(event.user).toMatchObject({ name: 'reader', room, id: reader.id });
    expect(reader.user?.id).toBe(reader.id);

    await writer.sendMessage('after');
    await until(() => got.length === 8, 'the live message after the resume');
    await sleep(100);
    expect(got.map((m) => m.message)).toEqual([
      'before-1',
      'before-2',
      'before-3',
      'away-1',
      'away-2',
      'away-3',
      'away-4',
      'after',
    ]);
    expect(got.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(got.map((m) => m.id)).size).toBe(8);
    expect(reader.lastSeen).toEqual({ room, offset: 8, epoch: got[0].epoch });
  });

  it('says complete: false when more was sent than the server retained', async () => {
    const small = await startServer({ HISTORY_SIZE: '2' });
    const room = uniqueRoom('gap');
    const reader = client(small.url);
    const writer = client(small.url);
    const got: RoomMessage[] = [];
    reader.onMessage((m) => got.push(m));
    await reader.ready();
    await writer.ready();
    await reader.login({ name: 'reader', room });
    await writer.login({ name: 'writer', room });
    await writer.sendMessage('seen');
    await until(() => got.length === 1, 'the first message');
    const resumed = nextResume(reader);
    drop(reader);
    await until(() => !reader.connected, 'the drop');
    for (let i = 1; i <= 5; i++) await writer.sendMessage(`away-${i}`);
    const event = await resumed;
    expect(event).toMatchObject({ complete: false, missed: 2 });
    expect(got.map((m) => m.message)).toEqual(['seen', 'away-4', 'away-5']);
  });

  it('history() answers explicitly and its messages are not delivered again', async () => {
    const room = uniqueRoom('explicit');
    const a = client();
    await a.ready();
    const got: RoomMessage[] = [];
    a.onMessage((m) => got.push(m));
    await a.login({ name: 'ann', room });
    const ack = await a.sendMessage('one');
    await until(() => got.length === 1, 'the message');
    const reply = await a.history();
    expect(reply).toEqual({ messages: [got[0]], offset: 1, epoch: ack.epoch, complete: true });
    expect(await a.history({ since: 1, epoch: ack.epoch })).toEqual({
      messages: [],
      offset: 1,
      epoch: ack.epoch,
      complete: true,
    });
    expect(got).toHaveLength(1);
  });
});
