import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RealtimeService } from '../src/common/realtime/realtime.service.js';
import { closeAllClients, connect, joinRoom, sleep, uniqueRoom } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** What the server holds for a socket, reached the way Socket.IO's internals are. */
interface Internals {
  dispatch: unknown;
  _events: Record<string, unknown>;
}

/**
 * What a connection costs the server beyond Socket.IO's own objects: gateway events are
 * routed through one table every socket shares (no listener per event per socket), each
 * socket has one `disconnect` listener for all gateways, and the HTTP upgrade request is let
 * go once the socket is connected.
 */
describe('per-socket footprint', () => {
  let server: TestServer;
  const io = () => server.app.get(RealtimeService).server;
  const serverSocket = (id: string | undefined) => io().of('/').sockets.get(id!)!;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    closeAllClients();
    await closeAllServers();
  });

  it('routes gateway events through one shared dispatch, and each socket still gets its own replies', async () => {
    const [a, b] = [await connect(server.url), await connect(server.url)];
    await joinRoom([a, b], uniqueRoom('footprint'), ['ann', 'ben']);
    const [sa, sb] = [serverSocket(a.id), serverSocket(b.id)];
    for (const e of ['login', 'roomMessage', 'call', 'signal', 'hangup', 'history', 'ready'] as const) {
      expect(sa.listenerCount(e)).toBe(0);
    }
    const [ia, ib] = [sa as unknown as Internals, sb as unknown as Internals];
    expect(typeof ia.dispatch).toBe('function');
    expect(ia.dispatch).toBe(ib.dispatch);
    expect(Object.keys(ia._events).sort()).toEqual(['disconnect', 'error']);
    // The route finds each socket's own handler: each sender's ack names itself.
    expect(await a.request('ping')).toBe(a.id);
    expect(await b.request('ping')).toBe(b.id);
  });

  it('still calls a listener a developer adds for a gateway event, after the gateway', async () => {
    const c = await connect(server.url);
    const seen: unknown[] = [];
    serverSocket(c.id).on('ping', (...args: unknown[]) => seen.push(args.length));
    expect(await c.request('ping')).toBe(c.id);
    await sleep(50);
    expect(seen).toEqual([1]);
  });

  it('runs every gateway disconnect handler from one listener per socket', async () => {
    const [a, b] = [await connect(server.url), await connect(server.url)];
    await joinRoom([a, b], uniqueRoom('footprint-dc'), ['ann', 'ben']);
    const sa = serverSocket(a.id);
    // the connection guard's and the gateways' (one for all of them), no `once` wrappers
    expect(sa.listeners('disconnect')).toHaveLength(2);
    expect(sa.rawListeners('disconnect')).toEqual(sa.listeners('disconnect'));
    expect(sa.listeners('disconnect')).toEqual(serverSocket(b.id).listeners('disconnect'));
    a.close();
    // the leave that the session gateway's disconnect handler starts still reaches the room
    const users = await b.waitFor('users', (list) => list.length === 1);
    expect(users.map((u) => u.name)).toEqual(['ben']);
  });

  it('lets the upgrade request go after connecting; the headers are there while the socket connects', async () => {
    let request: WeakRef<object> | undefined;
    let response: WeakRef<object> | undefined;
    let hostDuringConnect: string | undefined;
    const onEngineConnection = (raw: { request: object }) => (request = new WeakRef(raw.request));
    io().engine.on('connection', onEngineConnection);
    io().engine.use((_req: object, res: object, next: () => void) => {
      response ??= new WeakRef(res);
      next();
    });
    io().use((socket, next) => {
      hostDuringConnect ??= socket.handshake.headers.host;
      next();
    });
    const c = await connect(server.url);
    io().engine.off('connection', onEngineConnection);
    const socket = serverSocket(c.id);
    expect(hostDuringConnect).toMatch(/127\.0\.0\.1/);
    expect(socket.conn.request).toBeUndefined();
    expect(socket.handshake.headers).toEqual({});
    expect(socket.handshake.address).toMatch(/127\.0\.0\.1/);
    await sleep(20);
    gc();
    expect(request).toBeDefined();
    expect(request!.deref()).toBeUndefined();
    expect(response).toBeDefined();
    expect(response!.deref()).toBeUndefined();
    const ws = (socket.conn as unknown as { transport: { socket: { listeners(e: string): Array<{ name: string }> } } })
      .transport.socket;
    expect(ws.listeners('error').map((l) => l.name)).not.toContain('onUpgradeError');
    expect(await c.request('ping')).toBe(c.id);
  });
});
