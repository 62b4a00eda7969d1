/**
 * A chat room named after another socket's id must not receive that socket's private
 * events: Socket.IO puts every socket in a room named by its id.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { expectOk } from './helpers/assert.js';
import { closeAllClients, connect, login, sleep, uniqueRoom } from './helpers/client.js';
import { closeAllServers, startServer } from './helpers/server.js';

afterEach(async () => {
  closeAllClients();
  await closeAllServers();
});

describe('room names and socket ids', () => {
  it("a room named after a socket id receives none of that socket's calls or signals", async () => {
    const server = await startServer();
    const victim = await connect(server);
    const caller = await connect(server);
    const spy = await connect(server);
    await login(spy, 'spy', victim.id);
    await login(victim, 'victim', uniqueRoom());

    expectOk(await caller.request('call', { userToCall: victim.id, signal: { sdp: 'secret-offer' } }));
    expect((await victim.waitFor('call')).signal).toEqual({ sdp: 'secret-offer' });
    expectOk(await caller.request('signal', { to: victim.id, signal: 'secret-candidate' }));
    await victim.waitFor('signal');
    await spy.barrier();
    await sleep(150);
    expect(spy.received('call')).toEqual([]);
    expect(spy.received('signal')).toEqual([]);
  });

  it('a room named after a socket id still works as a room', async () => {
    const server = await startServer();
    const a = await connect(server);
    const b = await connect(server);
    await login(a, 'a', a.id);
    await login(b, 'b', a.id);
    const ack = await b.request<{ id: string }>('roomMessage', { message: 'hi' });
    expect((await a.waitFor('roomMessage', (m) => m.id === ack.id)).room).toBe(a.id);
  });
});
