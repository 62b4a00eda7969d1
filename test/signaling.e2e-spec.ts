/**
 * 1:1 call signaling end to end: call, answer, offer, candidate, signal, hangup, the ends
 * the server decides (disconnect, ring timeout), and iceServers.
 */
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import {
  closeAllClients,
  connect,
  connectMany,
  expectNothing,
  joinRoom,
  login,
  mark,
  sleep,
  uniqueRoom,
  waitDisconnect,
  type TestClient,
} from './helpers/client.js';
import { expectError } from './helpers/assert.js';

const CALL_EVENTS = ['call', 'accepted', 'answer', 'offer', 'candidate', 'signal', 'ended'];

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => {
  closeAllClients();
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

/** `a` calls `b` (userToCall) and `b` receives the call. */
async function ring(a: TestClient, b: TestClient, extra: Record<string, unknown> = {}): Promise<void> {
  expect(await a.request('call', { userToCall: b.id, ...extra })).toEqual({});
  await b.waitFor('call', (c) => c.from === a.id);
}

/** `a` calls `b`, `b` answers with a signal: the call is active. */
async function activeCall(a: TestClient, b: TestClient): Promise<void> {
  await ring(a, b, { signal: { type: 'offer' } });
  expect(await b.request('answer', { to: a.id, signal: { type: 'answer' } })).toEqual({});
  await a.waitFor('accepted');
}

describe('call', () => {
  it('rings the callee with { from, name: caller login name, signal }, acks {}', async () => {
    const [a, b] = await connectMany(server, 2);
    await login(a, 'alice', uniqueRoom());
    const signal = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', nested: { list: [1, 'two', null] } };
    expect(await a.request('call', { userToCall: b.id, signal })).toEqual({});
    expect(await b.waitFor('call')).toEqual({ from: a.id, name: 'alice', signal });
  });

  it('accepts `to` as an alias of userToCall', async () => {
    const [a, b] = await connectMany(server, 2);
    await login(a, 'alice', uniqueRoom());
    expect(await a.request('call', { to: b.id, signal: 'sig' })).toEqual({});
    expect(await b.waitFor('call')).toEqual({ from: a.id, name: 'alice', signal: 'sig' });
  });

  it('lets userToCall win when both userToCall and to are given', async () => {
    const [a, b, c] = await connectMany(server, 3);
    const since = mark();
    expect(await a.request('call', { userToCall: b.id, to: c.id })).toEqual({});
    expect((await b.waitFor('call')).from).toBe(a.id);
    await expectNothing([c], CALL_EVENTS, since);
    // the call is with b, not c
    expectError(await a.request('signal', { to: c.id, signal: 1 }), 'NO_CALL');
    expect(await a.request('signal', { to: b.id, signal: 1 })).toEqual({});
  });

  it('uses the given name over the login name', async () => {
    const [a, b] = await connectMany(server, 2);
    await login(a, 'alice', uniqueRoom());
    await a.request('call', { userToCall: b.id, name: 'Alice Cooper' });
    expect(await b.waitFor('call')).toEqual({ from: a.id, name: 'Alice Cooper' });
  });

  it('leaves name and signal absent when not logged in and not given', async () => {
    const [a, b] = await connectMany(server, 2);
    expect(await a.request('call', { userToCall: b.id })).toEqual({});
    const incoming = await b.waitFor('call');
    expect(incoming).toEqual({ from: a.id });
    expect('name' in incoming).toBe(false);
    expect('signal' in incoming).toBe(false);
  });

  it('uses a given name when not logged in; callee need not be logged in or in the same room', async () => {
    const [a, b, c] = await connectMany(server, 3);
    await login(b, 'bob', uniqueRoom());
    await a.request('call', { userToCall: b.id, name: 'Anon' });
    expect(await b.waitFor('call')).toEqual({ from: a.id, name: 'Anon' });
    await login(c, 'carol', uniqueRoom());
    await c.request('call', { userToCall: a.id, signal: 0 });
    expect(await a.waitFor('call')).toEqual({ from: c.id, name: 'carol', signal: 0 });
  });

  it('ignores client-sent from/socketId and strips unknown fields', async () => {
    const [a, b] = await connectMany(server, 2);
    await login(a, 'alice', uniqueRoom());
    await a.request('call', { userToCall: b.id, signal: 's', from: 'mallory', socketId: 'x', extra: 'leak-me' });
    expect(await b.waitFor('call')).toEqual({ from: a.id, name: 'alice', signal: 's' });
  });

  type Args = (b: string) => unknown[];
  const invalid: Array<[string, Args, RegExp | undefined]> = [
    ['no target', () => [{ signal: 's' }], undefined],
    ['empty object', () => [{}], undefined],
    ['numeric userToCall', () => [{ userToCall: 42 }], undefined],
    ['numeric to', () => [{ to: 42 }], undefined],
    ['empty name', (b) => [{ userToCall: b, name: '' }], /name/i],
    ['33-character name', (b) => [{ userToCall: b, name: 'n'.repeat(33) }], /name/i],
    ['control character in name', (b) => [{ userToCall: b, name: 'a\u0001b' }], /name/i],
    ['non-string name', (b) => [{ userToCall: b, name: 7 }], /name/i],
    ['string payload', (b) => [b], undefined],
    ['null payload', () => [null], undefined],
    ['only a callback', () => [], undefined],
  ];

  it.each(invalid)('refuses %s with VALIDATION; nothing rings', async (_label, args, mentions) => {
    const [a, b] = await connectMany(server, 2);
    const since = mark();
    expectError(await a.request('call', ...args(b.id)), 'VALIDATION', mentions);
    await expectNothing([a, b], CALL_EVENTS, since);
    // no call state was created
    expect(await a.request('call', { userToCall: b.id })).toEqual({});
  });

  it('refuses NOT_FOUND for an unknown or disconnected target', async () => {
    const [a, b] = await connectMany(server, 2);
    expectError(await a.request('call', { userToCall: 'no-such-socket-id' }), 'NOT_FOUND');
    const goneId = b.id;
    b.close();
    await sleep(100);
    await a.barrier();
    const deadline = Date.now() + 3000;
    let reply: unknown;
    do {
      reply = await a.request('call', { userToCall: goneId });
      if ((reply as { code?: string }).code === 'NOT_FOUND') break;
      await sleep(50);
    } while (Date.now() < deadline);
    expectError(reply, 'NOT_FOUND');
    a.send('call', { to: 'no-such-socket-id' });
    expect(await a.waitFor('exception')).toEqual({ event: 'call', error: expect.any(String), code: 'NOT_FOUND' });
  });

  it('refuses SELF_CALL', async () => {
    const a = await connect(server);
    const since = mark();
    expectError(await a.request('call', { userToCall: a.id }), 'SELF_CALL');
    expectError(await a.request('call', { to: a.id }), 'SELF_CALL');
    await expectNothing([a], CALL_EVENTS, since);
  });

  it('refuses ALREADY_IN_CALL for a pending call, in both directions of the pair', async () => {
    const [a, b] = await connectMany(server, 2);
    await ring(a, b);
    const since = mark();
    expectError(await a.request('call', { userToCall: b.id }), 'ALREADY_IN_CALL');
    expectError(await b.request('call', { userToCall: a.id }), 'ALREADY_IN_CALL');
    await expectNothing([a, b], ['call'], since);
  });

  it('refuses ALREADY_IN_CALL for an active call, in both directions; other pairs are independent', async () => {
    const [a, b, c] = await connectMany(server, 3);
    await activeCall(a, b);
    expectError(await a.request('call', { to: b.id }), 'ALREADY_IN_CALL');
    expectError(await b.request('call', { to: a.id }), 'ALREADY_IN_CALL');
    // a may still call c, and c may call b
    expect(await a.request('call', { userToCall: c.id })).toEqual({});
    expect(await c.waitFor('call')).toEqual({ from: a.id });
    expect(await b.request('call', { userToCall: c.id })).toEqual({});
  });

  it('refuses PAYLOAD_TOO_LARGE for an oversized signal and creates no call', async () => {
    const [a, b] = await connectMany(server, 2);
    const since = mark();
    expectError(await a.request('call', { userToCall: b.id, signal: 'x'.repeat(70000) }), 'PAYLOAD_TOO_LARGE');
    await expectNothing([b], CALL_EVENTS, since);
    expectError(await b.request('answer', { to: a.id, signal: 'a' }), 'NO_CALL');
    expect(await a.request('call', { userToCall: b.id })).toEqual({});
  });

  it('checks VALIDATION / PAYLOAD_TOO_LARGE before the target state errors', async () => {
    const a = await connect(server);
    expectError(
      await a.request('call', { userToCall: 'no-such-socket-id', signal: 'x'.repeat(70000) }),
      'PAYLOAD_TOO_LARGE',
    );
    expectError(await a.request('call', { userToCall: 'no-such-socket-id', name: '' }), 'VALIDATION');
    expectError(await a.request('call', { userToCall: a.id, name: 'n'.repeat(40) }), 'VALIDATION');
  });
});

describe('answer', () => {
  it('with signal: the caller receives `accepted` with the signal value itself; acks {}', async () => {
    const [a, b] = await connectMany(server, 2);
    await ring(a, b, { signal: { type: 'offer', sdp: 'o' } });
    const answer = { type: 'answer', sdp: 'v=0 answer', extra: [1, 2] };
    expect(await b.request('answer', { to: a.id, signal: answer })).toEqual({});
    expect(await a.waitFor('accepted')).toEqual(answer);
  });

  it('with a string signal: `accepted` carries that string', async () => {
    const [a, b] = await connectMany(server, 2);
    await ring(a, b);
    expect(await b.request('answer', { to: a.id, signal: 'plain-string-signal' })).toEqual({});
    expect(await a.waitFor('accepted')).toBe('plain-string-signal');
  });

  it('with sdp: the peer receives `answer` { sdp, socketId, from }; the caller may answer (raw WebRTC)', async () => {
    const [a, b] = await connectMany(server, 2);
    await ring(a, b);
    // raw WebRTC: the callee sends the offer, the caller answers
    const offerSdp = { type: 'offer', sdp: 'v=0 offer' };
    expect(await b.request('offer', { to: a.id, sdp: offerSdp })).toEqual({});
    expect(await a.waitFor('offer')).toEqual({ sdp: offerSdp, socketId: b.id, from: b.id });
    const answerSdp = { type: 'answer', sdp: 'v=0 answer' };
    expect(await a.request('answer', { to: b.id, sdp: answerSdp, socketId: 'spoof', from: 'spoof' })).toEqual({});
    expect(await b.waitFor('answer')).toEqual({ sdp: answerSdp, socketId: a.id, from: a.id });
  });

  it('makes the call active; an active call may be answered again (renegotiation)', async () => {
    const [a, b] = await connectMany(server, 2);
    await activeCall(a, b);
    expect(await b.request('answer', { to: a.id, sdp: 'again' })).toEqual({});
    expect(await a.waitFor('answer')).toEqual({ sdp: 'again', socketId: b.id, from: b.id });
  });

  const invalid: Array<[string, (to: string) => unknown[]]> = [
    ['both signal and sdp', (to) => [{ to, signal: 's', sdp: 'd' }]],
    ['neither signal nor sdp', (to) => [{ to }]],
    ['missing to', () => [{ signal: 's' }]],
    ['numeric to', () => [{ to: 5, signal: 's' }]],
    ['null payload', () => [null]],
    ['only a callback', () => []],
  ];

  it.each(invalid)(
    'refuses %s with VALIDATION; the peer receives nothing, the call stays pending',
    async (_l, args) => {
      const [a, b] = await connectMany(server, 2);
      await ring(a, b);
      const since = mark();
      expectError(await b.request('answer', ...args(a.id)), 'VALIDATION');
      await expectNothing([a, b], CALL_EVENTS, since);
      // still pending: it can be answered
      expect(await b.request('answer', { to: a.id, signal: 'ok' })).toEqual({});
      expect(await a.waitFor('accepted')).toBe('ok');
    },
  );

  it('refuses NO_CALL for a connected stranger, and for a disconnected former peer', async () => {
    const [a, b, c] = await connectMany(server, 3);
    const since = mark();
    expectError(await a.request('answer', { to: b.id, signal: 's' }), 'NO_CALL');
    expectError(await a.request('answer', { to: b.id, sdp: 's' }), 'NO_CALL');
    await expectNothing([b], CALL_EVENTS, since);
    await ring(c, a);
    const cId = c.id;
    c.close();
    await a.waitFor('ended');
    expectError(await a.request('answer', { to: cId, signal: 's' }), 'NO_CALL');
    a.send('answer', { to: b.id, signal: 's' });
    expect(await a.waitFor('exception')).toEqual({ event: 'answer', error: expect.any(String), code: 'NO_CALL' });
  });
});

describe('relays: offer, candidate, signal', () => {
  async function exerciseRelays(a: TestClient, b: TestClient): Promise<void> {
    const sdp = { type: 'offer', sdp: 'v=0 relay' };
    expect(await b.request('offer', { to: a.id, sdp })).toEqual({});
    expect(await a.waitFor('offer')).toEqual({ sdp, socketId: b.id, from: b.id });

    const candidate = {
      candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 54321 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    expect(await a.request('candidate', { to: b.id, candidate })).toEqual({});
    expect(await b.waitFor('candidate')).toEqual({ candidate, from: a.id });

    const signal = { candidate: { candidate: 'c', sdpMid: '0' } };
    expect(await a.request('signal', { to: b.id, signal })).toEqual({});
    expect(await b.waitFor('signal')).toEqual({ signal, from: a.id });
    expect(await b.request('signal', { to: a.id, signal: 'renegotiate' })).toEqual({});
    expect(await a.waitFor('signal')).toEqual({ signal: 'renegotiate', from: b.id });
  }

  it('relays between the peers of a pending call', async () => {
    const [a, b, bystander] = await connectMany(server, 3);
    await ring(a, b);
    const since = mark();
    await exerciseRelays(a, b);
    await expectNothing([bystander], CALL_EVENTS, since);
  });

  it('relays between the peers of an active call', async () => {
    const [a, b] = await connectMany(server, 2);
    await activeCall(a, b);
    await exerciseRelays(a, b);
  });

  it('stamps from/socketId with the sender and strips unknown fields', async () => {
    const [a, b] = await connectMany(server, 2);
    await ring(a, b);
    await a.request('offer', { to: b.id, sdp: 'x', from: 'mallory', socketId: 'mallory', extra: 'leak' });
    expect(await b.waitFor('offer')).toEqual({ sdp: 'x', socketId: a.id, from: a.id });
    await a.request('candidate', { to: b.id, candidate: 'c', from: 'mallory', extra: 'leak' });
    expect(await b.waitFor('candidate')).toEqual({ candidate: 'c', from: a.id });
    await a.request('signal', { to: b.id, signal: 's', from: 'mallory', extra: 'leak' });
    expect(await b.waitFor('signal')).toEqual({ signal: 's', from: a.id });
  });

  const relays: Array<[string, Record<string, unknown>]> = [
    ['offer', { sdp: 'x' }],
    ['candidate', { candidate: 'c' }],
    ['signal', { signal: 's' }],
  ];

  it.each(relays)(
    '%s: NOT_FOUND for an unknown target, NO_CALL for a connected stranger, VALIDATION without to',
    async (event, body) => {
      const [a, stranger] = await connectMany(server, 2);
      const since = mark();
      expectError(await a.request(event, { to: 'no-such-socket-id', ...body }), 'NOT_FOUND');
      expectError(await a.request(event, { to: stranger.id, ...body }), 'NO_CALL');
      expectError(await a.request(event, { ...body }), 'VALIDATION');
      expectError(await a.request(event, { to: 12, ...body }), 'VALIDATION');
      expectError(await a.request(event, null), 'VALIDATION');
      expectError(await a.request(event), 'VALIDATION');
      await expectNothing([stranger], CALL_EVENTS, since);
      a.send(event, { to: stranger.id, ...body });
      expect(await a.waitFor('exception')).toEqual({ event, error: expect.any(String), code: 'NO_CALL' });
    },
  );
});

describe('hangup', () => {
  it('callee declining a pending call: the caller gets ended { from, reason: hangup }; the state is gone', async () => {
    const [a, b] = await connectMany(server, 2);
    await ring(a, b);
    const since = mark();
    expect(await b.request('hangup', { to: a.id })).toEqual({});
    expect(await a.waitFor('ended')).toEqual({ from: b.id, reason: 'hangup' });
    await expectNothing([b], ['ended'], since);
    expectError(await a.request('offer', { to: b.id, sdp: 'x' }), 'NO_CALL');
    expectError(await b.request('answer', { to: a.id, signal: 's' }), 'NO_CALL');
    expectError(await a.request('hangup', { to: b.id }), 'NO_CALL');
    // a new call between the same pair is possible
    expect(await a.request('call', { userToCall: b.id })).toEqual({});
    await b.waitFor('call');
  });

  it('either peer of an active call may hang up', async () => {
    const [a, b] = await connectMany(server, 2);
    await activeCall(a, b);
    expect(await a.request('hangup', { to: b.id })).toEqual({});
    expect(await b.waitFor('ended')).toEqual({ from: a.id, reason: 'hangup' });
    expectError(await b.request('signal', { to: a.id, signal: 's' }), 'NO_CALL');
    expectError(await b.request('candidate', { to: a.id, candidate: 'c' }), 'NO_CALL');
  });

  it('refuses NO_CALL with no call, for an unknown and for a disconnected target; VALIDATION without to', async () => {
    const [a, b, c] = await connectMany(server, 3);
    const since = mark();
    expectError(await a.request('hangup', { to: b.id }), 'NO_CALL');
    expectError(await a.request('hangup', { to: 'no-such-socket-id' }), 'NO_CALL');
    expectError(await a.request('hangup', {}), 'VALIDATION');
    expectError(await a.request('hangup', { to: 3 }), 'VALIDATION');
    expectError(await a.request('hangup'), 'VALIDATION');
    await expectNothing([b], ['ended'], since);
    await ring(a, c);
    const cId = c.id;
    c.close();
    await a.waitFor('ended');
    expectError(await a.request('hangup', { to: cId }), 'NO_CALL');
    a.send('hangup', { to: b.id });
    expect(await a.waitFor('exception')).toEqual({ event: 'hangup', error: expect.any(String), code: 'NO_CALL' });
  });
});

describe('ends the server decides', () => {
  it('disconnect: every pending or active peer gets ended { from: goneId, reason: disconnected }; nobody else', async () => {
    const [a, b, c, d] = await connectMany(server, 4);
    await joinRoom([a, b, c, d], uniqueRoom());
    await ring(a, b); // pending
    await activeCall(a, c); // active
    await ring(d, b); // an unrelated call d-b
    const since = mark();
    const aId = a.id;
    a.close();
    expect(await b.waitFor('ended')).toEqual({ from: aId, reason: 'disconnected' });
    expect(await c.waitFor('ended')).toEqual({ from: aId, reason: 'disconnected' });
    await expectNothing([d], ['ended'], since);
    expect(b.received('ended', since)).toHaveLength(1);
    expect(c.received('ended', since)).toHaveLength(1);
    // the d-b call is unaffected
    expect(await b.request('answer', { to: d.id, signal: 'yes' })).toEqual({});
    expect(await d.waitFor('accepted')).toBe('yes');
    // the calls with a are gone
    expectError(await b.request('hangup', { to: aId }), 'NO_CALL');
    expectError(await c.request('answer', { to: aId, sdp: 's' }), 'NO_CALL');
  });

  it('disconnect of the callee (transport close) ends the call for the caller', async () => {
    const [a, b] = await connectMany(server, 2);
    await ring(a, b);
    const bId = b.id;
    b.socket.io.engine.close();
    await waitDisconnect(b);
    expect(await a.waitFor('ended')).toEqual({ from: bId, reason: 'disconnected' });
  });

  it("a bystander receives nothing from other people's calls", async () => {
    const [a, b, bystander] = await connectMany(server, 3);
    await joinRoom([a, b, bystander], uniqueRoom());
    const since = mark();
    await ring(a, b, { signal: 'offer' });
    await b.request('answer', { to: a.id, signal: 'answer' });
    await a.request('offer', { to: b.id, sdp: 'x' });
    await b.request('answer', { to: a.id, sdp: 'y' });
    await a.request('candidate', { to: b.id, candidate: 'c' });
    await a.request('signal', { to: b.id, signal: 's' });
    await a.request('hangup', { to: b.id });
    await b.waitFor('ended');
    await ring(a, b);
    a.close();
    await b.waitFor('ended', (e) => e.reason === 'disconnected');
    await expectNothing([bystander], CALL_EVENTS, since);
  });

  describe('ring timeout', () => {
    let fast: TestServer;
    beforeAll(async () => {
      fast = await startServer({ RING_TIMEOUT_MS: '500' });
    });
    afterAll(async () => {
      closeAllClients();
      await fast.close();
    });

    it('ends an unanswered call for both peers with reason timeout', async () => {
      const [a, b] = await connectMany(fast, 2);
      await ring(a, b);
      expect(await a.waitFor('ended', undefined, 5000)).toEqual({ from: b.id, reason: 'timeout' });
      expect(await b.waitFor('ended', undefined, 5000)).toEqual({ from: a.id, reason: 'timeout' });
      expectError(await a.request('signal', { to: b.id, signal: 's' }), 'NO_CALL');
      expectError(await b.request('answer', { to: a.id, signal: 's' }), 'NO_CALL');
      // a new call is possible
      expect(await a.request('call', { userToCall: b.id })).toEqual({});
    });

    it('does not time out an answered call (also when the caller answers)', async () => {
      const [a, b, c, d] = await connectMany(fast, 4);
      await ring(a, b);
      await b.request('answer', { to: a.id, signal: 'ok' });
      await ring(c, d);
      await c.request('answer', { to: d.id, sdp: 'ok' });
      const since = mark();
      await sleep(1500);
      await expectNothing([a, b, c, d], ['ended'], since);
      expect(await a.request('signal', { to: b.id, signal: 'still here' })).toEqual({});
      expect(await d.request('candidate', { to: c.id, candidate: 'still here' })).toEqual({});
    });

    it('sends no timeout after a hangup', async () => {
      const [a, b] = await connectMany(fast, 2);
      await ring(a, b);
      await a.request('hangup', { to: b.id });
      expect(await b.waitFor('ended')).toEqual({ from: a.id, reason: 'hangup' });
      const since = mark();
      await sleep(1200);
      await expectNothing([a, b], ['ended'], since);
    });
  });
});

describe('iceServers', () => {
  it('acks { iceServers: [] } by default, before login', async () => {
    const a = await connect(server);
    expect(await a.request('iceServers')).toEqual({ iceServers: [] });
  });

  it('hands out ICE_SERVERS then a TURN entry with coturn shared-secret credentials', async () => {
    const ice = [
      { urls: 'stun:stun.example.org:3478' },
      { urls: ['turn:t.example.org'], username: 'u', credential: 'c' },
    ];
    const s = await startServer({
      ICE_SERVERS: JSON.stringify(ice),
      TURN_SECRET: 'turn-secret',
      TURN_URLS: 'turn:a.example.org:3478,turns:a.example.org:5349',
      TURN_TTL_S: '600',
    });
    try {
      const a = await connect(s);
      const before = Math.floor(Date.now() / 1000);
      const reply = await a.request<{ iceServers: Array<{ urls: unknown; username?: string; credential?: string }> }>(
        'iceServers',
      );
      const after = Math.ceil(Date.now() / 1000);
      expect(reply.iceServers).toHaveLength(3);
      expect(reply.iceServers.slice(0, 2)).toEqual(ice);
      const turn = reply.iceServers[2];
      expect(turn).toEqual({
        urls: ['turn:a.example.org:3478', 'turns:a.example.org:5349'],
        username: expect.any(String),
        credential: expect.any(String),
      });
      const [expiry, sid] = turn.username!.split(':');
      expect(sid).toBe(a.id);
      expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600 - 1);
      expect(Number(expiry)).toBeLessThanOrEqual(after + 600 + 1);
      expect(turn.credential).toBe(createHmac('sha1', 'turn-secret').update(turn.username!).digest('base64'));
    } finally {
      closeAllClients();
      await s.close();
    }
  });
});
