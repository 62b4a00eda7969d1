/**
 * Malformed-argument sweep over every compatibility event: wrong types for every argument
 * (numbers, strings, arrays, null, nested objects, binary, missing arguments, a callback
 * where data was expected, extra arguments) and out-of-bounds values. Each gets an error
 * ack, or `exception { event, error, code }` without one; nothing crashes, nothing
 * changes, nobody else hears anything, the socket stays connected.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { User } from '../src/common/events.js';
import {
  adminGet,
  closeServers,
  connect,
  expectQuiet,
  marks,
  startApp,
  unique,
  type ClientType as Client,
  type Server,
} from './helpers/compat.js';

const MAX_MESSAGE_BYTES = 16;
const MAX_SIGNAL_BYTES = 64;

let server: Server;
let watcher: Client;
let watcherPeerId: string;
let room: string;

/** Stands for a function in the middle of the arguments (serialised by Socket.IO as null). */
const FN = Symbol('function argument');

type Code = 'VALIDATION' | 'PAYLOAD_TOO_LARGE';
interface Case {
  label: string;
  args: unknown[];
  code?: Code;
}

const binary = () => new Uint8Array([1, 2, 3]);

/** Bad values for an argument that must be a (short, clean) string. */
function notAString(): Case[] {
  return [
    { label: 'no argument', args: [] },
    { label: 'a number', args: [42] },
    { label: 'zero', args: [0] },
    { label: 'true', args: [true] },
    { label: 'null', args: [null] },
    { label: 'an empty array', args: [[]] },
    { label: 'an array of a string', args: [['name']] },
    { label: 'an object', args: [{ name: 'x', peerId: 'x' }] },
    { label: 'a nested object', args: [{ a: { b: { c: [1, 2, { d: 'e' }] } } }] },
    { label: 'binary', args: [binary()] },
    { label: 'a function, then a string', args: [FN, 'x'] },
    { label: 'an empty string', args: [''] },
    { label: 'only spaces', args: ['   '] },
    { label: 'a control character', args: ['a\u0000b'] },
    { label: 'DEL', args: ['a\u007fb'] },
  ];
}

/** Bad values for a payload that must be a JSON object. */
function notAnObject(): Case[] {
  return [
    { label: 'no argument', args: [] },
    { label: 'a number', args: [7] },
    { label: 'a string', args: ['text'] },
    { label: 'true', args: [true] },
    { label: 'null', args: [null] },
    { label: 'an empty array', args: [[]] },
    { label: 'an array of objects', args: [[{ a: 1 }]] },
    { label: 'binary', args: [binary()] },
    { label: 'a function, then an object', args: [FN, { a: 1 }] },
    { label: 'two objects', args: [{ a: 1 }, { b: 2 }] },
  ];
}

const SWEEP: Record<string, Case[]> = {
  'send-message': [
    ...notAnObject().filter((c) => c.label !== 'a string'), // a bare string is a message, as for roomMessage
    { label: 'two strings', args: ['a', 'b'] },
    { label: 'message a number', args: [{ message: 12 }] },
    { label: 'message null', args: [{ message: null }] },
    { label: 'message an array', args: [{ message: ['a'] }] },
    { label: 'message an object', args: [{ message: { nested: 'x' } }] },
    { label: 'message missing', args: [{ msg: 'x' }] },
    { label: 'message empty', args: [{ message: '' }] },
    { label: 'an empty bare string', args: [''] },
    {
      label: 'message over MAX_MESSAGE_BYTES',
      args: [{ message: 'é'.repeat(MAX_MESSAGE_BYTES) }],
      code: 'PAYLOAD_TOO_LARGE',
    },
  ],
  register: [
    ...notAString(),
    { label: 'two strings', args: ['a', 'b'] },
    { label: '33 characters', args: ['n'.repeat(33)] },
  ],
  ready: [
    // peer ids are not trimmed: '   ' is a valid id
    ...notAString().filter((c) => c.label !== 'only spaces'),
    { label: 'an array of two strings', args: [['p', 't']] },
    { label: '65 characters', args: ['p'.repeat(65)] },
    { label: 'a newline', args: ['peer\n'] },
    { label: 'a number peerId, string peerType', args: [5, 'cam'] },
    { label: 'peerType a number', args: [unique('p'), 5] },
    { label: 'peerType an object', args: [unique('p'), { type: 'cam' }] },
    { label: 'peerType an array', args: [unique('p'), ['cam']] },
    { label: 'peerType empty', args: [unique('p'), ''] },
    { label: 'peerType with a control character', args: [unique('p'), 'c\u0001'] },
    { label: 'three arguments', args: [unique('p'), 'cam', 'extra'] },
  ],
  message: [
    ...notAnObject(),
    { label: 'over MAX_SIGNAL_BYTES', args: [{ blob: 'x'.repeat(MAX_SIGNAL_BYTES) }], code: 'PAYLOAD_TOO_LARGE' },
  ],
  messageOne: [
    ...notAnObject(),
    { label: 'no target', args: [{ payload: 1 }] },
    { label: 'target a number', args: [{ target: 1 }] },
    { label: 'target null', args: [{ target: null }] },
    { label: 'target an array', args: [{ target: ['a'] }] },
    { label: 'target an object', args: [{ target: { id: 'a' } }] },
    { label: 'target empty', args: [{ target: '' }] },
    { label: 'target with a control character', args: [{ target: 'a\u0002' }] },
    { label: 'target of 129 characters', args: [{ target: 't'.repeat(129) }] },
    {
      label: 'over MAX_SIGNAL_BYTES',
      args: [{ target: 'someone', blob: 'x'.repeat(MAX_SIGNAL_BYTES) }],
      code: 'PAYLOAD_TOO_LARGE',
    },
  ],
};

beforeAll(async () => {
  server = await startApp({
    MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    MAX_SIGNAL_BYTES: String(MAX_SIGNAL_BYTES),
    RATE_LIMIT_PER_SEC: '0',
  });
  room = unique('room');
  // Someone in every compatibility audience: the room, the lobby, the peer channel.
  watcher = await connect(server, { auth: { name: 'watcher', room } });
  await watcher.waitFor('users');
  await watcher.request('register', 'watcher');
  watcherPeerId = unique('w');
  expect(await watcher.request('ready', watcherPeerId)).toEqual({});
});

afterAll(() => closeServers());

function materialise(args: unknown[]): unknown[] {
  return args.map((a) => (a === FN ? () => undefined : a));
}

describe.each(Object.entries(SWEEP))('%s', (event, cases) => {
  let c: Client;
  let others: number[];

  beforeAll(async () => {
    // the sender of send-message is logged in, so only validation can refuse it
    c = event === 'send-message' ? await connect(server, { auth: { name: unique('s'), room } }) : await connect(server);
    if (event === 'send-message') {
      await c.waitFor<User[]>('users', (u) => u.some((x) => x.id === c.id));
      await watcher.waitFor('user-connected', (p: { user: User }) => p.user.id === c.id);
    }
    await watcher.barrier();
    others = marks([watcher]);
  });

  it.each(cases)('$label: error ack, then exception without an ack', async ({ args, code }) => {
    const reply = await c.request(event, ...materialise(args));
    expect(reply).toEqual({ error: expect.any(String), code: code ?? 'VALIDATION' });
    expect((reply as { error: string }).error.length).toBeGreaterThan(0);

    c.send(event, ...materialise(args));
    expect(await c.waitFor('exception')).toEqual({ event, error: expect.any(String), code: code ?? 'VALIDATION' });
    expect(c.connected).toBe(true);
  });

  it('changed nothing: still connected, no extra replies, nobody else heard anything', async () => {
    await expectQuiet([watcher], others);
    await c.barrier();
    expect(c.received('exception')).toHaveLength(cases.length);
    expect(c.received('message')).toEqual([]);
    expect(c.received('new-message')).toEqual([]);
    expect(c.received('uniquenessError')).toEqual([]);
    expect(c.connected).toBe(true);

    const { body: peers } = await adminGet(server, '/connections');
    expect(peers).toEqual([{ socketId: watcher.id, peerId: watcherPeerId }]);
    watcher.send('getOnlineUsers');
    expect(await watcher.waitFor('onlineUsers')).toEqual({ [watcher.id]: 'watcher' });
    others = marks([watcher]);
  });
});

describe('events without a payload ignore whatever is sent', () => {
  it.each([[42], [null], ['x'], [{ a: 1 }], [[1, 2]]])('getOnlineUsers(%j) still answers', async (junk) => {
    const c = await connect(server);
    expect(await c.request('getOnlineUsers', junk)).toEqual({});
    expect(await c.waitFor('onlineUsers')).toEqual({ [watcher.id]: 'watcher' });
    c.close();
  });
});

describe('handshake values of the wrong type', () => {
  it.each([
    ['a number name', { name: 1, room: 'r' }],
    ['an array room', { name: 'n', room: ['r'] }],
    ['an object name', { name: { first: 'n' }, room: 'r' }],
    ['an object username', { username: { first: 'n' }, room: 'r' }],
    ['a boolean room', { name: 'n', room: true }],
    ['a number publicKey', { name: 'n', room: 'r', publicKey: 5 }],
  ])('%s: exception { event: login }, connected, not logged in', async (_label, auth) => {
    const c = await connect(server, { auth });
    expect(await c.waitFor('exception')).toEqual({ event: 'login', error: expect.any(String), code: 'VALIDATION' });
    expect(await c.request('listUsers')).toMatchObject({ code: 'NOT_LOGGED_IN' });
    c.close();
  });

  it('a null name or room is no login attempt at all', async () => {
    const c = await connect(server, { auth: { name: null, room: 'r' } });
    const m = marks([c]);
    await expectQuiet([c], m);
    c.close();
  });
});

describe('after the sweep', () => {
  it('the server still serves everyone', async () => {
    const a = await connect(server, { auth: { name: 'after', room } });
    await a.waitFor('users');
    expect(await a.request('send-message', { message: 'ok' })).toEqual({
      id: expect.any(String),
      at: expect.any(Number),
      offset: 1,
      epoch: expect.any(String),
    });
    expect(await watcher.waitFor('new-message', (m: { msg: string }) => m.msg === 'ok')).toMatchObject({
      from: 'after',
    });
    expect(watcher.connected).toBe(true);
  });
});
