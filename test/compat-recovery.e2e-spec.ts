/**
 * RECOVERY_WINDOW_MS > 0: a lobby or peer-channel socket whose transport drops is held for
 * the window (still listed, still reachable, nobody hears anything); if it comes back with
 * its session it simply carries on, else `userDisconnected` and the peer `close` are sent
 * when the window ends.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
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

// Long enough that the quiet checks (a ping barrier, then 250 ms) end well inside it on a busy machine.
const WINDOW = 1500;

let server: Server;

beforeAll(async () => {
  server = await startApp({ RECOVERY_WINDOW_MS: String(WINDOW) });
});
afterEach(() => closeClients());
afterAll(() => closeServers());

/** In the lobby and the peer channel, and past one room broadcast (a recovery offset). */
async function member(name: string, peerId: string, options: Parameters<typeof connect>[1] = {}): Promise<Client> {
  const c = await connect(server, options);
  expect(await c.request('register', name)).toEqual({});
  expect(await c.request('ready', peerId)).toEqual({});
  return c;
}

const isClose = (m: { payload?: { action?: string } }) => m?.payload?.action === 'close';

describe('a dropped compatibility socket', () => {
  it('is held for the window, then departs with userDisconnected and close', async () => {
    const idA = unique('a');
    const a = await member('a', idA);
    const b = await member('b', unique('b'));
    const m = marks([b]);
    a.socket.io.engine?.close(); // transport drop, no reconnection
    await sleep(WINDOW / 3);
    await expectQuiet([b], m, ['userDisconnected', 'message']);
    // still listed and reachable while held
    expect((await adminGet(server, '/connections')).body).toContainEqual({ socketId: a.id, peerId: idA });
    expect(await b.request('messageOne', { target: idA, x: 1 })).toEqual({});
    b.send('getOnlineUsers');
    expect(await b.waitFor('onlineUsers')).toMatchObject({ [a.id]: 'a' });

    expect(await b.waitFor('userDisconnected', undefined, WINDOW * 3)).toBe(a.id);
    expect(await b.waitFor('message', isClose, WINDOW * 3)).toMatchObject({ from: idA, target: 'all' });
    expect((await adminGet(server, '/connections')).body).not.toContainEqual(expect.objectContaining({ peerId: idA }));
  });

  it('that comes back with its session carries on: nobody hears anything, it keeps its id and names', async () => {
    const idB = unique('b');
    const b = await member('b', idB);
    const idA = unique('a');
    const a = await member('a', idA, { reconnection: true });
    // a room broadcast reaches `a`, so its session has an offset to recover from
    b.send('message', { hello: 'a' });
    await a.waitFor('message', (x: { hello?: string }) => x.hello === 'a');
    const m = marks([b]);
    const oldId = a.id;
    a.socket.io.engine?.close();
    await new Promise<void>((resolve) => a.socket.once('connect', () => resolve()));
    expect((a.socket as unknown as { recovered: boolean }).recovered).toBe(true);
    expect(a.socket.id).toBe(oldId);
    await sleep(WINDOW + 300);
    await expectQuiet([b], m, ['userDisconnected', 'message', 'userConnected']);
    // the recovered socket is still the peer and the lobby member
    expect(await b.request('messageOne', { target: idA, back: true })).toEqual({});
    expect(await a.waitFor('message', (x: { back?: boolean }) => x.back === true)).toMatchObject({ from: idB });
    b.send('getOnlineUsers');
    expect(await b.waitFor('onlineUsers')).toMatchObject({ [oldId]: 'a' });
    a.send('message', { again: 1 });
    expect(await b.waitFor('message', (x: { again?: number }) => x.again === 1)).toEqual({ again: 1, from: idA });
  });

  it('that disconnects on purpose departs at once', async () => {
    const a = await member('a', unique('a'));
    const b = await member('b', unique('b'));
    a.close();
    expect(await b.waitFor('userDisconnected', undefined, WINDOW / 2)).toBe(a.id);
  });
});
