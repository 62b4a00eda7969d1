/**
 * An older chat SPA on socket.io-client 4.0.x, event by event: `login` with a callback,
 * `ping` with a callback, `roomMessage` as the bare ciphertext string without an ack, and
 * `logout` with only a callback. Default transports (polling, then the upgrade).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Notification, RoomMessage, User } from '../src/common/events.js';
import {
  closeClients,
  closeServers,
  connect,
  expectQuiet,
  marks,
  startApp,
  unique,
  type ClientType as Client,
  type Server,
} from './helpers/compat.js';

let server: Server;

beforeAll(async () => {
  server = await startApp();
});
afterEach(() => closeClients());
afterAll(() => closeServers());

const legacy = () => connect(server, { version: '4.0', transports: ['polling', 'websocket'] });

async function legacyLogin(c: Client, name: string, room: string): Promise<User> {
  const reply = await c.request<{ user: User }>('login', { name, room });
  expect(reply).toEqual({ user: { id: c.id, name, room, joinedAt: expect.any(Number) } });
  return reply.user;
}

describe('a socket.io-client 4.0 chat client', () => {
  it('connects, gets me, and ping with a callback answers the bare socket id', async () => {
    const c = await legacy();
    expect(c.id).toBe(c.socket.id);
    expect(await c.request('ping')).toBe(c.id);
  });

  it('login with a callback: users before the ack; the others get notification join and user-connected', async () => {
    const room = unique('room');
    const a = await legacy();
    await legacyLogin(a, 'alice', room);
    const b = await legacy();
    const user = await legacyLogin(b, 'bob', room);
    // `users` reached bob before his ack resolved
    expect(b.received<User[]>('users')).toEqual([[expect.objectContaining({ name: 'alice' }), user]]);
    const note = await a.waitFor<Notification>('notification');
    expect(note).toEqual({
      type: 'join',
      title: expect.any(String),
      description: expect.stringContaining('bob'),
      user,
      at: expect.any(Number),
    });
    expect(await a.waitFor('user-connected')).toEqual({ message: expect.any(String), user });
  });

  it('roomMessage as a bare string with no ack reaches the whole room, the sender included', async () => {
    const room = unique('room');
    const a = await legacy();
    const b = await legacy();
    await legacyLogin(a, 'ann', room);
    await legacyLogin(b, 'ben', room);
    const ciphertext = 'U2FsdGVkX1+abc/def==';
    a.send('roomMessage', ciphertext);
    const expected = {
      id: expect.any(String),
      room,
      message: ciphertext,
      from: 'ann',
      fromId: a.id,
      at: expect.any(Number),
      offset: 1,
      epoch: expect.any(String),
    };
    const toB = await b.waitFor<RoomMessage>('roomMessage');
    expect(toB).toEqual(expected);
    expect(await a.waitFor<RoomMessage>('roomMessage')).toEqual(toB);
    // a refused bare string (empty) comes back as exception, not a crash
    a.send('roomMessage', '');
    expect(await a.waitFor('exception')).toEqual({
      event: 'roomMessage',
      error: expect.any(String),
      code: 'VALIDATION',
    });
  });

  it('logout with only a callback acks {}; the others get leave, users and user-disconnected; the socket may log in again', async () => {
    const room = unique('room');
    const a = await legacy();
    const b = await legacy();
    await legacyLogin(a, 'stay', room);
    const bob = await legacyLogin(b, 'leave', room);
    await a.waitFor('user-connected');
    const m = marks([b]);
    expect(await b.request('logout')).toEqual({});
    expect(await a.waitFor<Notification>('notification', (n) => n.type === 'leave')).toMatchObject({ user: bob });
    expect(await a.waitFor<User[]>('users', (u) => u.length === 1)).toEqual([expect.objectContaining({ id: a.id })]);
    expect(await a.waitFor('user-disconnected')).toEqual({ message: expect.any(String), user: bob });
    await expectQuiet([b], m, ['notification', 'users', 'user-disconnected']);
    expect(await b.request('logout')).toEqual({ error: expect.any(String), code: 'NOT_LOGGED_IN' });
    await legacyLogin(b, 'again', unique('room'));
  });

  it('sees compatibility peers and lobby events like any client', async () => {
    const a = await legacy();
    const b = await legacy();
    expect(await a.request('register', 'old-client')).toEqual({});
    b.send('message', { hello: 'world' });
    expect(await a.waitFor('message')).toEqual({ hello: 'world', from: b.id });
  });
});
