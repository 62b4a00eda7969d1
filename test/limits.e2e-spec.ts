/**
 * Size limits (MAX_MESSAGE_BYTES, MAX_SIGNAL_BYTES, UTF-8 bytes), rate limiting, and the
 * rule that failing requests change nothing and never disconnect the socket.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import {
  closeAllClients,
  connect,
  connectMany,
  expectNothing,
  isErrorReply,
  joinRoom,
  login,
  mark,
  sleep,
  uniqueRoom,
  type TestClient,
} from './helpers/client.js';
import { expectError } from './helpers/assert.js';

const CALL_EVENTS = ['call', 'accepted', 'answer', 'offer', 'candidate', 'signal', 'ended'];
const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');
const jsonBytes = (v: unknown): number => utf8(JSON.stringify(v));

afterEach(() => {
  closeAllClients();
});

afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

describe('MAX_MESSAGE_BYTES (UTF-8 bytes of roomMessage)', () => {
  describe('set to 100', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ MAX_MESSAGE_BYTES: '100', RATE_LIMIT_PER_SEC: '0' });
    });

    const atLimit: Array<[string, string]> = [
      ['100 ASCII bytes', 'a'.repeat(100)],
      ['50 two-byte characters', 'é'.repeat(50)],
      ['33 three-byte characters + 1', '€'.repeat(33) + 'a'],
      ['25 four-byte emoji', '😀'.repeat(25)],
    ];
    const overLimit: Array<[string, string]> = [
      ['101 ASCII bytes', 'a'.repeat(101)],
      ['50 two-byte characters + 1', 'é'.repeat(50) + 'a'],
      ['51 two-byte characters (only 51 UTF-16 units)', 'é'.repeat(51)],
      ['34 three-byte characters (102 bytes, 34 units)', '€'.repeat(34)],
      ['26 four-byte emoji (104 bytes, 52 units)', '😀'.repeat(26)],
    ];

    it.each(atLimit)('relays a message of exactly the limit: %s', async (_l, message) => {
      expect(utf8(message)).toBe(100);
      const [a, b] = await connectMany(server, 2);
      await joinRoom([a, b], uniqueRoom());
      const ack = await a.request<{ id: string }>('roomMessage', { message });
      expect(ack).toEqual({ id: expect.any(String), at: expect.any(Number), offset: 1, epoch: expect.any(String) });
      expect((await b.waitFor('roomMessage')).message).toBe(message);
      a.send('roomMessage', message);
      expect((await b.waitFor('roomMessage')).message).toBe(message);
    });

    it.each(overLimit)('refuses PAYLOAD_TOO_LARGE one step over: %s', async (_l, message) => {
      expect(utf8(message)).toBeGreaterThan(100);
      const [a, b] = await connectMany(server, 2);
      await joinRoom([a, b], uniqueRoom());
      const since = mark();
      expectError(await a.request('roomMessage', { message }), 'PAYLOAD_TOO_LARGE');
      a.send('roomMessage', message);
      expect(await a.waitFor('exception')).toEqual({
        event: 'roomMessage',
        error: expect.any(String),
        code: 'PAYLOAD_TOO_LARGE',
      });
      await expectNothing([a, b], ['roomMessage'], since);
      expect(a.connected).toBe(true);
      // still logged in and able to send
      await a.request('roomMessage', { message: 'ok' });
      expect((await b.waitFor('roomMessage')).message).toBe('ok');
    });

    it('checks PAYLOAD_TOO_LARGE before NOT_LOGGED_IN', async () => {
      const a = await connect(server);
      expectError(await a.request('roomMessage', { message: 'a'.repeat(101) }), 'PAYLOAD_TOO_LARGE');
    });

    it('does not apply the message limit to names or signals (they have their own rules)', async () => {
      const [a, b] = await connectMany(server, 2);
      const signal = 'x'.repeat(1000);
      expect(await a.request('call', { userToCall: b.id, signal })).toEqual({});
      expect((await b.waitFor('call')).signal).toBe(signal);
    });
  });

  describe('default 65536', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer();
    });

    it('relays exactly 65536 bytes and refuses 65537 (ASCII and multi-byte)', async () => {
      const [a, b] = await connectMany(server, 2);
      await joinRoom([a, b], uniqueRoom());
      const ascii = 'a'.repeat(65536);
      const multi = '€'.repeat(21845) + 'a'; // 65535 + 1
      expect(utf8(multi)).toBe(65536);
      for (const message of [ascii, multi]) {
        await a.request('roomMessage', { message });
        expect((await b.waitFor('roomMessage')).message).toBe(message);
      }
      const since = mark();
      expectError(await a.request('roomMessage', { message: ascii + 'b' }), 'PAYLOAD_TOO_LARGE');
      expectError(await a.request('roomMessage', { message: '€'.repeat(21845) + 'ab' }), 'PAYLOAD_TOO_LARGE');
      expectError(await a.request('roomMessage', { message: '€'.repeat(21846) }), 'PAYLOAD_TOO_LARGE');
      await expectNothing([b], ['roomMessage'], since);
      expect(a.connected).toBe(true);
    });
  });
});

describe('MAX_SIGNAL_BYTES (UTF-8 bytes of compact JSON.stringify)', () => {
  describe('set to 100', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ MAX_SIGNAL_BYTES: '100', RATE_LIMIT_PER_SEC: '0' });
    });

    // [label, value at exactly 100 bytes, value one step over]
    const values: Array<[string, unknown, unknown]> = [
      ['ASCII string', 'a'.repeat(98), 'a'.repeat(99)],
      ['string of quotes (escaped in JSON)', '"'.repeat(49), '"'.repeat(49) + 'a'],
      ['two-byte characters', 'é'.repeat(49), 'é'.repeat(49) + 'a'],
      ['four-byte emoji', '😀'.repeat(24) + 'ab', '😀'.repeat(24) + 'abc'],
      ['object', { sdp: 'x'.repeat(90) }, { sdp: 'x'.repeat(91) }],
      [
        'object with multi-byte text',
        { type: 'offer', sdp: 'é'.repeat(37) + 'a' },
        { type: 'offer', sdp: 'é'.repeat(37) + 'aa' },
      ],
    ];

    type Case = {
      event: string;
      /** set up a call so the event is allowed, returns [sender, receiver] */
      setup: (a: TestClient, b: TestClient) => Promise<void>;
      payload: (to: string, v: unknown) => Record<string, unknown>;
      received: string;
      extract: (payload: unknown) => unknown;
    };

    const ringBtoA = async (a: TestClient, b: TestClient): Promise<void> => {
      // b calls a: a (the sender below) is a peer of a pending call with b
      expect(await b.request('call', { userToCall: a.id })).toEqual({});
      await a.waitFor('call');
    };

    const cases: Case[] = [
      {
        event: 'call',
        setup: async () => {},
        payload: (to, v) => ({ userToCall: to, signal: v }),
        received: 'call',
        extract: (p) => (p as { signal: unknown }).signal,
      },
      {
        event: 'answer (signal)',
        setup: ringBtoA,
        payload: (to, v) => ({ to, signal: v }),
        received: 'accepted',
        extract: (p) => p,
      },
      {
        event: 'answer (sdp)',
        setup: ringBtoA,
        payload: (to, v) => ({ to, sdp: v }),
        received: 'answer',
        extract: (p) => (p as { sdp: unknown }).sdp,
      },
      {
        event: 'offer',
        setup: ringBtoA,
        payload: (to, v) => ({ to, sdp: v }),
        received: 'offer',
        extract: (p) => (p as { sdp: unknown }).sdp,
      },
      {
        event: 'candidate',
        setup: ringBtoA,
        payload: (to, v) => ({ to, candidate: v }),
        received: 'candidate',
        extract: (p) => (p as { candidate: unknown }).candidate,
      },
      {
        event: 'signal',
        setup: ringBtoA,
        payload: (to, v) => ({ to, signal: v }),
        received: 'signal',
        extract: (p) => (p as { signal: unknown }).signal,
      },
    ];

    it.each(cases.map((c) => [c.event, c] as const))(
      '%s: exactly the limit passes, one byte over is PAYLOAD_TOO_LARGE',
      async (_n, tc) => {
        const wire = tc.event.split(' ')[0];
        for (const [label, ok, over] of values) {
          // the test values measure what they claim
          expect([label, jsonBytes(ok), jsonBytes(over)]).toEqual([label, 100, 101]);
          const [a, b] = await connectMany(server, 2);
          await tc.setup(a, b);
          const since = mark();
          const bad = await a.request(wire, tc.payload(b.id, over));
          expect([label, bad]).toEqual([label, { error: expect.any(String), code: 'PAYLOAD_TOO_LARGE' }]);
          await expectNothing([b], CALL_EVENTS, since);
          expect(a.connected).toBe(true);
          expect([label, await a.request(wire, tc.payload(b.id, ok))]).toEqual([label, {}]);
          const got = await b.waitFor(tc.received as 'call');
          expect([label, tc.extract(got)]).toEqual([label, ok]);
          a.close();
          b.close();
        }
      },
    );

    it('refuses an oversized call without ack via exception and creates no call', async () => {
      const [a, b] = await connectMany(server, 2);
      const since = mark();
      a.send('call', { userToCall: b.id, signal: 'a'.repeat(99) });
      expect(await a.waitFor('exception')).toEqual({
        event: 'call',
        error: expect.any(String),
        code: 'PAYLOAD_TOO_LARGE',
      });
      await expectNothing([b], CALL_EVENTS, since);
      expectError(await a.request('hangup', { to: b.id }), 'NO_CALL');
    });
  });

  describe('default 65536', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer();
    });

    it('passes a 65536-byte signal and refuses 65537 bytes', async () => {
      const [a, b, c] = await connectMany(server, 3);
      const ok = 'a'.repeat(65534);
      const multiOk = 'é'.repeat(32767); // 2 + 65534
      expect(jsonBytes(ok)).toBe(65536);
      expect(jsonBytes(multiOk)).toBe(65536);
      expectError(await a.request('call', { userToCall: b.id, signal: ok + 'a' }), 'PAYLOAD_TOO_LARGE');
      expectError(await a.request('call', { userToCall: b.id, signal: multiOk + 'a' }), 'PAYLOAD_TOO_LARGE');
      expect(await a.request('call', { userToCall: b.id, signal: ok })).toEqual({});
      expect((await b.waitFor('call')).signal).toBe(ok);
      expect(await a.request('call', { userToCall: c.id, signal: multiOk })).toEqual({});
      expect((await c.waitFor('call')).signal).toBe(multiOk);
      expectError(await b.request('signal', { to: a.id, signal: { blob: 'x'.repeat(65536) } }), 'PAYLOAD_TOO_LARGE');
    });
  });
});

describe('rate limiting (RATE_LIMIT_PER_SEC / RATE_LIMIT_BURST)', () => {
  it('allows a burst, then refuses with RATE_LIMITED (ping gets the error object); refills over time', async () => {
    const server = await startServer({ RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '5' });
    const [a, other] = await connectMany(server, 2);
    const replies = await Promise.all(Array.from({ length: 12 }, () => a.request<unknown>('ping')));
    expect(replies.slice(0, 5)).toEqual(Array(5).fill(a.id));
    const refused = replies.filter((r) => r !== a.id);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expectError(r, 'RATE_LIMITED');
    expect(a.connected).toBe(true);
    // per socket: another socket is unaffected
    expect(await other.request('ping')).toBe(other.id);
    // RATE_LIMITED comes before VALIDATION
    expectError(await a.request('login', {}), 'RATE_LIMITED');
    // without an ack: exception
    a.send('listUsers');
    expect(await a.waitFor('exception')).toEqual({
      event: 'listUsers',
      error: expect.any(String),
      code: 'RATE_LIMITED',
    });
    // tokens come back at the sustained rate
    await sleep(2200);
    expect(await a.request('ping')).toBe(a.id);
    expect(a.connected).toBe(true);
  });

  it('refuses rate-limited room messages without delivering them', async () => {
    const server = await startServer({ RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '4' });
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    await login(a, 'alice', room); // 1 event for a
    await login(b, 'bob', room);
    await a.waitFor('users', (l) => l.length === 2);
    const since = mark();
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => a.request<unknown>('roomMessage', { message: `m${i}` })),
    );
    const accepted = replies.filter((r) => !isErrorReply(r));
    const refused = replies.filter((r) => isErrorReply(r));
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expectError(r, 'RATE_LIMITED');
    await b.barrier();
    await sleep(250);
    expect(b.received('roomMessage', since)).toHaveLength(accepted.length);
  });

  it('limits by default (burst 100) and counts every event', async () => {
    const server = await startServer();
    const a = await connect(server);
    const replies = await Promise.all(Array.from({ length: 200 }, () => a.request<unknown>('ping')));
    const refused = replies.filter((r) => r !== a.id);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expectError(r, 'RATE_LIMITED');
    expect(replies.filter((r) => r === a.id).length).toBeGreaterThanOrEqual(100);
  });

  it('RATE_LIMIT_PER_SEC=0 turns limiting off', async () => {
    const server = await startServer({ RATE_LIMIT_PER_SEC: '0', RATE_LIMIT_BURST: '1' });
    const a = await connect(server);
    const replies = await Promise.all(Array.from({ length: 300 }, () => a.request<unknown>('ping')));
    expect(replies.every((r) => r === a.id)).toBe(true);
  });
});

describe('failing requests change nothing and never disconnect', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '0' });
  });

  const EVENTS = [
    'login',
    'logout',
    'roomMessage',
    'listUsers',
    'call',
    'answer',
    'offer',
    'candidate',
    'signal',
    'hangup',
  ];
  const GARBAGE: unknown[][] = [
    [],
    [null],
    [42],
    [true],
    [[]],
    [{}],
    [{ to: {} }],
    [{ message: {} }],
    [{ name: [], room: {} }],
    ['x'.repeat(10)],
    [1, 2, 3],
  ];
  const CODES = ['VALIDATION', 'NOT_LOGGED_IN', 'NOT_FOUND', 'NO_CALL', 'PAYLOAD_TOO_LARGE'];

  it.each(EVENTS)(
    '%s with malformed payloads: an error reply every time, the socket stays, others see nothing',
    async (event) => {
      const [a, member, peer] = await connectMany(server, 3);
      await login(member, 'member', uniqueRoom());
      const since = mark();
      for (const args of GARBAGE) {
        if (event === 'roomMessage' && typeof args[0] === 'string') continue; // a valid bare message form
        const reply = await a.request(event, ...args);
        expect([event, args, isErrorReply(reply)]).toEqual([event, args, true]);
        expect(CODES).toContain((reply as { code: string }).code);
        a.send(event, ...args);
      }
      // every ack-less failure produced exactly one exception for that event
      await a.barrier();
      await sleep(100);
      const exceptions = a.received('exception', since);
      expect(exceptions.length).toBeGreaterThan(0);
      for (const ex of exceptions) {
        expect(ex).toEqual({ event, error: expect.any(String), code: expect.any(String) });
      }
      expect(a.connected).toBe(true);
      expect(await a.request('ping')).toBe(a.id);
      await expectNothing([member, peer], ['notification', 'users', 'roomMessage', ...CALL_EVENTS], since);
      // nothing changed: a is not logged in, has no call with peer
      expectError(await a.request('listUsers'), 'NOT_LOGGED_IN');
      expectError(await a.request('hangup', { to: peer.id }), 'NO_CALL');
      expect((await member.request<{ users: unknown[] }>('listUsers')).users).toHaveLength(1);
    },
  );

  it('a logged-in socket survives malformed events and keeps its state', async () => {
    const [a, b] = await connectMany(server, 2);
    const room = uniqueRoom();
    const users = await joinRoom([a, b], room, ['alice', 'bob']);
    expect(await a.request('call', { userToCall: b.id })).toEqual({});
    await b.waitFor('call');
    const since = mark();
    for (const event of EVENTS.filter((e) => e !== 'logout' && e !== 'listUsers')) {
      for (const args of [[null], [42], [{ to: 7 }], [[]]]) {
        const reply = await a.request(event, ...args);
        expect([event, args, isErrorReply(reply)]).toEqual([event, args, true]);
      }
    }
    expect(a.connected).toBe(true);
    expect(await a.request('listUsers')).toEqual({ users });
    expect(await a.request('ping')).toBe(a.id);
    // the call is still pending
    expect(await b.request('answer', { to: a.id, signal: 'ok' })).toEqual({});
    expect(await a.waitFor('accepted')).toBe('ok');
    await expectNothing([b], ['roomMessage', 'notification', 'users'], since);
  });
});

describe('MAX_CONNECTIONS_PER_IP', () => {
  it('refuses one connection more with connect_error TOO_MANY_CONNECTIONS; a freed slot can be reused', async () => {
    const server = await startServer({ MAX_CONNECTIONS_PER_IP: '2' });
    const [a, b] = await connectMany(server, 2);
    await expect(connect(server)).rejects.toThrow('TOO_MANY_CONNECTIONS');
    // the refused attempt disturbed nobody
    expect(await a.request('ping')).toBe(a.id);
    expect(await b.request('ping')).toBe(b.id);
    a.close();
    const deadline = Date.now() + 3000;
    let c: TestClient | undefined;
    while (!c && Date.now() < deadline) {
      try {
        c = await connect(server);
      } catch {
        await sleep(50);
      }
    }
    expect(c).toBeDefined();
    expect(await c!.request('ping')).toBe(c!.id);
  });
});
