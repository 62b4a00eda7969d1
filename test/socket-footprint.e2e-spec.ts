import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RealtimeService } from '../src/common/realtime/realtime.service.js';
import { closeAllClients, connect, joinRoom, uniqueRoom } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

/**
 * What a connection costs the server beyond Socket.IO's own objects: the handlers are the
 * same listener functions on every socket (no closure per handler per socket), and the HTTP
 * upgrade request is let go once the socket is connected, while the handshake copy stays.
 */
describe('per-socket footprint', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    closeAllClients();
    await closeAllServers();
  });

  it('shares every handler listener between sockets, and each socket still gets its own replies', async () => {
    const [a, b] = [await connect(server.url), await connect(server.url)];
    await joinRoom([a, b], uniqueRoom('footprint'), ['ann', 'ben']);
    const io = server.app.get(RealtimeService).server;
    const [sa, sb] = [io.of('/').sockets.get(a.id)!, io.of('/').sockets.get(b.id)!];
    const events = ['login', 'roomMessage', 'call', 'signal', 'hangup', 'history'] as const;
    for (const e of events) {
      expect(sa.listeners(e)).toHaveLength(1);
      expect(sa.listeners(e)[0]).toBe(sb.listeners(e)[0]);
    }
    // The shared listener finds each socket's own handler: each sender's ack names itself.
    expect(await a.request('ping')).toBe(a.id);
    expect(await b.request('ping')).toBe(b.id);
  });

  it('releases the upgrade request after connecting, keeping the handshake', async () => {
    const c = await connect(server.url);
    const socket = server.app.get(RealtimeService).server.of('/').sockets.get(c.id)!;
    expect(socket.conn.request).toBeUndefined();
    expect(socket.handshake.headers.host).toMatch(/127\.0\.0\.1/);
    expect(socket.handshake.address).toMatch(/127\.0\.0\.1/);
  });
});
