/**
 * The Socket.IO admin UI behind ADMIN_UI=true: a socket.io client on /admin gets in with
 * the configured credentials (checked against a bcrypt hash) and is refused without them;
 * read-only by default; CORS admits the hosted UI's origin only while it is on; with two
 * Redis nodes the dashboard hears from both.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { io, type Socket } from 'socket.io-client';
import { createApp } from '../src/app.js';
import { closeAllServers, startServer } from './helpers/server.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, type RedisNode } from './helpers/redis.js';

const USERNAME = 'ops';
const PASSWORD = 'correct horse battery';
// bcrypt (cost 4, for speed) of PASSWORD.
const HASH = '$2a$04$UR3kV1hOTLNWnZ1h86C4xe4XhKtRMddPW9T70nxj.xyDIoel.TmoK';
const ON = { ADMIN_UI: 'true', ADMIN_UI_USERNAME: USERNAME, ADMIN_UI_PASSWORD_HASH: HASH };

const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  await closeAllServers();
});

/** Connects to /admin; resolves with the socket and its first `config`, or rejects with the connect_error message. */
function admin(
  url: string,
  auth?: Record<string, string>,
): Promise<{ socket: Socket; config: { supportedFeatures: string[] } }> {
  const socket = io(`${url}/admin`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(auth && { auth }),
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), 3000);
    socket.once('config', (config) => {
      clearTimeout(timer);
      resolve({ socket, config });
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('configuration', () => {
  it('refuses to start without the username or the hash, or with a plain password as the hash', async () => {
    await expect(createApp({ env: { ADMIN_UI: 'true', ADMIN_UI_PASSWORD_HASH: HASH }, logger: false })).rejects.toThrow(
      /ADMIN_UI_USERNAME/,
    );
    await expect(createApp({ env: { ADMIN_UI: 'true', ADMIN_UI_USERNAME: USERNAME }, logger: false })).rejects.toThrow(
      /ADMIN_UI_PASSWORD_HASH/,
    );
    await expect(createApp({ env: { ...ON, ADMIN_UI_PASSWORD_HASH: PASSWORD }, logger: false })).rejects.toThrow(
      /ADMIN_UI_PASSWORD_HASH.*bcrypt/,
    );
  });
});

describe('ADMIN_UI=true', () => {
  it('lets a client with the credentials in, read-only by default', async () => {
    const server = await startServer(ON);
    const { socket, config } = await admin(server.url, { username: USERNAME, password: PASSWORD });
    expect(socket.connected).toBe(true);
    // Read-only: no emit/join/leave/disconnect actions, and never every event's arguments.
    expect(config.supportedFeatures).toEqual(['AGGREGATED_EVENTS']);
  });

  it('offers the actions with ADMIN_UI_READONLY=false', async () => {
    const server = await startServer({ ...ON, ADMIN_UI_READONLY: 'false' });
    const { config } = await admin(server.url, { username: USERNAME, password: PASSWORD });
    expect(config.supportedFeatures).toEqual(expect.arrayContaining(['DISCONNECT', 'AGGREGATED_EVENTS']));
    expect(config.supportedFeatures).not.toContain('ALL_EVENTS');
  });

  it('refuses a client without credentials, with a wrong password or a wrong username', async () => {
    const server = await startServer(ON);
    await expect(admin(server.url)).rejects.toThrow(/invalid credentials/);
    await expect(admin(server.url, { username: USERNAME, password: 'wrong' })).rejects.toThrow(/invalid credentials/);
    await expect(admin(server.url, { username: 'root', password: PASSWORD })).rejects.toThrow(/invalid credentials/);
    // The hash itself is not the password.
    await expect(admin(server.url, { username: USERNAME, password: HASH })).rejects.toThrow(/invalid credentials/);
  });

  it('refuses a username without a password, or with a number, and the server carries on', async () => {
    // On the library's own check these handshakes reached bcrypt, whose rejection nobody
    // handled: the process ended. Recorded here so that an unhandled rejection fails the spec.
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const server = await startServer(ON);
      await expect(admin(server.url, { username: USERNAME })).rejects.toThrow(/invalid credentials/);
      await expect(admin(server.url, { username: USERNAME, password: 42 as never })).rejects.toThrow(
        /invalid credentials/,
      );
      await expect(admin(server.url, { username: { length: 1 } as never, password: ['x'] as never })).rejects.toThrow(
        /invalid credentials/,
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(unhandled).toEqual([]);
      const { socket } = await admin(server.url, { username: USERNAME, password: PASSWORD });
      expect(socket.connected).toBe(true);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('throttles failed logins per address: past the allowance even the right password waits', async () => {
    const server = await startServer(ON);
    for (let i = 0; i < 5; i += 1) {
      await expect(admin(server.url, { username: USERNAME, password: `guess ${i}` })).rejects.toThrow(
        /invalid credentials/,
      );
    }
    await expect(admin(server.url, { username: USERNAME, password: 'one more' })).rejects.toThrow(
      /invalid credentials/,
    );
    await expect(admin(server.url, { username: USERNAME, password: PASSWORD })).rejects.toThrow(/too many failed/);
  });

  it('gives a dashboard that logged in a session id it can reconnect with, without the password', async () => {
    const server = await startServer(ON);
    const first = io(`${server.url}/admin`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      auth: { username: USERNAME, password: PASSWORD },
    });
    sockets.push(first);
    const sessionId = await new Promise<string>((resolve) => first.once('session', resolve));
    expect(sessionId).toMatch(/^[\w-]{16,}$/);
    const { socket } = await admin(server.url, { sessionId });
    expect(socket.connected).toBe(true);
    await expect(admin(server.url, { sessionId: 'made-up' })).rejects.toThrow(/invalid credentials/);
  });

  it('serves the dashboard itself under /admin/, with no link off the server', async () => {
    const server = await startServer(ON);
    const bare = await fetch(`${server.url}/admin`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/admin/');
    const page = await fetch(`${server.url}/admin/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Socket.IO Admin UI');
    expect(html).not.toMatch(/https?:\/\//);
    const scripts = [...html.matchAll(/src="([^"]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const res = await fetch(`${server.url}/admin/${src}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
    }
  });

  it("allows the hosted UI's origin in CORS", async () => {
    const server = await startServer(ON);
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: 'https://admin.socket.io' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://admin.socket.io');
  });
});

describe('ADMIN_UI off (default)', () => {
  it('has no /admin namespace, no dashboard and no CORS for the hosted UI', async () => {
    const server = await startServer({ ADMIN_UI_USERNAME: USERNAME, ADMIN_UI_PASSWORD_HASH: HASH });
    expect((await fetch(`${server.url}/admin/`)).status).toBe(404);
    await expect(admin(server.url, { username: USERNAME, password: PASSWORD })).rejects.toThrow(/Invalid namespace/);
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: 'https://admin.socket.io' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

const describeRedis = await describeWithRedis('admin-ui.e2e-spec');

describeRedis('two Redis nodes', () => {
  const prefix = runPrefix('admin-ui');
  const nodes: RedisNode[] = [];

  afterAll(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await Promise.all(nodes.map((n) => n.close()));
    await deletePrefix(prefix);
  });

  it('a dashboard connected to one node hears the stats of both', async () => {
    nodes.push(await startNode(prefix, ON), await startNode(prefix, ON));
    await expect(admin(nodes[1].url)).rejects.toThrow(/invalid credentials/);
    const { socket } = await admin(nodes[0].url, { username: USERNAME, password: PASSWORD });
    const servers = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`stats from ${[...servers].join(', ') || 'no node'} only`)),
        6000,
      );
      socket.on('server_stats', (stats: { serverId: string }) => {
        servers.add(stats.serverId);
        if (servers.size === 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(servers.size).toBe(2);
  });
});
