/**
 * Reconnection without losing the room (RECOVERY_WINDOW_MS): a dropped transport keeps the
 * socket's place for the window; Socket.IO recovery resumes it with the same id and the
 * events it missed; otherwise it departs when the window ends.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Notification, User } from '../src/common/events.js';
import { expectOk } from './helpers/assert.js';
import { closeAllClients, connect, joinRoom, mark, sleep, uniqueRoom, type TestClient } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { hsToken, SECRET } from './helpers/tokens.js';

afterEach(async () => {
  closeAllClients();
  await closeAllServers();
});

/** Closes the client's transport from its side, as a network drop would (not disconnect()). */
function dropTransport(client: TestClient): void {
  client.socket.io.engine.close();
}

function reconnected(client: TestClient, timeout = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reconnect')), timeout);
    client.socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const recoverable = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function pairInRoom(server: TestServer, aOpts = {}) {
  const a = await connect(server, aOpts);
  const b = await connect(server);
  const room = uniqueRoom();
  const [ua, ub] = await joinRoom([a, b], room, ['alice', 'bob']);
  return { a, b, room, ua, ub };
}

describe('with RECOVERY_WINDOW_MS set', () => {
  it('recovers a dropped socket: same id, nothing told to the room, missed messages delivered', async () => {
    const server = await startServer({ RECOVERY_WINDOW_MS: '5000' });
    const { a, b, ua } = await pairInRoom(server, recoverable);
    const since = mark();

    const back = reconnected(a);
    dropTransport(a);
    await sleep(20);
    // Sent while alice's transport is down.
    const ack = await b.request<{ id: string }>('roomMessage', { message: 'while-you-were-away' });
    await back;

    expect(a.socket.id).toBe(ua.id);
    expect(a.socket.recovered).toBe(true);
    const missed = await a.waitFor('roomMessage', (m) => m.id === ack.id);
    expect(missed.message).toBe('while-you-were-away');
    // Still logged in: no new login needed, and the room never heard about the drop.
    const users = await a.request<{ users: User[] }>('listUsers');
    expect(users.users.map((u) => u.id)).toEqual([ua.id, b.id]);
    await b.barrier();
    await sleep(200);
    expect(b.eventsSince(since).filter((e) => e === 'notification' || e === 'users')).toEqual([]);
    expect(await metric(server, 'parley_reconnections_recovered_total')).toBe(1);
  });

  it('keeps calls across the drop: signals sent meanwhile arrive, and the call still relays', async () => {
    const server = await startServer({ RECOVERY_WINDOW_MS: '5000' });
    const { a, b } = await pairInRoom(server, recoverable);
    expectOk(await b.request('call', { userToCall: a.id, signal: { type: 'offer' } }));
    await a.waitFor('call');
    expectOk(await a.request('answer', { to: b.id, signal: { type: 'answer' } }));
    await b.waitFor('accepted');

    const back = reconnected(a);
    dropTransport(a);
    await sleep(20);
    // The held socket is still a valid target with an active call.
    expectOk(await b.request('signal', { to: a.id, signal: { candidate: 'during-drop' } }));
    await back;

    const relayed = await a.waitFor('signal', (s) => (s.signal as { candidate?: string }).candidate === 'during-drop');
    expect(relayed.from).toBe(b.id);
    expectOk(await a.request('signal', { to: b.id, signal: { candidate: 'after' } }));
    expect((await b.waitFor('signal')).from).toBe(a.id);
    expect(b.received('ended')).toEqual([]);
  });

  it('logs an unrecovered socket out when the window ends, not before', async () => {
    const server = await startServer({ RECOVERY_WINDOW_MS: '1200' });
    const { a, b, ua } = await pairInRoom(server);
    expectOk(await b.request('call', { userToCall: a.id }));
    await a.waitFor('call');
    expectOk(await a.request('answer', { to: b.id, signal: 'ok' }));
    const since = mark();

    dropTransport(a); // reconnection is off for this client
    await sleep(700);
    await b.barrier();
    expect(b.eventsSince(since).filter((e) => ['notification', 'users', 'ended'].includes(e))).toEqual([]);
    // Still held: the name is taken and the id is a valid call target.
    const other = await connect(server);
    expect(await other.request('login', { name: 'ALICE', room: ua.room })).toMatchObject({ code: 'NAME_TAKEN' });

    const leave = (await b.waitFor('notification', (n) => n.type === 'leave', 3000)) as Notification;
    expect(leave.user.id).toBe(ua.id);
    expect((await b.waitFor('users')).map((u) => u.id)).toEqual([b.id]);
    expect(await b.waitFor('ended')).toEqual({ from: ua.id, reason: 'disconnected' });
    expect(await metric(server, 'parley_reconnections_expired_total')).toBe(1);
  });

  it("logs out at once on the client's own disconnect()", async () => {
    const server = await startServer({ RECOVERY_WINDOW_MS: '10000' });
    const { a, b, ua } = await pairInRoom(server, recoverable);
    a.socket.disconnect();
    const leave = (await b.waitFor('notification', (n) => n.type === 'leave', 1500)) as Notification;
    expect(leave.user.id).toBe(ua.id);
  });

  it('keeps ring timeouts running while a peer is held', async () => {
    const server = await startServer({ RECOVERY_WINDOW_MS: '10000', RING_TIMEOUT_MS: '600' });
    const { a, b } = await pairInRoom(server);
    expectOk(await b.request('call', { userToCall: a.id }));
    await a.waitFor('call');
    dropTransport(a);
    expect(await b.waitFor('ended', () => true, 3000)).toEqual({ from: a.id, reason: 'timeout' });
  });
});

describe('with RECOVERY_WINDOW_MS=0 (the default)', () => {
  it('logs a dropped socket out at once', async () => {
    const server = await startServer();
    const { a, b, ua } = await pairInRoom(server, recoverable);
    dropTransport(a);
    const leave = (await b.waitFor('notification', (n) => n.type === 'leave', 1500)) as Notification;
    expect(leave.user.id).toBe(ua.id);
  });
});

describe('recovery while messages keep coming', () => {
  // With authentication on, a recovered socket waits for its token's verification before it
  // is connected: what its room gets meanwhile still reaches it, once and in order.
  it('every message sent during the reconnection arrives once, in order (authentication on)', async () => {
    const server = await startServer({ RECOVERY_WINDOW_MS: '5000', AUTH_JWT_SECRET: SECRET });
    for (let round = 0; round < 5; round++) {
      const room = uniqueRoom();
      const token = await hsToken();
      const x = await connect(server, {
        ...recoverable,
        reconnectionDelay: 20,
        reconnectionDelayMax: 40,
        auth: { token },
      });
      const y = await connect(server, { auth: { token } });
      await joinRoom([x, y], room);
      const first = await y.request<{ id: string }>('roomMessage', { message: 'first' });
      await x.waitFor('roomMessage', (m) => m.id === first.id);

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
      dropTransport(x);
      await back;
      await sleep(100);
      sending = false;
      await pump;
      const sent = await Promise.all(acks);
      sent.forEach((ack) => expectOk(ack));
      await x.waitFor('roomMessage', (m) => m.id === sent[sent.length - 1].id);
      await sleep(200); // any duplicate would have come by now

      const got = x.log.filter((r) => r.event === 'roomMessage').map((r) => (r.args[0] as { message: string }).message);
      expect({ round, recovered: x.socket.recovered, got }).toEqual({
        round,
        recovered: true,
        got: ['first', ...sent.map((_, i) => `m${i}`)],
      });
      closeAllClients();
    }
  }, 30_000);
});
