/**
 * Nothing sensitive reaches the logs, at any level (debug and verbose included): no message
 * body, signal, SDP, ICE candidate, peer-channel payload, public key, token or secret, on
 * success and on every failure path (validation, size, rate limit, flood, auth refusal,
 * unexpected errors). Every event is driven with distinctive markers; then no marker may
 * appear in anything the app logged, nor on the console.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  closeAllClients,
  connect,
  login,
  sleep,
  uniqueRoom,
  waitDisconnect,
  type TestClient,
} from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { hsToken } from './helpers/tokens.js';

const tag = Math.random().toString(36).slice(2, 8);
const M = (what: string) => `MARKER${what}${tag}`;

const SECRET = M('JWTSECRET');
const ADMIN = M('ADMINTOKEN');
const TURN = M('TURNSECRET');

const console_: string[] = [];
const spies: Array<{ mockRestore(): void }> = [];

function captureConsole(): void {
  for (const method of ['log', 'error', 'warn', 'info', 'debug', 'trace'] as const) {
    const original = console[method].bind(console);
    spies.push(
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        console_.push(args.map(String).join(' '));
        original(...args);
      }),
    );
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    spies.push(
      jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        console_.push(String(chunk));
        return original(chunk, ...rest);
      }) as never),
    );
  }
}

afterAll(async () => {
  closeAllClients();
  await sleep(100);
  await closeAllServers();
  for (const s of spies) s.mockRestore();
});

describe('no sensitive data in the logs', () => {
  const logger = new CaptureLogger();
  let server: TestServer;
  const markers: string[] = [SECRET, ADMIN, TURN];
  const mark = (what: string) => {
    const m = M(what);
    markers.push(m);
    return m;
  };

  beforeAll(async () => {
    captureConsole();
    server = await startServer(
      {
        LOG_LEVEL: 'verbose',
        RATE_LIMIT_PER_SEC: '0',
        AUTH_JWT_SECRET: SECRET,
        ADMIN_TOKEN: ADMIN,
        TURN_SECRET: TURN,
        TURN_URLS: 'turn:turn.example:3478',
        MAX_MESSAGE_BYTES: '4096',
        MAX_SIGNAL_BYTES: '4096',
      },
      { logger },
    );
  });

  it('drives every event with markers on success and failure paths', async () => {
    const room = uniqueRoom();
    const tokenA = await hsToken({ name: 'alice', rooms: [room], marker: mark('CLAIM') } as never, {
      secret: SECRET,
      expiresIn: 600,
    });
    const tokenB = await hsToken({}, { secret: SECRET, expiresIn: 600 });
    markers.push(tokenA, tokenB, tokenA.split('.')[2], tokenB.split('.')[2]);
    const a = await connect(server.url, { auth: { token: tokenA } });
    const b = await connect(server.url, { auth: { token: tokenB } });

    // Refused handshakes: a forged token, a token signed with the wrong secret, garbage.
    const forged = await hsToken({ marker: mark('FORGED') } as never, { secret: mark('WRONGSECRET') });
    markers.push(forged);
    for (const token of [forged, mark('GARBAGETOKEN'), `${mark('DOTTED')}.x.y`]) {
      await expect(connect(server.url, { auth: { token } })).rejects.toThrow('UNAUTHORIZED');
    }

    // Chat, with a public key.
    await login(a, 'alice', room, { publicKey: mark('PUBLICKEY') });
    await login(b, 'bob', room, { publicKey: mark('PUBLICKEYB') });
    expect(await a.request('roomMessage', { message: mark('BODY') })).toHaveProperty('id');
    a.send('roomMessage', mark('BAREBODY'));
    expect(await a.request('send-message', { message: mark('COMPATBODY') })).toHaveProperty('id');
    await a.request('listUsers');
    await a.request('iceServers');
    // direct: delivered, too large, a non-member, malformed.
    expect(
      await a.request('direct', { items: [{ to: b.id, payload: { share: mark('DIRECTPAYLOAD') } }] }),
    ).toHaveProperty('at');
    await a.request('direct', { items: [{ to: b.id, payload: mark('DIRECTHUGE').repeat(500) }] });
    await a.request('direct', {
      items: [
        { to: b.id, payload: 1 },
        { to: 'nobody', payload: mark('DIRECTNOTFOUND') },
      ],
    });
    await a.request('direct', { items: [{ to: b.id }], extra: mark('DIRECTEXTRA') });
    // Failures that carry the sensitive field.
    await a.request('roomMessage', { message: mark('TOOLARGE').repeat(400) });
    await a.request('roomMessage', { message: { nested: mark('BADTYPEBODY') } });
    await b.request('login', { name: mark('BADNAME\u0001'), room, publicKey: mark('BADKEY') });
    await b.request('login', { name: 'bob2', room: uniqueRoom(), publicKey: mark('KEYONREFUSEDLOGIN') });

    // Calls: every signaling event, with opaque values.
    expect(await a.request('call', { userToCall: b.id, signal: { sdp: mark('CALLSIGNAL') }, name: 'alice' })).toEqual(
      {},
    );
    expect(await b.request('answer', { to: a.id, signal: { sdp: mark('ANSWERSIGNAL') } })).toEqual({});
    expect(await a.request('answer', { to: b.id, sdp: mark('ANSWERSDP') })).toEqual({});
    expect(await a.request('offer', { to: b.id, sdp: { type: 'offer', sdp: mark('OFFERSDP') } })).toEqual({});
    expect(await b.request('candidate', { to: a.id, candidate: { candidate: mark('CANDIDATE') } })).toEqual({});
    expect(await a.request('signal', { to: b.id, signal: { renegotiate: mark('RELAYSIGNAL') } })).toEqual({});
    await a.request('signal', { to: b.id, signal: mark('HUGESIGNAL').repeat(500) }); // PAYLOAD_TOO_LARGE
    await a.request('signal', { to: 'nobody', signal: mark('NOTFOUNDSIGNAL') }); // NOT_FOUND
    await a.request('offer', { to: b.id, sdp: { constructor: mark('CTORSDP') } }); // an odd payload
    await a.request('hangup', { to: b.id });
    await a.request('hangup', { to: b.id, extra: mark('HANGUPEXTRA') }); // NO_CALL

    // Compatibility events: lobby and peer channel.
    await a.request('register', 'alice-lobby');
    await a.request('register', { name: mark('REGISTEROBJ') });
    await a.request('getOnlineUsers');
    a.send('ready', 'peer-a', 'browser');
    b.send('ready', 'peer-b');
    await a.waitFor('message', (m) => (m as { from?: string }).from === 'peer-b');
    expect(await a.request('message', { target: 'all', payload: { secret: mark('PEERMESSAGE') } })).toEqual({});
    expect(await a.request('messageOne', { target: 'peer-b', payload: { secret: mark('PEERONE') } })).toEqual({});
    await a.request('messageOne', { target: 'no-such-peer', payload: { secret: mark('PEERNOTFOUND') } });
    await a.request('message', mark('PEERSTRING'));

    // Unknown events and malformed arguments.
    a.send('no-such-event', { secret: mark('UNKNOWNEVENT') });
    a.send('login', mark('LOGINSTRING'), { extra: mark('EXTRAARG') });

    // Compatibility handshake login with a public key.
    const c = await connect(server.url, {
      auth: { token: await hsToken({}, { secret: SECRET }), name: 'carol', room, publicKey: mark('HANDSHAKEKEY') },
    });
    await c.waitFor('users', (list) => list.some((u) => u.id === c.id));

    // HTTP: admin with a wrong token, then the right one.
    await fetch(`${server.url}/rooms`, { headers: { Authorization: `Bearer ${mark('WRONGADMIN')}` } });
    await fetch(`${server.url}/rooms`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    await fetch(`${server.url}/rooms/${encodeURIComponent(room)}/users`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });

    // Departures.
    await a.request('logout');
    for (const client of [a, b, c] as TestClient[]) client.close();
    await sleep(300);
  });

  it('logged something at several levels (the capture works)', () => {
    expect(logger.lines.length).toBeGreaterThan(5);
    expect(logger.find('"event":"login"').length).toBeGreaterThan(0);
  });

  it('logged no marker, at any level, nor on the console', () => {
    const logged = logger.text();
    const consoleText = console_.join('\n');
    expect(markers.filter((m) => logged.includes(m))).toEqual([]);
    expect(markers.filter((m) => consoleText.includes(m))).toEqual([]);
    // Not even a fragment of a marker (a truncated body or key).
    expect(logged).not.toMatch(new RegExp(`MARKER[A-Z]*${tag}|MARKER[A-Z]{4,}`));
  });
});

describe('no sensitive data in the logs under rate limiting and flooding', () => {
  it('refused and flooded events are not logged with their payload', async () => {
    const logger = new CaptureLogger();
    const server = await startServer(
      { LOG_LEVEL: 'verbose', RATE_LIMIT_PER_SEC: '5', RATE_LIMIT_BURST: '10' },
      { logger },
    );
    const a = await connect(server.url);
    const b = await connect(server.url);
    const room = uniqueRoom();
    await login(a, 'alice', room, { publicKey: M('RLKEY') });
    await login(b, 'bob', room);
    const timer = setInterval(() => {
      for (let i = 0; i < 10; i++) {
        a.send('roomMessage', { message: M('FLOODBODY') });
        a.send('signal', { to: b.id, signal: M('FLOODSIGNAL') });
      }
    }, 50);
    try {
      await waitDisconnect(a, 10_000);
    } finally {
      clearInterval(timer);
    }
    await sleep(200);
    expect(logger.find('flood-disconnect')).toHaveLength(1);
    expect(logger.text()).not.toMatch(new RegExp(`MARKER[A-Z]*${tag}`));
  });
});
