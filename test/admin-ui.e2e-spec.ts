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

  it("allows the hosted UI's origin in CORS", async () => {
    const server = await startServer(ON);
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: 'https://admin.socket.io' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://admin.socket.io');
  });
});

describe('ADMIN_UI off (default)', () => {
  it('has no /admin namespace and no CORS for the hosted UI', async () => {
    const server = await startServer({ ADMIN_UI_USERNAME: USERNAME, ADMIN_UI_PASSWORD_HASH: HASH });
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
