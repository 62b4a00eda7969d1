/**
 * MAX_CONNECTIONS_PER_IP: concurrent Socket.IO connections per client address.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { closeAllClients, connect, login, sleep, uniqueRoom, type TestClient } from './helpers/client.js';
import { ConnectionCounter } from '../src/security/connection-counter.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

afterEach(async () => {
  closeAllClients();
  await closeAllServers();
});
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

/** Connects, or returns the connect_error. */
async function attempt(server: TestServer, opts: Record<string, unknown> = {}): Promise<TestClient | Error> {
  try {
    return await connect(server.url, opts);
  } catch (err) {
    return err as Error;
  }
}

/** Retries for a while: a slot is given back when the server has seen the disconnect. */
async function connectEventually(server: TestServer, timeout = 3000): Promise<TestClient> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const c = await attempt(server);
    if (!(c instanceof Error)) return c;
    if (Date.now() > deadline) throw c;
    await sleep(50);
  }
}

/** A bare Engine.IO WebSocket that completes the handshake (the `open` packet) and then sends nothing. */
async function rawWebSocket(server: TestServer): Promise<WebSocket> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  await new Promise<void>((resolve, reject) => {
    ws.once('message', (data: Buffer) => (String(data).startsWith('0') ? resolve() : reject(new Error(String(data)))));
    ws.once('error', reject);
  });
  return ws;
}

/** A bare Engine.IO polling handshake, never followed by a poll; resolves to its session id. */
async function rawPollingHandshake(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
  const body = await res.text();
  expect(body.startsWith('0')).toBe(true);
  return (JSON.parse(body.slice(1)) as { sid: string }).sid;
}

describe('MAX_CONNECTIONS_PER_IP, from the Engine.IO handshake', () => {
  it('counts a WebSocket that never joins a namespace, and gives its slot back when it closes', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '2' });
    const silent = [await rawWebSocket(server), await rawWebSocket(server)];
    const refused = await attempt(server);
    expect((refused as Error).message).toBe('TOO_MANY_CONNECTIONS');
    silent[0].close();
    const c = await connectEventually(server);
    expect(await c.request('ping')).toBe(c.id);
    silent[1].close();
  });

  it('counts a polling handshake that never polls again', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '1' });
    await rawPollingHandshake(server);
    const refused = await attempt(server);
    expect((refused as Error).message).toBe('TOO_MANY_CONNECTIONS');
    expect(await server.app.get(ConnectionCounter).count('127.0.0.1')).toBe(1);
  });

  it('counts a connection that only asked for an unknown namespace', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '1' });
    const stray = io(`${server.url}/no-such-namespace`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    const strayError = await new Promise<Error>((resolve) => stray.once('connect_error', resolve));
    expect(strayError.message).toBe('Invalid namespace');
    const refused = await attempt(server);
    expect((refused as Error).message).toBe('TOO_MANY_CONNECTIONS');
    stray.io.engine.close();
    await connectEventually(server);
  });

  it('closes a connection over the limit that never joins a namespace, soon', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '1' });
    await rawWebSocket(server);
    const over = await rawWebSocket(server);
    const closed = await new Promise<boolean>((resolve) => {
      over.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    expect(closed).toBe(true);
    expect(await server.app.get(ConnectionCounter).count('127.0.0.1')).toBe(1);
  });
});

describe('MAX_CONNECTIONS_PER_IP', () => {
  it('refuses one connection more with connect_error TOO_MANY_CONNECTIONS, disturbing nobody', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '3' });
    const open = [await connect(server.url), await connect(server.url), await connect(server.url)];
    for (let i = 0; i < 5; i++) {
      const refused = await attempt(server);
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).message).toBe('TOO_MANY_CONNECTIONS');
      expect((refused as Error & { data?: unknown }).data).toEqual({
        code: 'TOO_MANY_CONNECTIONS',
        error: expect.any(String),
      });
    }
    for (const c of open) expect(await c.request('ping')).toBe(c.id);
    // Refused attempts took no slot: one close frees exactly one.
    open[0].close();
    const again = await connectEventually(server);
    expect(await again.request('ping')).toBe(again.id);
    expect(await attempt(server)).toBeInstanceOf(Error);
  });

  it('counts polling connections too', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '1' });
    const a = await connect(server.url, { transports: ['polling'] });
    const refused = await attempt(server, { transports: ['polling'] });
    expect((refused as Error).message).toBe('TOO_MANY_CONNECTIONS');
    a.close();
    await connectEventually(server);
  });

  it('gives every slot back: many connect/disconnect cycles never exhaust the limit', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '2' });
    for (let i = 0; i < 30; i++) {
      const c = await connectEventually(server);
      c.close();
    }
    const [a, b] = [await connectEventually(server), await connectEventually(server)];
    expect(a.connected && b.connected).toBe(true);
    a.close();
    b.close();
    await sleep(200);
    expect(await server.app.get(ConnectionCounter).count('127.0.0.1')).toBe(0);
  });

  it('gives back the slot of a client that leaves during the handshake', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '50' });
    // A slow store (as Redis may be): the client is gone before the count comes back.
    const counter = server.app.get(ConnectionCounter);
    const acquire = counter.acquire.bind(counter);
    counter.acquire = async (ip: string) => {
      const lease = await acquire(ip);
      await sleep(60);
      return lease;
    };
    const raw = Array.from({ length: 40 }, (_, i) => {
      const s = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
      // Closed during the handshake, mostly while the server is still counting.
      setTimeout(() => s.io.engine?.close(), 20 + (i % 8) * 10);
      return s;
    });
    await sleep(1000);
    for (const s of raw) s.disconnect();
    await sleep(200);
    expect(await counter.count('127.0.0.1')).toBe(0);
  });

  it('is generous by default (1000)', async () => {
    const server = await startServer({});
    const clients = await Promise.all(Array.from({ length: 60 }, () => connect(server.url)));
    expect(clients.every((c) => c.connected)).toBe(true);
  });

  it('keeps the slot of a connection held for recovery until its window ends', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '2', RECOVERY_WINDOW_MS: '1500' });
    const a = await connect(server.url);
    await connect(server.url);
    // The transport drops (not a client disconnect()): the session is held.
    a.socket.io.engine.close();
    await sleep(200);
    expect(((await attempt(server)) as Error).message).toBe('TOO_MANY_CONNECTIONS');
    await sleep(1500);
    const c = await connectEventually(server);
    expect(c.connected).toBe(true);
  });

  it('a session recovered within the window keeps its slot', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '1', RECOVERY_WINDOW_MS: '5000' });
    const a = await connect(server.url, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    await login(a, 'alice', uniqueRoom()); // a room broadcast gives the client an offset to recover from
    await a.waitFor('users');
    const id = a.socket.id;
    const reconnected = new Promise<void>((resolve) => a.socket.once('connect', () => resolve()));
    a.socket.io.engine.close();
    await reconnected;
    expect(a.socket.recovered).toBe(true);
    expect(a.socket.id).toBe(id);
    expect(await a.request('ping')).toBe(id);
    // Still only one slot in use.
    expect(((await attempt(server)) as Error).message).toBe('TOO_MANY_CONNECTIONS');
  });
});
