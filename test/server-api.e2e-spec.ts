/**
 * The server API for the application's backend: POST /rooms/:room/notifications and
 * DELETE /rooms/:room/users/:id, on one node and across two Redis nodes (the HTTP request
 * to one node, the members on both), with real socket.io clients and real HTTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Notification, ServerNotification, User } from '../src/common/events.js';
import { expectError, expectOk, expectUserShape } from './helpers/assert.js';
import {
  closeAllClients,
  connect,
  expectNothing,
  login,
  mark,
  uniqueName,
  uniqueRoom,
  type TestClient,
} from './helpers/client.js';
import { closeAllServers, startServer } from './helpers/server.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, type RedisNode } from './helpers/redis.js';

const TOKEN = 'server-api-token';
const AUTH = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

interface Cluster {
  /** Where HTTP requests go. */
  http: string;
  /** Socket.IO urls; clients alternate between them (one url on one node). */
  sockets: string[];
}

function post(base: string, path: string, body: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function del(base: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'DELETE',
    headers,
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

const announcePath = (room: string) => `/rooms/${encodeURIComponent(room)}/notifications`;
const kickPath = (room: string, id: string) => `/rooms/${encodeURIComponent(room)}/users/${encodeURIComponent(id)}`;

async function expectValidation(res: Response, mentions?: RegExp): Promise<void> {
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: string; code: string };
  expect(body).toEqual({ error: expect.any(String), code: 'VALIDATION' });
  if (mentions) expect(body.error).toMatch(mentions);
}

/** Clients spread over the nodes, logged in to `room` one after the other. */
async function members(cluster: Cluster, room: string, n: number): Promise<{ clients: TestClient[]; users: User[] }> {
  const clients: TestClient[] = [];
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connect(cluster.sockets[i % cluster.sockets.length]);
    clients.push(c);
    users.push(await login(c, uniqueName('m'), room));
    await Promise.all(clients.map((m) => m.waitFor('users', (list) => list.length === i + 1)));
  }
  return { clients, users };
}

function serverApiSuite(name: string, setup: () => Promise<Cluster>) {
  describe(name, () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await setup();
    });

    afterEach(() => {
      closeAllClients();
    });

    describe('POST /rooms/:room/notifications', () => {
      it("reaches exactly the room's members, on every node, with the exact shape; 202 { members }", async () => {
        const room = uniqueRoom('announce');
        const { clients } = await members(cluster, room, 3);
        const other = (await members(cluster, uniqueRoom('other'), 1)).clients[0];
        const lobby = await connect(cluster.sockets[1 % cluster.sockets.length]);
        const since = mark();
        const before = Date.now();

        const res = await post(cluster.http, announcePath(room), {
          title: '  Maintenance  ',
          description: 'Back in 5 minutes\n',
          extra: 1,
        });
        expect(res.status).toBe(202);
        expect(await res.json()).toEqual({ members: 3 });

        for (const c of clients) {
          const note = (await c.waitFor('notification', (n) => n.type === 'server')) as ServerNotification;
          expect(note).toEqual({
            type: 'server',
            title: 'Maintenance',
            description: 'Back in 5 minutes',
            at: expect.any(Number),
          });
          expect(note.at).toBeGreaterThanOrEqual(before);
          expect(note.at).toBeLessThanOrEqual(Date.now());
        }
        await expectNothing([other, lobby], ['notification'], since);
        // Exactly once each.
        for (const c of clients)
          expect(c.received('notification', since).filter((n) => n.type === 'server')).toHaveLength(1);
      });

      it('404 for an empty or unknown room, and for a room that emptied', async () => {
        const res = await post(cluster.http, announcePath(uniqueRoom('nobody')), { title: 'x', description: 'y' });
        expect(res.status).toBe(404);

        const room = uniqueRoom('emptied');
        const { clients } = await members(cluster, room, 1);
        expectOk(await clients[0].request('logout'));
        expect((await post(cluster.http, announcePath(room), { title: 'x', description: 'y' })).status).toBe(404);
      });

      it('401 without the token or with a wrong one, and nothing is sent', async () => {
        const room = uniqueRoom('noauth');
        const { clients } = await members(cluster, room, 1);
        const since = mark();
        const body = { title: 'x', description: 'y' };
        expect(
          (await post(cluster.http, announcePath(room), body, { 'Content-Type': 'application/json' })).status,
        ).toBe(401);
        expect(
          (await post(cluster.http, announcePath(room), body, { ...AUTH, Authorization: 'Bearer wrong' })).status,
        ).toBe(401);
        expect((await post(cluster.http, announcePath(room), body, { ...AUTH, Authorization: TOKEN })).status).toBe(
          401,
        );
        await expectNothing(clients, ['notification'], since);
      });

      it('400 { error, code: VALIDATION } for every bad body, and nothing is sent', async () => {
        const room = uniqueRoom('bad');
        const { clients } = await members(cluster, room, 1);
        const since = mark();
        const long = 'é'.repeat(201);
        await expectValidation(await post(cluster.http, announcePath(room), { description: 'y' }), /title/);
        await expectValidation(await post(cluster.http, announcePath(room), { title: 'x' }), /description/);
        await expectValidation(
          await post(cluster.http, announcePath(room), { title: '   ', description: 'y' }),
          /title/,
        );
        await expectValidation(
          await post(cluster.http, announcePath(room), { title: long, description: 'y' }),
          /title/,
        );
        await expectValidation(
          await post(cluster.http, announcePath(room), { title: 'x', description: long }),
          /description/,
        );
        await expectValidation(
          await post(cluster.http, announcePath(room), { title: 'a\u0007b', description: 'y' }),
          /title/,
        );
        await expectValidation(
          await post(cluster.http, announcePath(room), { title: 'x', description: 'a\u007fb' }),
          /description/,
        );
        await expectValidation(await post(cluster.http, announcePath(room), { title: 5, description: 'y' }), /title/);
        await expectValidation(await post(cluster.http, announcePath(room), '{"title": "x",'));
        await expectValidation(await post(cluster.http, announcePath(room), '[1,2]'));
        await expectValidation(await post(cluster.http, announcePath(room), ''));
        await expectNothing(clients, ['notification'], since);
      });

      it('accepts exactly 200 characters counted as code points', async () => {
        const room = uniqueRoom('limits');
        const { clients } = await members(cluster, room, 1);
        const title = '😀'.repeat(200);
        const res = await post(cluster.http, announcePath(room), { title, description: 'd' });
        expect(res.status).toBe(202);
        expect((await clients[0].waitFor('notification', (n) => n.type === 'server')).title).toBe(title);
      });
    });

    describe('DELETE /rooms/:room/users/:id', () => {
      it('kicked { room, reason } to the socket, then leave and users to the others; 204', async () => {
        const room = uniqueRoom('kick');
        const { clients, users } = await members(cluster, room, 3);
        const [victim, ...others] = clients;
        const since = mark();

        const res = await del(cluster.http, kickPath(room, victim.id));
        expect(res.status).toBe(204);
        expect(await res.text()).toBe('');

        expect(await victim.waitFor('kicked')).toEqual({ room, reason: 'Removed from the room' });
        for (const c of others) {
          const leave = (await c.waitFor('notification', (n) => n.type === 'leave')) as Notification;
          expect(leave.user).toEqual(users[0]);
          expectUserShape(leave.user);
          const list = await c.waitFor('users', (l) => l.length === 2);
          expect(list).toEqual(users.slice(1));
        }
        // The kicked socket hears nothing about itself, stays connected and is logged out.
        await expectNothing([victim], ['notification', 'users'], since);
        expect(victim.connected).toBe(true);
        expectError(await victim.request('listUsers'), 'NOT_LOGGED_IN');
        expectError(await victim.request('roomMessage', { message: 'hi' }), 'NOT_LOGGED_IN');
        expect(victim.received('kicked', since)).toHaveLength(1);

        // It may log in again, to the same room (and the others see it join).
        const again = await login(victim, users[0].name, room);
        expect(again.id).toBe(victim.id);
        await others[0].waitFor('notification', (n) => n.type === 'join' && n.user.id === victim.id);
      });

      it('takes the reason from the body, trimmed', async () => {
        const room = uniqueRoom('reason');
        const { clients } = await members(cluster, room, 1);
        expect((await del(cluster.http, kickPath(room, clients[0].id), { reason: '  Spamming  ' })).status).toBe(204);
        expect(await clients[0].waitFor('kicked')).toEqual({ room, reason: 'Spamming' });
      });

      it('404 when the socket is not a member of that room; nothing changes', async () => {
        const room = uniqueRoom('k404');
        const { clients } = await members(cluster, room, 2);
        const stranger = await connect(cluster.sockets[0]);
        const since = mark();
        expect((await del(cluster.http, kickPath(room, 'no-such-socket'))).status).toBe(404);
        expect((await del(cluster.http, kickPath(room, stranger.id))).status).toBe(404);
        expect((await del(cluster.http, kickPath(uniqueRoom('elsewhere'), clients[0].id))).status).toBe(404);
        await expectNothing([...clients, stranger], ['kicked', 'notification', 'users'], since);
        expect((await clients[1].request<{ users: User[] }>('listUsers')).users).toHaveLength(2);
      });

      it('401 without the token, 400 for a bad reason; nothing changes', async () => {
        const room = uniqueRoom('kbad');
        const { clients } = await members(cluster, room, 1);
        const since = mark();
        expect((await del(cluster.http, kickPath(room, clients[0].id), undefined, {})).status).toBe(401);
        await expectValidation(await del(cluster.http, kickPath(room, clients[0].id), { reason: '' }), /reason/);
        await expectValidation(
          await del(cluster.http, kickPath(room, clients[0].id), { reason: 'x'.repeat(201) }),
          /reason/,
        );
        await expectValidation(await del(cluster.http, kickPath(room, clients[0].id), { reason: 'a\nb' }), /reason/);
        await expectValidation(await del(cluster.http, kickPath(room, clients[0].id), { reason: 42 }), /reason/);
        await expectNothing(clients, ['kicked', 'notification', 'users'], since);
        expectOk(await clients[0].request('listUsers'));
      });
    });
  });
}

serverApiSuite('server API, one node', async () => {
  const server = await startServer({ ADMIN_TOKEN: TOKEN });
  return { http: server.url, sockets: [server.url] };
});

describe('server API without ADMIN_TOKEN', () => {
  it('answers 404 to every request, with or without a token', async () => {
    const server = await startServer();
    const c = await connect(server);
    const room = uniqueRoom('plain');
    await login(c, 'alice', room);
    const since = mark();
    expect((await post(server.url, announcePath(room), { title: 'x', description: 'y' })).status).toBe(404);
    expect((await del(server.url, kickPath(room, c.id))).status).toBe(404);
    await expectNothing([c], ['notification', 'kicked'], since);
    closeAllClients();
  });
});

const describeRedis = await describeWithRedis('server-api.e2e-spec');
const prefix = runPrefix('server-api');
const nodes: RedisNode[] = [];

describeRedis('across two Redis nodes', () => {
  serverApiSuite('server API, HTTP to node A, members on both', async () => {
    nodes.push(await startNode(prefix, { ADMIN_TOKEN: TOKEN }), await startNode(prefix, { ADMIN_TOKEN: TOKEN }));
    // Members alternate, starting with node B, so the kicked socket lives on the other node.
    return { http: nodes[0].url, sockets: [nodes[1].url, nodes[0].url] };
  });
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
  await Promise.all(nodes.map((n) => n.close()));
  await deletePrefix(prefix);
});
