/**
 * A peer-channel client, event by event: `ready(peerId, peerType?)`, the `open`
 * announcements, `message` to every other socket, `messageOne` to one peer, a duplicate id
 * (`uniquenessError` + disconnect), `close` on disconnect, and relays sent before `ready`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  adminGet,
  closeClients,
  closeServers,
  Client,
  connect,
  expectQuiet,
  marks,
  startApp,
  unique,
  waitDisconnect,
  type Server,
} from './helpers/compat.js';

interface PeerMsg {
  from: string;
  target: string;
  payload: { action: string; connections?: unknown[]; bePolite?: boolean; message?: string };
}

let server: Server;

beforeAll(async () => {
  server = await startApp();
});
afterEach(() => closeClients());
afterAll(() => closeServers());

const isOpen = (m: PeerMsg) => m?.payload?.action === 'open';
const isClose = (m: PeerMsg) => m?.payload?.action === 'close';

/** A connected client that said `ready` and got its own `open`. */
async function peer(peerId: string, peerType?: string): Promise<{ c: Client; open: PeerMsg }> {
  const c = await connect(server);
  if (peerType === undefined) c.send('ready', peerId);
  else c.send('ready', peerId, peerType);
  const open = await c.waitFor<PeerMsg>('message', (m) => isOpen(m) && m.target === peerId);
  return { c, open };
}

describe('ready', () => {
  it('answers the new peer with open (bePolite false, the peers already there) and tells the others (bePolite true)', async () => {
    const idA = unique('a');
    const idB = unique('b');
    const { c: a, open: openA } = await peer(idA, 'camera');
    expect(openA).toEqual({
      from: 'all',
      target: idA,
      payload: { action: 'open', connections: expect.any(Array), bePolite: false },
    });
    expect(openA.payload.connections).not.toContainEqual(expect.objectContaining({ peerId: idA }));

    const { c: b, open: openB } = await peer(idB);
    expect(openB.from).toBe('all');
    expect(openB.target).toBe(idB);
    expect(openB.payload.bePolite).toBe(false);
    expect(openB.payload.connections).toContainEqual({ socketId: a.id, peerId: idA, peerType: 'camera' });

    const toA = await a.waitFor<PeerMsg>('message', (m) => isOpen(m) && m.from === idB);
    // peerType not given: absent, never null
    expect(toA).toEqual({
      from: idB,
      target: 'all',
      payload: { action: 'open', connections: [{ socketId: b.id, peerId: idB }], bePolite: true },
    });
  });

  it('peers readying at once each learn of every other exactly once', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(server)));
    const ids = clients.map(() => unique('z'));
    clients.forEach((c, i) => c.send('ready', ids[i]));
    await Promise.all(clients.map((c, i) => c.waitFor<PeerMsg>('message', (m) => isOpen(m) && m.target === ids[i])));
    await Promise.all(clients.map((c) => c.barrier()));
    clients.forEach((c, i) => {
      const opens = c.received<PeerMsg>('message').filter(isOpen);
      const learned = opens.flatMap((m) => (m.payload.connections as Array<{ peerId: string }>).map((p) => p.peerId));
      const others = ids.filter((_, j) => j !== i);
      expect(learned.filter((id) => ids.includes(id)).sort()).toEqual([...others].sort());
    });
  });

  it('acks {} when the client gives a callback, with one argument or two', async () => {
    const c = await connect(server);
    expect(await c.request('ready', unique('p'))).toEqual({});
    const d = await connect(server);
    expect(await d.request('ready', unique('p'), 'screen')).toEqual({});
  });

  it('treats a null peerType (an undefined argument) as not given', async () => {
    const c = await connect(server);
    const id = unique('p');
    expect(await c.request('ready', id, null)).toEqual({});
    const { body } = await adminGet(server, '/connections');
    expect(body).toContainEqual({ socketId: c.id, peerId: id });
  });

  it('refuses a taken id with uniquenessError { message, error } and disconnects that socket only', async () => {
    const id = unique('dup');
    const { c: first } = await peer(id);
    const second = await connect(server);
    const before = marks([first]);
    second.send('ready', id);
    const err = await second.waitFor<{ message: string; error: string }>('uniquenessError');
    expect(err).toEqual({ message: expect.any(String), error: err.message });
    expect(err.message).toContain(id);
    await waitDisconnect(second);
    expect(second.connected).toBe(false);
    // the first peer keeps its id and hears nothing (the refused socket was never a peer)
    await expectQuiet([first], before, ['message']);
    expect(first.connected).toBe(true);
    const { body } = await adminGet(server, '/connections');
    expect((body as Array<{ peerId: string; socketId: string }>).filter((p) => p.peerId === id)).toEqual([
      { socketId: first.id, peerId: id },
    ]);
  });

  it('acks a taken id with an error before the disconnect, when given a callback', async () => {
    const id = unique('dup');
    await peer(id);
    const second = await connect(server);
    const reply = await second.request('ready', id);
    expect(reply).toEqual({ error: expect.stringContaining(id), code: 'NAME_TAKEN' });
    expect(second.received('uniquenessError')).toHaveLength(1);
    await waitDisconnect(second);
  });

  it('repeats only the own open for the same id again, and refuses another id on the same socket', async () => {
    const id = unique('p');
    const { c } = await peer(id);
    const other = await peer(unique('o'));
    const m = marks([other.c]);
    expect(await c.request('ready', id)).toEqual({});
    await c.waitFor<PeerMsg>('message', (x) => isOpen(x) && x.target === id);
    const reply = await c.request('ready', unique('x'));
    expect(reply).toEqual({ error: expect.stringContaining(id), code: 'VALIDATION' });
    expect(c.connected).toBe(true);
    await expectQuiet([other.c], m, ['message']);
  });
});

describe('message', () => {
  it('reaches every other socket (peers or not) whole, with from = the sender peer id; acks {}', async () => {
    const idA = unique('a');
    const { c: a } = await peer(idA);
    const { c: b } = await peer(unique('b'));
    const bystander = await connect(server);
    const body = {
      from: 'forged',
      target: 'all',
      payload: { action: 'offer', sdp: 'v=0\r\n', nested: [1, { x: null }] },
      extra: true,
    };
    const m = marks([a]);
    expect(await a.request('message', body)).toEqual({});
    const expected = { ...body, from: idA };
    expect(await b.waitFor('message', (x: PeerMsg) => x.payload.action === 'offer')).toEqual(expected);
    expect(await bystander.waitFor('message')).toEqual(expected);
    await expectQuiet([a], m, ['message']);
  });

  it('is relayed before ready too, stamped with the socket id (a buffered emit flushed before connect handlers)', async () => {
    const listener = await connect(server);
    const id = unique('early');
    // Like newer clients: the emit is buffered, then flushed on connect before the
    // app's own `connect` handler sends `ready`.
    const c = new Client(server.url, { autoConnect: false });
    c.send('message', { type: 'hello', n: 1 });
    c.socket.on('connect', () => c.send('ready', id));
    c.socket.connect();
    c.send('message', { type: 'hello', n: 2 });
    const first = await listener.waitFor<Record<string, unknown>>('message', (x) => x.n === 1);
    const me = await c.waitFor<string>('me');
    expect(first).toEqual({ type: 'hello', n: 1, from: me });
    await c.waitFor<PeerMsg>('message', (x) => isOpen(x) && x.target === id);
    c.send('message', { type: 'hello', n: 3 });
    expect(await listener.waitFor('message', (x: Record<string, unknown>) => x.n === 3)).toEqual({
      type: 'hello',
      n: 3,
      from: id,
    });
  });

  it('from a socket that never said ready carries its socket id', async () => {
    const a = await connect(server);
    const b = await connect(server);
    a.send('message', { hi: 1 });
    expect(await b.waitFor('message')).toEqual({ hi: 1, from: a.id });
  });
});

describe('messageOne', () => {
  it('reaches only the peer registered under target, whole, from = sender peer id', async () => {
    const idA = unique('a');
    const idB = unique('b');
    const { c: a } = await peer(idA);
    const { c: b } = await peer(idB);
    const idC = unique('c');
    const { c: third } = await peer(idC);
    await a.waitFor<PeerMsg>('message', (x) => isOpen(x) && x.from === idB);
    await a.waitFor<PeerMsg>('message', (x) => isOpen(x) && x.from === idC);
    const m = marks([a, third]);
    const body = { target: idB, from: 'forged', payload: { action: 'answer', sdp: 'x' } };
    expect(await a.request('messageOne', body)).toEqual({});
    expect(await b.waitFor('message', (x: PeerMsg) => x.payload.action === 'answer')).toEqual({ ...body, from: idA });
    await expectQuiet([a, third], m, ['message']);
  });

  it('works before ready (from = socket id) and to oneself', async () => {
    const idB = unique('b');
    const { c: b } = await peer(idB);
    const a = await connect(server);
    expect(await a.request('messageOne', { target: idB, k: 1 })).toEqual({});
    expect(await b.waitFor('message', (x: Record<string, unknown>) => x.k === 1)).toEqual({
      target: idB,
      k: 1,
      from: a.id,
    });
    expect(await b.request('messageOne', { target: idB, k: 2 })).toEqual({});
    expect(await b.waitFor('message', (x: Record<string, unknown>) => x.k === 2)).toEqual({
      target: idB,
      k: 2,
      from: idB,
    });
  });

  it('refuses an unknown target with NOT_FOUND, by ack or by exception', async () => {
    const a = await connect(server);
    const missing = unique('nobody');
    expect(await a.request('messageOne', { target: missing, x: 1 })).toEqual({
      error: expect.stringContaining(missing),
      code: 'NOT_FOUND',
    });
    a.send('messageOne', { target: missing, x: 1 });
    expect(await a.waitFor('exception')).toEqual({ event: 'messageOne', error: expect.any(String), code: 'NOT_FOUND' });
  });
});

describe('disconnect', () => {
  it('makes the other registered peers receive close, and frees the id', async () => {
    const idA = unique('a');
    const idB = unique('b');
    const { c: a } = await peer(idA);
    const { c: b } = await peer(idB);
    const nonPeer = await connect(server);
    const m = marks([nonPeer]);
    a.close();
    expect(await b.waitFor('message', isClose)).toEqual({
      from: idA,
      target: 'all',
      payload: { action: 'close', message: expect.any(String) },
    });
    await expectQuiet([nonPeer], m, ['message']);
    // the id is free again
    const { open } = await peer(idA);
    expect(open.payload.connections).toContainEqual({ socketId: b.id, peerId: idB });
  });

  it('of a socket that never said ready sends no close', async () => {
    const { c: b } = await peer(unique('b'));
    const x = await connect(server);
    const m = marks([b]);
    x.close();
    await expectQuiet([b], m, ['message']);
  });
});

describe('GET /connections', () => {
  it('lists the peers as { socketId, peerId, peerType } with the admin token; 401 without', async () => {
    const idA = unique('a');
    const { c: a } = await peer(idA, 'cam');
    const res = await adminGet(server, '/connections');
    expect(res.status).toBe(200);
    expect(res.body).toContainEqual({ socketId: a.id, peerId: idA, peerType: 'cam' });
    expect((await adminGet(server, '/connections', 'wrong')).status).toBe(401);
    a.close();
    await sleep(100);
    const after = await adminGet(server, '/connections');
    expect(after.body).not.toContainEqual(expect.objectContaining({ peerId: idA }));
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
