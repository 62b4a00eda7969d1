/**
 * Reconnection in Redis mode: a client whose transport drops on one node and that
 * reconnects to another is recovered there (same id, missed events delivered), and the
 * first node's window does not log it out afterwards.
 * Skips with one line when Redis is not reachable (fails instead with REQUIRE_REDIS=1).
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { User } from '../src/common/events.js';
import { expectOk } from './helpers/assert.js';
import { closeAllClients, connect, login, mark, sleep, uniqueRoom, type TestClient } from './helpers/client.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, type RedisNode } from './helpers/redis.js';

const describeRedis = await describeWithRedis('redis-recovery.e2e-spec');
const WINDOW_MS = 2500;

function reconnected(client: TestClient, timeout = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reconnect')), timeout);
    client.socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describeRedis('recovery across nodes', () => {
  const prefix = runPrefix('recovery');
  let a: RedisNode;
  let b: RedisNode;

  beforeAll(async () => {
    a = await startNode(prefix, { RECOVERY_WINDOW_MS: String(WINDOW_MS) });
    b = await startNode(prefix, { RECOVERY_WINDOW_MS: String(WINDOW_MS) });
  });
  afterEach(() => closeAllClients());
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deletePrefix(prefix);
  });

  it('recovers on the second node and stays logged in after the first node’s window', async () => {
    const room = uniqueRoom();
    const x = await connect(a.url, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const y = await connect(b.url);
    const ux = await login(x, 'xena', room);
    await login(y, 'yann', room);
    await x.waitFor('users', (u) => u.length === 2);
    expectOk(await y.request('call', { userToCall: x.id }));
    await x.waitFor('call');
    expectOk(await x.request('answer', { to: y.id, signal: 'ok' }));
    const since = mark();

    // The next connection attempt goes to node B.
    (x.socket.io as unknown as { uri: string }).uri = b.url;
    const back = reconnected(x);
    x.socket.io.engine.close();
    await sleep(30);
    const sent = await y.request<{ id: string }>('roomMessage', { message: 'while-away' });
    expectOk(await y.request('signal', { to: ux.id, signal: 'during-drop' }));
    await back;

    expect(x.socket.id).toBe(ux.id);
    expect(x.socket.recovered).toBe(true);
    expect((await x.waitFor('roomMessage', (m) => m.id === sent.id)).message).toBe('while-away');
    expect((await x.waitFor('signal')).signal).toBe('during-drop');

    // Past node A's window: still there, still in the call, and nobody heard of a drop.
    await sleep(WINDOW_MS + 1500);
    const users = await y.request<{ users: User[] }>('listUsers');
    expect(users.users.map((u) => u.id)).toContain(ux.id);
    expectOk(await x.request('signal', { to: y.id, signal: 'after' }));
    expect((await y.waitFor('signal')).from).toBe(ux.id);
    await y.barrier();
    expect(y.eventsSince(since).filter((e) => ['notification', 'users', 'ended'].includes(e))).toEqual([]);
  }, 20_000);
  it('drop on A, recovered on B, dropped on B before A’s window ends: nothing until B’s window ends, then leave, users, ended', async () => {
    const room = uniqueRoom();
    const x = await connect(a.url, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const y = await connect(b.url);
    const ux = await login(x, 'xavi', room);
    await login(y, 'yuri', room);
    await x.waitFor('users', (u) => u.length === 2);
    expectOk(await y.request('call', { userToCall: x.id }));
    await x.waitFor('call');
    expectOk(await x.request('answer', { to: y.id, signal: 'ok' }));
    // Recovery needs an offset: one room broadcast received.
    const first = await y.request<{ id: string }>('roomMessage', { message: 'offset' });
    await x.waitFor('roomMessage', (m) => m.id === first.id);
    const since = mark();

    // First drop, on A; the reconnection goes to B and is recovered there.
    (x.socket.io as unknown as { uri: string }).uri = b.url;
    const back = reconnected(x);
    const droppedOnA = Date.now();
    x.socket.io.engine.close();
    await back;
    expect(x.socket.id).toBe(ux.id);
    expect(x.socket.recovered).toBe(true);

    // Second drop, on B, for good, well before A's window ends.
    await sleep(Math.max(0, 800 - (Date.now() - droppedOnA)));
    x.socket.io.reconnection(false);
    const droppedOnB = Date.now();
    x.socket.io.engine.close();

    // A's window ends (droppedOnA + WINDOW_MS): nothing; until B's, nothing at all.
    await sleep(Math.max(0, droppedOnB + WINDOW_MS - 300 - Date.now()));
    await y.barrier();
    expect(y.eventsSince(since).filter((e) => ['notification', 'users', 'ended'].includes(e))).toEqual([]);

    // Then B's window ends: the departure, as by a disconnect.
    const leave = await y.waitFor('notification', (n) => n.type === 'leave', 3000);
    expect('user' in leave && leave.user.id).toBe(ux.id);
    expect(Date.now() - droppedOnB).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    expect(await y.waitFor('users', (u) => !u.some((m) => m.id === ux.id))).toEqual([
      expect.objectContaining({ name: 'yuri' }),
    ]);
    expect(await y.waitFor('ended')).toEqual({ from: ux.id, reason: 'disconnected' });
  }, 20_000);

  // While a client is being recovered, messages keep coming: each acked one reaches it
  // exactly once and in order, whether it arrived before the session was read, between the
  // read and the socket joining its rooms, or while its middlewares ran.
  for (const target of ['the other node', 'the same node'] as const) {
    it(`every message sent during a recovery on ${target} arrives once, in order`, async () => {
      for (let round = 0; round < 5; round++) {
        const room = uniqueRoom();
        const x = await connect(a.url, { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 40 });
        const y = await connect(b.url);
        await login(x, 'xeno', room);
        await login(y, 'ygor', room);
        const first = await y.request<{ id: string }>('roomMessage', { message: 'first' });
        await x.waitFor('roomMessage', (m) => m.id === first.id);
        if (target === 'the other node') (x.socket.io as unknown as { uri: string }).uri = b.url;

        let sending = true;
        const acks: Promise<{ id: string }>[] = [];
        const pump = (async () => {
          while (sending) {
            acks.push(y.request<{ id: string }>('roomMessage', { message: `m${acks.length}` }));
            await sleep(2);
          }
        })();
        await sleep(15);
        const back = reconnected(x);
        x.socket.io.engine.close();
        await back;
        await sleep(100);
        sending = false;
        await pump;
        const sent = await Promise.all(acks);
        sent.forEach((ack) => expectOk(ack));
        const last = sent[sent.length - 1];
        await x.waitFor('roomMessage', (m) => m.id === last.id);
        await sleep(200); // any duplicate would have come by now

        const got = x.log
          .filter((r) => r.event === 'roomMessage')
          .map((r) => (r.args[0] as { message: string }).message);
        expect({ round, recovered: x.socket.recovered, got }).toEqual({
          round,
          recovered: true,
          got: ['first', ...sent.map((_, i) => `m${i}`)],
        });
        closeAllClients();
      }
    }, 30_000);
  }
});
