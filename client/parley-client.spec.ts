/**
 * The client library against a minimal in-process Socket.IO server that answers like
 * Parley does (success objects, `{ error, code }` failures, a bare-string `ping`).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { ParleyClient, ParleyError, connectParley } from './parley-client.js';
import { TypingTracker } from './chat-timing.js';
import type { User } from '../src/common/events.js';

describe('client/ParleyClient', () => {
  let http: HttpServer;
  let io: Server;
  let url: string;
  const seen: Array<{ event: string; args: unknown[] }> = [];

  beforeAll(async () => {
    http = createServer();
    io = new Server(http);
    io.on('connection', (socket) => {
      socket.emit('me', socket.id);
      const users: User[] = [];
      socket.onAny((event: string, ...args: unknown[]) => {
        const ack = typeof args.at(-1) === 'function' ? (args.pop() as (r: unknown) => void) : undefined;
        seen.push({ event, args });
        const payload = args[0] as Record<string, unknown> | undefined;
        switch (event) {
          case 'ping':
            return ack?.(socket.id);
          case 'login': {
            if (payload?.name === 'taken') return ack?.({ error: 'name "taken" is taken', code: 'NAME_TAKEN' });
            const user: User = { id: socket.id, name: String(payload?.name), room: String(payload?.room), joinedAt: 1 };
            if (payload?.publicKey) user.publicKey = String(payload.publicKey);
            users.push(user);
            socket.emit('users', users);
            return ack?.({ user });
          }
          case 'listUsers':
            return ack?.({ users });
          case 'roomMessage':
            socket.emit('roomMessage', {
              id: 'm1',
              room: 'r',
              message: String(payload?.message),
              from: 'a',
              fromId: socket.id,
              at: 5,
            });
            return ack?.({ id: 'm1', at: 5 });
          case 'iceServers':
            return ack?.({ iceServers: [{ urls: 'stun:stun.example.org' }] });
          case 'hangup':
            return ack?.({ error: 'no call with that socket', code: 'NO_CALL' });
          case 'read':
            return ack?.({ offset: Number(payload?.offset) });
          case 'receipts':
            return ack?.({ receipts: [{ id: socket.id, offset: 4, epoch: 'E', at: 9 }] });
          case 'redact':
            if (payload?.offset === 99) return ack?.({ error: 'not yours', code: 'FORBIDDEN' });
            return ack?.({});
          case 'typing':
            // Echoed back for the spec (the server relays it to the *other* members).
            socket.emit('typing', { id: 'bob', active: Boolean(payload?.active) });
            return ack?.({});
          case 'silent':
            return; // never acks
          default:
            return ack?.({});
        }
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    void io.close();
    await new Promise((resolve) => http.close(resolve));
  });

  it('connects, pings and logs in, resolving with the ack values', async () => {
    const client = connectParley(url, { socketOptions: { transports: ['websocket'] } });
    const id = await client.ready();
    expect(id).toBe(client.id);
    expect(await client.ping()).toBe(id);
    const usersEvent = client.next('users');
    const user = await client.login({ name: 'alice', room: 'r', publicKey: 'pk' });
    expect(user).toMatchObject({ id, name: 'alice', room: 'r', publicKey: 'pk' });
    expect(client.user).toEqual(user);
    expect(await usersEvent).toEqual([user]);
    expect(await client.listUsers()).toEqual([user]);
    client.disconnect();
  });

  it('rejects with a ParleyError carrying the protocol code', async () => {
    const client = new ParleyClient({ url });
    await client.ready();
    const err = await client.login({ name: 'taken', room: 'r' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParleyError);
    expect(err).toMatchObject({ code: 'NAME_TAKEN', event: 'login', message: 'name "taken" is taken' });
    expect(ParleyError.is(err, 'NAME_TAKEN')).toBe(true);
    await expect(client.hangup('x')).rejects.toMatchObject({ code: 'NO_CALL' });
    expect(client.user).toBeUndefined();
    client.disconnect();
  });

  it('sends the documented payloads for messages and call signaling', async () => {
    const client = new ParleyClient({ url });
    await client.ready();
    seen.length = 0;
    const relayed = client.next('roomMessage');
    expect(await client.sendMessage('p1.x.y')).toEqual({ id: 'm1', at: 5 });
    expect((await relayed).message).toBe('p1.x.y');
    await client.call('peer', { signal: { type: 'offer', sdp: 'v=0' }, name: 'Al' });
    await client.answer('peer', { sdp: { type: 'answer', sdp: 'v=0' } });
    await client.offer('peer', { type: 'offer', sdp: 'v=0' });
    await client.candidate('peer', { candidate: 'c', sdpMid: '0' });
    await client.signal('peer', { renegotiate: true });
    expect(await client.iceServers()).toEqual([{ urls: 'stun:stun.example.org' }]);
    await client.logout();
    expect(seen.map((s) => [s.event, s.args[0]])).toEqual([
      ['roomMessage', { message: 'p1.x.y' }],
      ['call', { userToCall: 'peer', signal: { type: 'offer', sdp: 'v=0' }, name: 'Al' }],
      ['answer', { to: 'peer', sdp: { type: 'answer', sdp: 'v=0' } }],
      ['offer', { to: 'peer', sdp: { type: 'offer', sdp: 'v=0' } }],
      ['candidate', { to: 'peer', candidate: { candidate: 'c', sdpMid: '0' } }],
      ['signal', { to: 'peer', signal: { renegotiate: true } }],
      ['iceServers', undefined],
      ['logout', undefined],
    ]);
    client.disconnect();
  });

  it('sends setStatus, redact, typing, read and receipts with the v1.2 payloads', async () => {
    const client = new ParleyClient({ url });
    const id = await client.ready();
    seen.length = 0;
    await client.setStatus('away');
    await client.redact(3, 'E');
    await expect(client.redact(99, 'E')).rejects.toMatchObject({ code: 'FORBIDDEN', event: 'redact' });
    await client.typing(true);
    expect(await client.read(4, 'E')).toBe(4);
    expect(await client.receipts()).toEqual([{ id, offset: 4, epoch: 'E', at: 9 }]);
    expect(seen.map((s) => [s.event, s.args[0]])).toEqual([
      ['setStatus', { status: 'away' }],
      ['redact', { offset: 3, epoch: 'E' }],
      ['redact', { offset: 99, epoch: 'E' }],
      ['typing', { active: true }],
      ['read', { offset: 4, epoch: 'E' }],
      ['receipts', undefined],
    ]);
    seen.length = 0;
    const typing = client.typingNotifier();
    typing.input();
    typing.sent();
    client.readReporter().seen(7, 'E');
    await client.ping();
    expect(seen.map((s) => [s.event, s.args[0]])).toEqual([
      ['typing', { active: true }],
      ['typing', { active: false }],
      ['read', { offset: 7, epoch: 'E' }],
      ['ping', undefined],
    ]);
    client.disconnect();
  });

  it('feeds a TypingTracker from typing events, room messages and users lists', async () => {
    const client = new ParleyClient({ url });
    await client.ready();
    const tracker = new TypingTracker();
    const off = client.trackTyping(tracker);
    const changed = () => new Promise<string[]>((resolve) => tracker.onChange(resolve));
    let next = changed();
    await client.typing(true);
    expect(await next).toEqual(['bob']);
    next = changed();
    await client.typing(false);
    expect(await next).toEqual([]);
    off();
    await client.typing(true);
    await client.ping();
    expect(tracker.typing).toEqual([]);
    tracker.clear();
    client.disconnect();
  });

  it('subscribes and unsubscribes to typed events', async () => {
    const client = new ParleyClient({ url, autoConnect: false });
    const ids: string[] = [];
    const off = client.on('me', (id) => ids.push(id));
    client.connect();
    const id = await client.ready();
    await client.ping();
    expect(ids).toEqual([id]);
    off();
    client.disconnect();
    client.connect();
    await client.ready();
    await client.ping();
    expect(ids).toEqual([id]);
    client.disconnect();
  });

  it('rejects with TIMEOUT when no ack comes', async () => {
    const client = new ParleyClient({ url, ackTimeoutMs: 200 });
    await client.ready();
    const silent = (client as unknown as { request(e: string): Promise<unknown> }).request('silent');
    await expect(silent).rejects.toMatchObject({ code: 'TIMEOUT', event: 'silent' });
    await expect(client.next('notification', () => true, 100)).rejects.toMatchObject({ code: 'TIMEOUT' });
    client.disconnect();
  });

  it('maps a refused handshake to a ParleyError with the server message as code', async () => {
    const guarded = new Server(0);
    guarded.use((_socket, next) => next(new Error('UNAUTHORIZED')));
    const port = (guarded.httpServer.address() as AddressInfo | null)?.port;
    try {
      const client = new ParleyClient({ url: `http://127.0.0.1:${port}`, socketOptions: { reconnection: false } });
      await expect(client.ready()).rejects.toMatchObject({ code: 'UNAUTHORIZED', event: 'connect' });
      client.disconnect();
    } finally {
      void guarded.close();
    }
  });
});
