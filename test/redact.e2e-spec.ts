/**
 * Redaction (protocol v1.2, `redact` / `redacted` and the server API's
 * `DELETE /rooms/:room/messages/:offset`): the sender's own retained message loses its text
 * everywhere, `history` returns its tombstone, every member hears `redacted` once; another
 * member's message is FORBIDDEN, one not retained NOT_FOUND, and nothing changes then. On one
 * node, and on two Redis nodes in the cluster configuration (history in Redis).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { HistoryReply } from '../src/common/events.js';
import { expectError, expectOk } from './helpers/assert.js';
import { closeAllClients, connect, expectNothing, newRoom, mark, say, uniqueRoom } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

const TOKEN = 'redact-spec-admin-token-0123456789abcdef';
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ ADMIN_TOKEN: TOKEN, RATE_LIMIT_PER_SEC: '0' });
});
afterEach(() => closeAllClients());
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

const room = (n: number) => newRoom(server, n, 'redact');

describe('redact', () => {
  it('removes the text of your own message: every member hears redacted, history keeps the tombstone', async () => {
    const { name, members } = await room(3);
    const [a, b, c] = members;
    const first = await say(a, 'ciphertext-to-take-back');
    const second = await say(b, 'stays');
    expectOk(await a.request('redact', { offset: first.offset, epoch: first.epoch }));
    for (const m of members) {
      expect(await m.waitFor('redacted')).toEqual({
        room: name,
        offset: first.offset,
        epoch: first.epoch,
        id: first.id,
        by: a.id,
        at: expect.any(Number),
      });
    }
    const reply = await c.request<HistoryReply>('history');
    expect(reply.messages).toEqual([
      {
        id: first.id,
        room: name,
        from: first.from,
        fromId: a.id,
        at: first.at,
        offset: first.offset,
        epoch: first.epoch,
        redacted: true,
      },
      second,
    ]);
    expect(JSON.stringify(reply)).not.toContain('ciphertext-to-take-back');
    // Again: acked, nothing sent.
    const since = mark();
    expectOk(await a.request('redact', { offset: first.offset, epoch: first.epoch }));
    await expectNothing(members, ['redacted'], since);
  });

  it("refuses another member's message (FORBIDDEN), one not retained (NOT_FOUND), bad shapes, changing nothing", async () => {
    const { members } = await room(2);
    const [a, b] = members;
    const m = await say(a, 'mine');
    const since = mark();
    expectError(await b.request('redact', { offset: m.offset, epoch: m.epoch }), 'FORBIDDEN');
    expectError(await a.request('redact', { offset: m.offset + 5, epoch: m.epoch }), 'NOT_FOUND');
    expectError(await a.request('redact', { offset: m.offset, epoch: 'another-epoch' }), 'NOT_FOUND');
    expectError(await a.request('redact', { offset: 0, epoch: m.epoch }), 'VALIDATION');
    expectError(await a.request('redact', { offset: m.offset }), 'VALIDATION');
    await expectNothing(members, ['redacted'], since);
    const reply = await b.request<HistoryReply>('history');
    expect(reply.messages).toEqual([m]);
    const stranger = await connect(server);
    expectError(await stranger.request('redact', { offset: 1, epoch: m.epoch }), 'NOT_LOGGED_IN');
  });
});

describe('DELETE /rooms/:room/messages/:offset', () => {
  const del = (room: string, offset: string, token = TOKEN) =>
    fetch(`${server.url}/rooms/${encodeURIComponent(room)}/messages/${offset}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });

  it('redacts any member’s retained message with by: server; 404 for one not retained; 401 without the token', async () => {
    const { name, members } = await room(2);
    const [a, b] = members;
    const m = await say(a, 'remove me');
    expect((await del(name, String(m.offset), 'wrong-token-of-some-length')).status).toBe(401);
    const res = await del(name, String(m.offset));
    expect(res.status).toBe(204);
    expect(await b.waitFor('redacted')).toMatchObject({ offset: m.offset, epoch: m.epoch, id: m.id, by: 'server' });
    for (const bad of [String(m.offset + 9), '0', 'x', '1.5']) {
      const r = await del(name, bad);
      expect([bad, r.status]).toEqual([bad, 404]);
      expect(await r.json()).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
    }
    expect((await del(uniqueRoom('never'), '1')).status).toBe(404);
  });
});
