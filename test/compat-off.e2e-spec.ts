/**
 * COMPAT_EVENTS=false: none of the compatibility events has a handler (they are ignored:
 * no ack, no exception, no effect) and a handshake name/room logs nobody in. The core
 * events work as ever.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { User } from '../src/common/events.js';
import {
  adminGet,
  closeClients,
  closeServers,
  connect,
  expectQuiet,
  marks,
  sleep,
  startApp,
  unique,
  type ClientType as Client,
  type Server,
} from './helpers/compat.js';

let server: Server;

beforeAll(async () => {
  server = await startApp({ COMPAT_EVENTS: 'false' });
});
afterEach(() => closeClients());
afterAll(() => closeServers());

/** Emits with a callback and asserts the callback is never called. */
async function expectNoAck(c: Client, event: string, ...args: unknown[]): Promise<void> {
  let acked = false;
  c.raw.emit(event, ...args, () => {
    acked = true;
  });
  await c.barrier();
  await sleep(100);
  expect(acked).toBe(false);
}

describe('COMPAT_EVENTS=false', () => {
  it('a handshake name and room log nobody in', async () => {
    const c = await connect(server, { auth: { name: 'hs', room: unique('room') } });
    const q = await connect(server, { query: { username: 'hq', room: unique('room') } });
    const m = marks([c, q]);
    await expectQuiet([c, q], m);
    expect(await c.request('listUsers')).toMatchObject({ code: 'NOT_LOGGED_IN' });
    expect(await q.request('listUsers')).toMatchObject({ code: 'NOT_LOGGED_IN' });
  });

  it('ignores every compatibility event: no ack, no exception, nothing reaches anyone', async () => {
    const room = unique('room');
    const a = await connect(server);
    const b = await connect(server);
    await a.request('login', { name: 'a', room });
    await b.request('login', { name: 'b', room });
    await a.waitFor<User[]>('users', (u) => u.length === 2);
    const m = marks([a, b]);

    await expectNoAck(a, 'send-message', { message: 'hi' });
    await expectNoAck(a, 'register', 'alice');
    await expectNoAck(a, 'getOnlineUsers');
    await expectNoAck(a, 'ready', unique('p'));
    await expectNoAck(a, 'message', { hello: 1 });
    await expectNoAck(a, 'messageOne', { target: 'x' });
    a.send('ready', 'peer-one');
    a.send('ready', 'peer-one');
    a.send('message', { hello: 2 });
    a.send('send-message', 42);

    await expectQuiet([a, b], m);
    expect(a.connected).toBe(true);
    expect((await adminGet(server, '/connections')).body).toEqual([]);
  });

  it('sends no user-connected / user-disconnected, and call carries no lobby name', async () => {
    const room = unique('room');
    const a = await connect(server);
    await a.request('login', { name: 'a', room });
    const b = await connect(server);
    await b.request('login', { name: 'b', room });
    await a.waitFor('notification');
    b.close();
    await a.waitFor('notification', (n: { type: string }) => n.type === 'leave');
    await a.barrier();
    expect(a.received('user-connected')).toEqual([]);
    expect(a.received('user-disconnected')).toEqual([]);

    const caller = await connect(server);
    caller.send('register', 'lobby');
    expect(await caller.request('call', { userToCall: a.id })).toEqual({});
    expect(await a.waitFor('call')).toEqual({ from: caller.id });
  });

  it('the core events still work', async () => {
    const a = await connect(server);
    const room = unique('room');
    await a.request('login', { name: 'core', room });
    a.send('roomMessage', 'cipher');
    expect(await a.waitFor('roomMessage')).toMatchObject({ message: 'cipher', from: 'core', room });
  });
});
