/**
 * `direct`: a separate opaque payload per recipient in the sender's room. Each recipient
 * gets its own payload and nobody else anything; a request naming a non-member delivers
 * nothing; bounds, sizes and validation; the rate limit; and delivery across two nodes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { DirectMessage } from '../src/common/events.js';
import { expectError, expectOk } from './helpers/assert.js';
import {
  closeAllClients,
  connect,
  connectMany,
  expectNothing,
  joinRoom,
  login,
  mark,
  uniqueName,
  uniqueRoom,
  type TestClient,
} from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { deletePrefix, describeWithRedis, runPrefix, startNode, type RedisNode } from './helpers/redis.js';

const MAX_ROOM_USERS = 5;
const MAX_SIGNAL_BYTES = 200;
const MAX_MESSAGE_BYTES = 100; // so the whole request may carry 400 bytes
const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');
/** An opaque value `depth` levels deep: arrays inside arrays around a scalar. */
const nest = (depth: number): unknown => (depth === 0 ? 1 : [nest(depth - 1)]);

afterEach(() => closeAllClients());
afterAll(async () => {
  closeAllClients();
  await closeAllServers();
});

/** What a non-recipient must never see. */
const ALL_DIRECT = ['direct'];

describe('direct', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      MAX_ROOM_USERS: String(MAX_ROOM_USERS),
      MAX_SIGNAL_BYTES: String(MAX_SIGNAL_BYTES),
      MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      RATE_LIMIT_PER_SEC: '0',
    });
  });

  async function room(n: number): Promise<TestClient[]> {
    const clients = await connectMany(server, n);
    await joinRoom(clients, uniqueRoom('direct'));
    return clients;
  }

  it('gives each recipient its own payload, stamped by the server, and nobody else anything', async () => {
    const [alice, bob, carol, dave] = await room(4);
    const outsider = await connect(server);
    await login(outsider, uniqueName(), uniqueRoom('elsewhere'));
    const lurker = await connect(server); // connected, never logged in
    const since = mark();

    const reply = await alice.request<{ at: number }>('direct', {
      items: [
        { to: bob.id, payload: { share: 'for-bob', n: [1, 2] }, extra: 'stripped' },
        { to: carol.id, payload: 'for-carol' },
      ],
      from: 'mallory', // ignored: the server stamps the sender
    });
    expectOk(reply);
    expect(Object.keys(reply)).toEqual(['at']);
    expect(typeof reply.at).toBe('number');

    const toBob = await bob.waitFor('direct');
    const toCarol = await carol.waitFor('direct');
    const user = alice.log.find((r) => r.event === 'ack:login');
    expect(user).toBeDefined();
    const aliceUser = (user!.args[0] as { user: { name: string; room: string } }).user;
    expect(toBob).toEqual({
      from: aliceUser.name,
      fromId: alice.id,
      room: aliceUser.room,
      payload: { share: 'for-bob', n: [1, 2] },
      at: reply.at,
    });
    expect(toCarol).toEqual({
      from: aliceUser.name,
      fromId: alice.id,
      room: aliceUser.room,
      payload: 'for-carol',
      at: reply.at,
    });

    await expectNothing([alice, dave, outsider, lurker], ALL_DIRECT, since);
    // Exactly one each.
    expect(bob.received('direct', since)).toHaveLength(1);
    expect(carol.received('direct', since)).toHaveLength(1);
    // Not retained or broadcast as a room message.
    expect([...alice.received('roomMessage', since), ...bob.received('roomMessage', since)]).toEqual([]);
  });

  it('NOT_FOUND for a recipient outside the room, naming it, and nothing is delivered to anyone', async () => {
    const [alice, bob, carol] = await room(3);
    const outsider = await connect(server);
    await login(outsider, uniqueName(), uniqueRoom('other'));
    const since = mark();
    for (const stranger of [outsider.id, 'no-such-socket']) {
      const reply = await alice.request('direct', {
        items: [
          { to: bob.id, payload: 1 },
          { to: stranger, payload: 2 },
          { to: carol.id, payload: 3 },
        ],
      });
      expectError(reply, 'NOT_FOUND', new RegExp(stranger));
    }
    await expectNothing([alice, bob, carol, outsider], ALL_DIRECT, since);
    // A member who logged out is no longer a recipient.
    await carol.request('logout');
    expectError(
      await alice.request('direct', { items: [{ to: carol.id, payload: 'x' }] }),
      'NOT_FOUND',
      new RegExp(carol.id),
    );
    await expectNothing([carol], ALL_DIRECT, since);
  });

  it('refuses the sender itself, a repeated recipient and malformed items with VALIDATION, delivering nothing', async () => {
    const [alice, bob] = await room(2);
    const since = mark();
    const cases: Array<[unknown, RegExp]> = [
      [{ items: [{ to: alice.id, payload: 1 }] }, /items\[0\]\.to/],
      [
        {
          items: [
            { to: bob.id, payload: 1 },
            { to: bob.id, payload: 2 },
          ],
        },
        /items\[1\]\.to/,
      ],
      [{ items: [] }, /items/],
      [{}, /items/],
      [{ items: 'nope' }, /items/],
      [{ items: [bob.id] }, /items\[0\]/],
      [{ items: [null] }, /items\[0\]/],
      [{ items: [{ payload: 1 }] }, /items\[0\]\.to/],
      [{ items: [{ to: 7, payload: 1 }] }, /items\[0\]\.to/],
      [{ items: [{ to: '', payload: 1 }] }, /items\[0\]\.to/],
      [{ items: [{ to: 'a\u0000b', payload: 1 }] }, /items\[0\]\.to/],
      [{ items: [{ to: 'x'.repeat(129), payload: 1 }] }, /items\[0\]\.to/],
      [{ items: [{ to: bob.id }] }, /items\[0\]\.payload/],
      [{ items: [{ to: bob.id, payload: null }] }, /items\[0\]\.payload/],
      [{ items: [{ to: bob.id, payload: nest(33) }] }, /items\[0\]\.payload/],
      [{ items: [{ to: bob.id, payload: { a: [1, { b: nest(31) }] } }] }, /items\[0\]\.payload/],
      [{ items: Array.from({ length: MAX_ROOM_USERS + 1 }, (_, i) => ({ to: `id-${i}`, payload: i })) }, /items/],
      ['a string', /payload/i],
      [[{ to: bob.id, payload: 1 }], /payload/i],
    ];
    for (const [payload, mentions] of cases) {
      expectError(await alice.request('direct', payload), 'VALIDATION', mentions);
    }
    await expectNothing([alice, bob], ALL_DIRECT, since);
    expect(alice.connected && bob.connected).toBe(true);
  });

  it('accepts a payload nested exactly 32 levels deep', async () => {
    const [alice, bob] = await room(2);
    expectOk(await alice.request('direct', { items: [{ to: bob.id, payload: nest(32) }] }));
    expect((await bob.waitFor('direct')).payload).toEqual(nest(32));
  });

  it('holds each payload to MAX_SIGNAL_BYTES and the whole request to 4 × MAX_MESSAGE_BYTES (compact JSON)', async () => {
    const [alice, bob, carol, dave] = await room(4);
    // A string payload of k characters is k + 2 bytes of JSON.
    const atLimit = 'é'.repeat((MAX_SIGNAL_BYTES - 2) / 2);
    expect(jsonBytes(atLimit)).toBe(MAX_SIGNAL_BYTES);
    expectOk(await alice.request('direct', { items: [{ to: bob.id, payload: atLimit }] }));
    expect((await bob.waitFor('direct')).payload).toBe(atLimit);

    const since = mark();
    expectError(
      await alice.request('direct', { items: [{ to: bob.id, payload: `${atLimit}a` }] }),
      'PAYLOAD_TOO_LARGE',
      /items\[0\]\.payload/,
    );
    expectError(
      await alice.request('direct', {
        items: [
          { to: bob.id, payload: 1 },
          { to: carol.id, payload: { k: 'x'.repeat(MAX_SIGNAL_BYTES) } },
        ],
      }),
      'PAYLOAD_TOO_LARGE',
      /items\[1\]\.payload/,
    );
    // Three payloads each under the item limit but over 4 × MAX_MESSAGE_BYTES together.
    const big = 'x'.repeat(150);
    const items = [bob, carol, dave].map((c) => ({ to: c.id, payload: big }));
    expect(jsonBytes(items)).toBeGreaterThan(4 * MAX_MESSAGE_BYTES);
    expectError(await alice.request('direct', { items }), 'PAYLOAD_TOO_LARGE', /items/);
    await expectNothing([bob, carol, dave], ALL_DIRECT, since);

    // Just under the total: two of them go.
    const two = items.slice(0, 2);
    expect(jsonBytes(two)).toBeLessThanOrEqual(4 * MAX_MESSAGE_BYTES);
    expectOk(await alice.request('direct', { items: two }));
    await bob.waitFor('direct');
    await carol.waitFor('direct');
  });

  it('checks bounds before login: VALIDATION / PAYLOAD_TOO_LARGE, then NOT_LOGGED_IN; exception without an ack', async () => {
    const [member] = await room(1);
    const stranger = await connect(server);
    expectError(await stranger.request('direct', { items: [] }), 'VALIDATION');
    expectError(
      await stranger.request('direct', { items: [{ to: member.id, payload: 'x'.repeat(MAX_SIGNAL_BYTES) }] }),
      'PAYLOAD_TOO_LARGE',
    );
    expectError(await stranger.request('direct', { items: [{ to: member.id, payload: 1 }] }), 'NOT_LOGGED_IN');
    stranger.send('direct', { items: [{ to: member.id, payload: 1 }] });
    const exception = await stranger.waitFor('exception');
    expect(exception).toEqual({ event: 'direct', error: expect.any(String), code: 'NOT_LOGGED_IN' });
    await expectNothing([member], ALL_DIRECT, 0);
  });

  it('is counted in /metrics, per recipient', async () => {
    const [alice, bob, carol] = await room(3);
    const count = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(/^parley_direct_items_relayed_total (\d+)/m.exec(text)?.[1] ?? NaN);
    };
    const before = await count();
    expectOk(
      await alice.request('direct', {
        items: [
          { to: bob.id, payload: 1 },
          { to: carol.id, payload: 2 },
        ],
      }),
    );
    expect(await count()).toBe(before + 2);
  });
});

describe('direct under the rate limit', () => {
  it('counts against the per-socket limit like any event', async () => {
    const server = await startServer({ RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '4' });
    const [alice, bob] = await connectMany(server, 2);
    const room = uniqueRoom('rl');
    await login(alice, uniqueName(), room);
    await login(bob, uniqueName(), room);
    await new Promise((r) => setTimeout(r, 3000)); // refill after the logins
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => alice.request('direct', { items: [{ to: bob.id, payload: i }] })),
    );
    const limited = replies.filter((r) => (r as { code?: string }).code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    const delivered = replies.length - limited.length;
    await bob.barrier();
    expect(bob.received('direct')).toHaveLength(delivered);
  }, 15_000);
});

const describeRedis = await describeWithRedis('direct.e2e-spec');

describeRedis('direct across two nodes over Redis', () => {
  const prefix = runPrefix('direct');
  let a: RedisNode;
  let b: RedisNode;
  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_SEC: '0' };
    a = await startNode(prefix, env);
    b = await startNode(prefix, env);
  });
  afterAll(async () => {
    closeAllClients();
    await Promise.all([a, b].filter(Boolean).map((n) => n.close()));
    await deletePrefix(prefix);
  });

  it('reaches members on the other node, only them, and NOT_FOUND delivers nothing', async () => {
    const clients = [await connect(a.url), await connect(b.url), await connect(b.url), await connect(a.url)];
    const [alice, bob, carol, dave] = clients;
    const users = await joinRoom(clients, uniqueRoom('cluster-direct'));
    const since = mark();
    const reply = await alice.request<{ at: number }>('direct', {
      items: [
        { to: bob.id, payload: 'b' },
        { to: dave.id, payload: 'd' },
      ],
    });
    expectOk(reply);
    const expected = (payload: string): DirectMessage => ({
      from: users[0].name,
      fromId: alice.id,
      room: users[0].room,
      payload,
      at: reply.at,
    });
    expect(await bob.waitFor('direct')).toEqual(expected('b'));
    expect(await dave.waitFor('direct')).toEqual(expected('d'));
    await expectNothing([alice, carol], ALL_DIRECT, since);

    // A member of another room on the other node is not a recipient.
    const outsider = await connect(b.url);
    await login(outsider, uniqueName(), uniqueRoom('cluster-other'));
    const before = mark();
    expectError(
      await carol.request('direct', {
        items: [
          { to: alice.id, payload: 1 },
          { to: outsider.id, payload: 2 },
        ],
      }),
      'NOT_FOUND',
      new RegExp(outsider.id),
    );
    await expectNothing([alice, bob, carol, dave, outsider], ALL_DIRECT, before);
  });
});
