/**
 * One-page call apps, event by event:
 *  - a simple-peer video client: `me`, `call { userToCall, signal, from, name }`,
 *    `answer { signal, to }`, `accepted`;
 *  - a raw-WebRTC client with a lobby: `register`, `getOnlineUsers` → `onlineUsers`,
 *    `userConnected` / `userDisconnected`, `call { to }`, `offer`, `answer { to, sdp }`,
 *    `candidate`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  closeClients,
  closeServers,
  connect,
  expectQuiet,
  marks,
  startApp,
  unique,
  type Server,
} from './helpers/compat.js';

let server: Server;

beforeAll(async () => {
  server = await startApp();
});
afterEach(() => closeClients());
afterAll(() => closeServers());

describe('a simple-peer video client', () => {
  it('me → call { userToCall, signal, from, name } → answer { signal, to } → accepted', async () => {
    const caller = await connect(server);
    const callee = await connect(server);
    expect(caller.received('me')).toEqual([caller.id]);
    const offer = { type: 'offer', sdp: 'v=0\r\no=- 46117317 2 IN IP4 127.0.0.1\r\n' };
    // the client sends its own id as `from`; the server stamps it anyway
    caller.send('call', {
      userToCall: callee.id,
      signalData: undefined,
      signal: offer,
      from: 'forged',
      name: 'Caller Cam',
    });
    expect(await callee.waitFor('call')).toEqual({ from: caller.id, name: 'Caller Cam', signal: offer });
    const answer = { type: 'answer', sdp: 'v=0\r\n' };
    callee.send('answer', { signal: answer, to: caller.id });
    expect(await caller.waitFor('accepted')).toEqual(answer);
    // trickle after the answer
    expect(await caller.request('signal', { to: callee.id, signal: { candidate: 'c1' } })).toEqual({});
    expect(await callee.waitFor('signal')).toEqual({ signal: { candidate: 'c1' }, from: caller.id });
    expect(await callee.request('hangup', { to: caller.id })).toEqual({});
    expect(await caller.waitFor('ended')).toEqual({ from: callee.id, reason: 'hangup' });
  });

  it('call without a name: the lobby name when the caller registered one', async () => {
    const caller = await connect(server);
    const callee = await connect(server);
    await caller.request('register', 'Lobby Name');
    await caller.request('call', { userToCall: callee.id, signal: { s: 1 } });
    expect(await callee.waitFor('call')).toEqual({ from: caller.id, name: 'Lobby Name', signal: { s: 1 } });
  });

  it('call without a name: the login name wins over the lobby name', async () => {
    const caller = await connect(server, { auth: { name: 'login-name', room: unique('room') } });
    await caller.waitFor('users');
    const callee = await connect(server);
    await caller.request('register', 'lobby-name');
    await caller.request('call', { userToCall: callee.id });
    expect(await callee.waitFor('call')).toEqual({ from: caller.id, name: 'login-name' });
  });
});

describe('a raw-WebRTC client with a lobby', () => {
  it('register → userConnected to the others; getOnlineUsers → onlineUsers; call { to } → offer → answer { to, sdp } → candidate', async () => {
    const alice = await connect(server);
    const bob = await connect(server);
    const idle = await connect(server); // never registers: hears nothing of the lobby
    const m = marks([idle]);

    expect(await alice.request('register', '  Alice ')).toEqual({});
    expect(await bob.request('register', 'Bob')).toEqual({});
    expect(await alice.waitFor('userConnected')).toEqual({ id: bob.id, name: 'Bob' });
    expect(bob.received('userConnected')).toEqual([]);

    alice.send('getOnlineUsers');
    const online = await alice.waitFor<Record<string, string>>('onlineUsers');
    expect(online).toMatchObject({ [alice.id]: 'Alice', [bob.id]: 'Bob' });
    expect(online[idle.id]).toBeUndefined();
    expect(await bob.request('getOnlineUsers')).toEqual({});
    expect(await bob.waitFor('onlineUsers')).toMatchObject({ [alice.id]: 'Alice', [bob.id]: 'Bob' });

    // alice calls bob by `to`; the callee makes the offer, the caller answers with sdp
    expect(await alice.request('call', { to: bob.id })).toEqual({});
    expect(await bob.waitFor('call')).toEqual({ from: alice.id, name: 'Alice' });
    const sdpOffer = { type: 'offer', sdp: 'v=0\r\noffer' };
    expect(await bob.request('offer', { to: alice.id, sdp: sdpOffer })).toEqual({});
    expect(await alice.waitFor('offer')).toEqual({ sdp: sdpOffer, socketId: bob.id, from: bob.id });
    const sdpAnswer = { type: 'answer', sdp: 'v=0\r\nanswer' };
    expect(await alice.request('answer', { to: bob.id, sdp: sdpAnswer })).toEqual({});
    expect(await bob.waitFor('answer')).toEqual({ sdp: sdpAnswer, socketId: alice.id, from: alice.id });
    const cand = { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    bob.send('candidate', { to: alice.id, candidate: cand });
    expect(await alice.waitFor('candidate')).toEqual({ candidate: cand, from: bob.id });
    alice.send('candidate', { to: bob.id, candidate: cand });
    expect(await bob.waitFor('candidate')).toEqual({ candidate: cand, from: alice.id });

    // leaving: the other lobby socket gets userDisconnected with the bare id
    bob.close();
    expect(await alice.waitFor('userDisconnected')).toBe(bob.id);
    expect(await alice.waitFor('ended')).toEqual({ from: bob.id, reason: 'disconnected' });
    alice.send('getOnlineUsers');
    const after = await alice.waitFor<Record<string, string>>('onlineUsers');
    expect(after[bob.id]).toBeUndefined();
    await expectQuiet([idle], m, ['userConnected', 'userDisconnected', 'onlineUsers']);
  });

  it('re-register renames: userConnected again with the new name, nothing for the same name', async () => {
    const a = await connect(server);
    const b = await connect(server);
    await b.request('register', 'watcher');
    await a.request('register', 'first');
    expect(await b.waitFor('userConnected')).toEqual({ id: a.id, name: 'first' });
    await a.request('register', 'second');
    expect(await b.waitFor('userConnected')).toEqual({ id: a.id, name: 'second' });
    const m = marks([b]);
    await a.request('register', 'second');
    await expectQuiet([b], m, ['userConnected']);
  });

  it('a socket that leaves without registering sends no userDisconnected', async () => {
    const a = await connect(server);
    await a.request('register', 'listener');
    const x = await connect(server);
    const m = marks([a]);
    x.close();
    await expectQuiet([a], m, ['userDisconnected']);
  });
});
