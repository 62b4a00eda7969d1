import { afterAll, describe, expect, it } from '@jest/globals';
import { RealtimeService } from '../src/common/realtime/realtime.service.js';
import { closeAllClients, connect, type TestClient } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

interface RawSocket {
  writableCorked: number;
  _writev?: (...args: unknown[]) => unknown;
  _write: (...args: unknown[]) => unknown;
}

/** Counts the writes the server's TCP socket for `client` hands to the kernel. */
function countWrites(server: TestServer, client: TestClient): { raw: RawSocket; writes: () => number } {
  const socket = server.app.get(RealtimeService).server.of('/').sockets.get(client.id!)!;
  const raw = (socket.conn as unknown as { transport: { socket: { _socket: RawSocket } } }).transport.socket._socket;
  let writes = 0;
  for (const key of ['_writev', '_write'] as const) {
    const original = raw[key];
    if (!original) continue;
    raw[key] = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
  }
  return { raw, writes: () => writes };
}

/** Three notifications to one socket in one turn of the event loop, then what the client got. */
async function burst(server: TestServer, client: TestClient): Promise<{ corkedAfterEmit: number; writes: number }> {
  const { raw, writes } = countWrites(server, client);
  const io = server.app.get(RealtimeService).server;
  for (const n of [1, 2, 3]) {
    io.to(client.id!).emit('notification', { type: 'server', title: `t${n}`, description: 'd', at: n });
  }
  const corkedAfterEmit = raw.writableCorked;
  for (const n of [1, 2, 3]) await client.waitFor('notification', (p) => (p as { at: number }).at === n);
  const titles = client.received('notification').map((p) => (p as { title: string }).title);
  expect(titles).toEqual(['t1', 't2', 't3']);
  return { corkedAfterEmit, writes: writes() };
}

describe('write coalescing', () => {
  afterAll(async () => {
    closeAllClients();
    await closeAllServers();
  });

  it('holds a turn’s frames to one client and writes them together, in order', async () => {
    const server = await startServer();
    const client = await connect(server.url);
    const { corkedAfterEmit, writes } = await burst(server, client);
    expect(corkedAfterEmit).toBeGreaterThan(0);
    // the first frame, then the two Engine.IO queued meanwhile
    expect(writes).toBeLessThanOrEqual(2);
  });

  it('in a long turn, writes what it holds once the coalescing window has passed', async () => {
    const server = await startServer();
    const [a, b] = [await connect(server.url), await connect(server.url)];
    const rawA = countWrites(server, a).raw;
    const rawB = countWrites(server, b).raw;
    const io = server.app.get(RealtimeService).server;
    io.to(a.id!).emit('notification', { type: 'server', title: 'to a', description: 'd', at: 1 });
    const aHeld = rawA.writableCorked;
    // the same turn goes on, busy, past the window (0.5 ms)
    const until = performance.now() + 5;
    while (performance.now() < until);
    io.to(b.id!).emit('notification', { type: 'server', title: 'to b', description: 'd', at: 2 });
    const [aAfter, bHeld] = [rawA.writableCorked, rawB.writableCorked];
    expect({ aHeld, aAfter, bHeld }).toEqual({ aHeld: 1, aAfter: 0, bHeld: 1 });
    await a.waitFor('notification', (p) => (p as { at: number }).at === 1);
    await b.waitFor('notification', (p) => (p as { at: number }).at === 2);
  });

  it('writes each frame at once with WRITE_COALESCING=false', async () => {
    const server = await startServer({ WRITE_COALESCING: 'false' });
    const client = await connect(server.url);
    const { corkedAfterEmit, writes } = await burst(server, client);
    expect(corkedAfterEmit).toBe(0);
    expect(writes).toBe(3);
  });
});
