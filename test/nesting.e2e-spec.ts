/**
 * The nesting rule on opaque values: nested more than 32 levels deep (a scalar is 0, each
 * enclosing array or object adds one) is VALIDATION naming the field, for every opaque
 * value (call.signal, answer signal/sdp, offer sdp, candidate, signal, the peer `message`
 * and `messageOne`); exactly 32 levels is accepted; 10,000 and 150,000 levels get the same
 * clean refusal, never INTERNAL or a closed socket, and the socket carries on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { expectError, expectOk } from './helpers/assert.js';
import { closeAllClients, connect, login, mark, uniqueRoom, type TestClient } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

/** `depth` levels of arrays (or objects) around a scalar, as JSON text. */
function nested(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

let ackIds = 900_000;

/**
 * Sends an event whose arguments are given as JSON text, straight into the engine: the
 * Socket.IO client's own encoder recurses (hasBinary) and could not even send these
 * values. Resolves to the ack's reply (read from the raw frames), or with `ack: false`
 * sends no ack id.
 */
function rawEmit(client: TestClient, event: string, argsJson: string, ack = true, timeout = 10_000): Promise<unknown> {
  const engine = client.socket.io.engine as unknown as {
    write(data: string): void;
    on(e: 'message', fn: (d: unknown) => void): void;
    off(e: 'message', fn: (d: unknown) => void): void;
  };
  const frameArgs = `[${JSON.stringify(event)},${argsJson}]`;
  if (!ack) {
    engine.write(`2${frameArgs}`);
    return Promise.resolve(undefined);
  }
  const id = ackIds++;
  return new Promise((resolve, reject) => {
    const onMessage = (data: unknown) => {
      if (typeof data !== 'string' || !data.startsWith(`3${id}[`)) return;
      clearTimeout(timer);
      engine.off('message', onMessage);
      resolve((JSON.parse(data.slice(`3${id}`.length)) as unknown[])[0]);
    };
    const timer = setTimeout(() => {
      engine.off('message', onMessage);
      reject(new Error(`no ack for raw '${event}' within ${timeout} ms`));
    }, timeout);
    engine.on('message', onMessage);
    engine.write(`2${id}${frameArgs}`);
  });
}

afterEach(() => closeAllClients());
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

describe('opaque values nested too deep', () => {
  let server: TestServer;
  let a: TestClient;
  let b: TestClient;

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '0' });
  });

  /** a and b in a room, in an active call, b a registered peer. */
  async function setUp(): Promise<void> {
    a = await connect(server);
    b = await connect(server);
    const room = uniqueRoom('deep');
    await login(a, 'alice', room);
    await login(b, 'bob', room);
    expectOk(await a.request('call', { userToCall: b.id }));
    await b.waitFor('call');
    expectOk(await b.request('answer', { to: a.id, signal: 'ok' }));
    await a.waitFor('accepted');
    b.send('ready', 'peer-bob');
    await b.waitFor('message', (m) => (m as { target?: string }).target === 'peer-bob');
  }

  const q = JSON.stringify;
  const cases: Array<[string, string, (v: string, to: () => string) => string, RegExp]> = [
    ['call.signal', 'call', (v, to) => `{"userToCall":${q(to())},"signal":${v}}`, /signal/],
    ['answer.signal', 'answer', (v, to) => `{"to":${q(to())},"signal":${v}}`, /signal/],
    ['answer.sdp', 'answer', (v, to) => `{"to":${q(to())},"sdp":${v}}`, /sdp/],
    ['offer.sdp', 'offer', (v, to) => `{"to":${q(to())},"sdp":${v}}`, /sdp/],
    ['candidate.candidate', 'candidate', (v, to) => `{"to":${q(to())},"candidate":${v}}`, /candidate/],
    ['signal.signal', 'signal', (v, to) => `{"to":${q(to())},"signal":${v}}`, /signal/],
    ['message (peer channel)', 'message', (v) => `{"payload":${v}}`, /message/],
    ['messageOne', 'messageOne', (v) => `{"target":"peer-bob","payload":${v}}`, /message/],
  ];

  for (const depth of [33, 10_000, 150_000]) {
    it.each(cases)(
      `refuses %s nested ${depth} levels deep with VALIDATION; nothing is relayed`,
      async (_label, event, args, field) => {
        await setUp();
        const since = mark();
        // A fresh callee for `call` (a has an active call with b already).
        const c = event === 'call' ? await connect(server) : b;
        // The peer message wraps the value in one more object.
        const value = nested(event === 'message' || event === 'messageOne' ? depth - 1 : depth);
        const reply = await rawEmit(
          a,
          event,
          args(value, () => c.id),
        );
        expectError(reply, 'VALIDATION', field);
        expect((reply as { error: string }).error).toMatch(/32 levels/);
        expect(a.connected).toBe(true);
        await c.barrier();
        expect(
          c
            .eventsSince(since)
            .filter((e) => ['call', 'accepted', 'answer', 'offer', 'candidate', 'signal', 'message'].includes(e)),
        ).toEqual([]);
        // The socket carries on.
        expect(await a.request('ping')).toBe(a.id);
      },
      30_000,
    );
  }

  it.each(cases)('accepts %s nested exactly 32 levels deep', async (_label, event, args) => {
    await setUp();
    const c = event === 'call' ? await connect(server) : b;
    const value = nested(event === 'message' || event === 'messageOne' ? 31 : 32, 'object');
    expectOk(
      await rawEmit(
        a,
        event,
        args(value, () => c.id),
      ),
    );
  });

  it('refuses 10,000 levels of objects without an ack with an `exception`, never INTERNAL', async () => {
    await setUp();
    await rawEmit(a, 'signal', `{"to":${JSON.stringify(b.id)},"signal":${nested(10_000, 'object')}}`, false);
    const e = await a.waitFor('exception');
    expect(e).toEqual({ event: 'signal', error: expect.stringMatching(/signal/), code: 'VALIDATION' });
  });
});
