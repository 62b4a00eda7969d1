/**
 * The reference web client in a real browser (Debian's Chromium via playwright-core):
 * end-to-end encrypted chat between pages, what the relay sees, the wrong-passphrase
 * state, and a WebRTC video call with its ended states.
 *
 * Screenshots go to test-artifacts/. PARLEY_DOCS_SCREENSHOT=1 also refreshes
 * docs/screenshot.png.
 */
import 'reflect-metadata';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Browser } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import type { RoomMessage } from '../src/common/events.js';
import { launchChromium, openPage, screenshot, type TestPage } from './helpers/browser.js';
import {
  byTestId,
  callStatus,
  callUser,
  login,
  messages,
  peerConnectionState,
  sendMessage,
  userFingerprint,
  waitForCallState,
  waitForMessage,
  waitForPeerConnection,
  waitForRemoteFrames,
} from './helpers/page.js';
import { startServer, type TestServer } from './helpers/server.js';
import { ensureWebBuilt, PROJECT_ROOT } from './helpers/web-build.js';
import { WebClientModule } from '../src/web/web-client.module.js';

const PASSPHRASE = 'orange-kettle-sunrise-47';
const room = `e2e-${Math.random().toString(36).slice(2, 8)}`;

describe('web client (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: TestPage;
  let bob: TestPage;
  let observer: Socket;
  const relayed: RoomMessage[] = [];
  const pages: TestPage[] = [];

  async function open(url = server.url): Promise<TestPage> {
    const p = await openPage(browser, url);
    pages.push(p);
    return p;
  }

  beforeAll(async () => {
    await ensureWebBuilt();
    browser = await launchChromium(); // assigned first, so afterAll closes it whatever fails next
    server = await startServer({}, { web: true });
  }, 180_000);

  afterAll(async () => {
    observer?.disconnect();
    await Promise.allSettled(pages.map((p) => p.close()));
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('serves the page at / without shadowing the API', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('data-testid="app"');
    const asset = html.match(/src="\.?\/?(assets\/[^"]+\.js)"/)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}/${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);

    const health = await fetch(`${server.url}/health`);
    expect(health.headers.get('content-type')).toMatch(/json/);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(await metrics.text()).not.toContain('data-testid="app"');
    const polling = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(200);
    expect(await polling.text()).toMatch(/^0\{"sid"/);
  });

  it('two pages chat end to end encrypted; the relay only ever sees ciphertext', async () => {
    // A raw Socket.IO client in the same room, as the server (or anyone on it) would see things.
    observer = io(server.url, { transports: ['websocket'] });
    observer.on('roomMessage', (m: RoomMessage) => relayed.push(m));
    const joined = await observer.timeout(5000).emitWithAck('login', { name: 'observer', room });
    expect(joined).toMatchObject({ user: { name: 'observer', room } });

    [alice, bob] = await Promise.all([open(), open()]);
    await login(alice.page, { name: 'alice', room, passphrase: PASSPHRASE });
    await login(bob.page, { name: 'bob', room, passphrase: PASSPHRASE });

    // Everyone is listed, with fingerprints; alice sees bob's key as bob does.
    await alice.page.waitForSelector(`${byTestId('user')}[data-name="bob"]`);
    expect(await alice.page.$$eval(byTestId('user'), (els) => els.map((e) => (e as HTMLElement).dataset.name))).toEqual(
      ['observer', 'alice', 'bob'],
    );
    const bobOwn = await bob.page.textContent(byTestId('my-fingerprint'));
    expect(await userFingerprint(alice.page, 'bob')).toBe(bobOwn);
    expect(await userFingerprint(bob.page, 'alice')).toBe(await alice.page.textContent(byTestId('my-fingerprint')));
    expect(await userFingerprint(bob.page, 'bob')).not.toBe(await userFingerprint(bob.page, 'alice'));
    expect(await alice.page.textContent(`${byTestId('user')}[data-name="observer"] ${byTestId('fingerprint')}`)).toBe(
      'no key',
    );

    // Join toast on alice's page for bob.
    await alice.page.waitForSelector(`${byTestId('toast')}[data-type="join"]:has-text("bob")`);

    const secret = 'Meet at the old mill at 7 — bring the 🔑 (secret-42)';
    await sendMessage(alice.page, secret);
    await waitForMessage(bob.page, 'alice', 'ok', secret);
    await waitForMessage(alice.page, 'alice', 'ok', secret);
    const reply = 'On my way.\nSee you there!';
    await sendMessage(bob.page, reply);
    await waitForMessage(alice.page, 'bob', 'ok', reply);

    // What went over the wire: envelopes only.
    const deadline = Date.now() + 5000;
    while (relayed.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(relayed.map((m) => m.from)).toEqual(['alice', 'bob']);
    for (const m of relayed) {
      expect(m.message).toMatch(/^p1\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/=]+$/);
      expect(m.message).not.toContain('mill');
      expect(m.message).not.toContain('secret-42');
      expect(m.message).not.toContain('my way');
      expect(m.message).not.toContain(Buffer.from(secret).toString('base64').slice(0, 12));
    }
    // The two ends show the server's time, with sender names.
    const shown = await bob.page.$$eval(`${byTestId('message')} time`, (els) =>
      els.map((e) => e.getAttribute('datetime')),
    );
    expect(shown).toEqual(relayed.map((m) => new Date(m.at).toISOString()));

    await screenshot(alice.page, 'chat-alice.png');
    await screenshot(bob.page, 'chat-bob.png');
  }, 60_000);

  it('a page with the wrong passphrase shows the undecryptable state and keeps working', async () => {
    const mallory = await open();
    await login(mallory.page, { name: 'mallory', room, passphrase: 'not-the-passphrase' });
    await bob.page.waitForSelector(`${byTestId('toast')}[data-type="join"]:has-text("mallory")`);

    const text = 'Only for people with the passphrase';
    await sendMessage(alice.page, text);
    await waitForMessage(bob.page, 'alice', 'ok', text);
    // Mallory also gets the room's history: the whole conversation, none of it readable.
    const total = (await messages(bob.page)).length;
    await mallory.page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"]').length === n, total);
    await waitForMessage(mallory.page, 'alice', 'undecryptable');
    const seen = await messages(mallory.page);
    expect(seen.map((m) => m.state)).toEqual(Array(total).fill('undecryptable'));
    expect(seen.at(-1)).toMatchObject({ from: 'alice', state: 'undecryptable', reason: 'undecryptable' });
    expect(seen.at(-1)!.text).toMatch(/could not decrypt/i);
    expect(seen.at(-1)!.text).not.toContain('passphrase people');

    // Mallory's own messages are undecryptable for the others, and the page still works.
    await sendMessage(mallory.page, 'hello?');
    await waitForMessage(mallory.page, 'mallory', 'ok', 'hello?');
    await waitForMessage(alice.page, 'mallory', 'undecryptable');
    await screenshot(mallory.page, 'wrong-passphrase.png');

    // A raw client sending something that is not an envelope is shown as such, never crashes.
    observer.emit('roomMessage', { message: 'plain text from an old client' });
    await waitForMessage(alice.page, 'observer', 'undecryptable');
    expect((await messages(alice.page)).at(-1)).toMatchObject({ reason: 'malformed' });

    await mallory.page.click(byTestId('logout'));
    await mallory.page.waitForSelector(`${byTestId('login-view')}:not([hidden])`);
    await alice.page.waitForSelector(`${byTestId('toast')}[data-type="leave"]:has-text("mallory")`);
    await alice.page.waitForFunction(() => !document.querySelector('[data-testid="user"][data-name="mallory"]'));
    expect(mallory.errors).toEqual([]);
  }, 60_000);

  it('video call: accepted, both peer connections connect with frames, hang up ends both', async () => {
    await callUser(alice.page, 'bob');
    await bob.page.waitForSelector(`${byTestId('incoming-call')}:not([hidden])`);
    expect(await bob.page.textContent(byTestId('incoming-name'))).toBe('alice');
    expect(await bob.page.textContent(byTestId('incoming-fingerprint'))).toBe(
      await alice.page.textContent(byTestId('my-fingerprint')),
    );
    expect((await callStatus(alice.page)).state).toBe('outgoing');
    await bob.page.click(byTestId('accept-call'));

    await Promise.all([waitForPeerConnection(alice.page, 'connected'), waitForPeerConnection(bob.page, 'connected')]);
    const [aliceSees, bobSees] = await Promise.all([waitForRemoteFrames(alice.page), waitForRemoteFrames(bob.page)]);
    expect(aliceSees.width).toBeGreaterThan(0);
    expect(bobSees.width).toBeGreaterThan(0);
    await Promise.all([waitForCallState(alice.page, 'connected'), waitForCallState(bob.page, 'connected')]);
    // Both sides are sending as well as receiving.
    for (const p of [alice.page, bob.page]) {
      expect(
        await p.$eval(
          byTestId('local-video'),
          (v) => ((v as HTMLVideoElement).srcObject as MediaStream | null)?.getVideoTracks().length,
        ),
      ).toBe(1);
      expect(await p.isDisabled(`${byTestId('call-button')} >> nth=0`)).toBe(true);
    }

    await sendMessage(bob.page, 'Can you see me?');
    await waitForMessage(alice.page, 'bob', 'ok', 'Can you see me?');
    await new Promise((r) => setTimeout(r, 500)); // a few more frames for the picture
    await screenshot(alice.page, 'call-alice.png');
    await screenshot(bob.page, 'call-bob.png');
    if (process.env.PARLEY_DOCS_SCREENSHOT === '1') {
      // The README's picture: the call plus the chat, without transient toasts (hidden, not
      // removed: React owns those nodes and removes them itself later).
      const toasts = (hidden: boolean) =>
        bob.page.$eval(byTestId('toasts'), (el, hidden) => ((el as HTMLElement).hidden = hidden), hidden);
      await toasts(true);
      mkdirSync(join(PROJECT_ROOT, 'docs'), { recursive: true });
      await bob.page.screenshot({ path: join(PROJECT_ROOT, 'docs/screenshot.png'), animations: 'disabled' });
      await toasts(false);
    }

    await alice.page.click(byTestId('hangup'));
    await Promise.all([
      waitForCallState(alice.page, 'ended', 'hangup'),
      waitForCallState(bob.page, 'ended', 'remote-hangup'),
    ]);
    expect(await peerConnectionState(alice.page)).toBe('closed');
    expect(await peerConnectionState(bob.page)).toBe('closed');
    for (const p of [alice.page, bob.page]) {
      expect(await p.$eval(byTestId('remote-video'), (v) => (v as HTMLVideoElement).srcObject)).toBeNull();
      expect(await p.isDisabled(`${byTestId('call-button')} >> nth=0`)).toBe(false);
    }
    expect((await callStatus(bob.page)).text).toBe('alice hung up');
  }, 90_000);

  it('ended states: declined, and the peer leaving', async () => {
    await callUser(alice.page, 'bob');
    await bob.page.waitForSelector(`${byTestId('incoming-call')}:not([hidden])`);
    await bob.page.click(byTestId('decline-call'));
    await waitForCallState(alice.page, 'ended', 'declined');
    expect((await callStatus(alice.page)).text).toBe('bob declined the call');
    expect(await bob.page.isHidden(byTestId('incoming-call'))).toBe(true);

    const carol = await open();
    await login(carol.page, { name: 'carol', room, passphrase: PASSPHRASE });
    await callUser(carol.page, 'alice');
    await alice.page.waitForSelector(`${byTestId('incoming-call')}:not([hidden])`);
    await alice.page.click(byTestId('accept-call'));
    await waitForPeerConnection(carol.page, 'connected');
    await carol.close(); // the tab goes away mid-call
    await waitForCallState(alice.page, 'ended', 'peer-left');
    expect((await callStatus(alice.page)).text).toBe('carol left');
    expect(await peerConnectionState(alice.page)).toBe('closed');
    await alice.page.waitForSelector(`${byTestId('toast')}[data-type="leave"]:has-text("carol")`);
  }, 60_000);

  it('ended state: an unanswered call times out on both sides', async () => {
    const quick = await startServer({ RING_TIMEOUT_MS: '1500' }, { web: true });
    try {
      const [caller, callee] = await Promise.all([open(quick.url), open(quick.url)]);
      await login(caller.page, { name: 'dave', room: 'ring', passphrase: PASSPHRASE });
      await login(callee.page, { name: 'erin', room: 'ring', passphrase: PASSPHRASE });
      await callUser(caller.page, 'erin');
      await callee.page.waitForSelector(`${byTestId('incoming-call')}:not([hidden])`);
      await Promise.all([
        waitForCallState(caller.page, 'ended', 'timeout'),
        waitForCallState(callee.page, 'ended', 'missed'),
      ]);
      expect((await callStatus(caller.page)).text).toBe("erin didn't answer");
      expect(await callee.page.isHidden(byTestId('incoming-call'))).toBe(true);
      await Promise.all([caller.close(), callee.close()]);
    } finally {
      await quick.close();
    }
  }, 60_000);

  it('fits a phone-sized screen without horizontal scrolling', async () => {
    await bob.page.setViewportSize({ width: 390, height: 800 });
    const layout = await bob.page.evaluate(() => {
      const rect = (id: string) => document.querySelector(`[data-testid="${id}"]`)!.getBoundingClientRect();
      return {
        scrollWidth: document.documentElement.scrollWidth,
        usersBottom: rect('users').bottom,
        messagesTop: rect('messages').top,
        composerRight: rect('composer').right,
      };
    });
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    expect(layout.messagesTop).toBeGreaterThanOrEqual(layout.usersBottom - 1); // stacked, not side by side
    expect(layout.composerRight).toBeLessThanOrEqual(390);
    await screenshot(bob.page, 'phone-bob.png');
    await bob.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('rejoins the room by itself when the connection drops', async () => {
    const before = await bob.page.getAttribute(`${byTestId('user')}[data-name="bob"]`, 'data-user-id');
    await bob.page.evaluate(() =>
      (
        window as unknown as { parley: { client: { socket: { io: { engine: { close(): void } } } } } }
      ).parley.client.socket.io.engine.close(),
    );
    await bob.page.waitForSelector(`${byTestId('toast')}:has-text("Reconnected")`, { timeout: 20_000 });
    const after = await bob.page.getAttribute(`${byTestId('user')}[data-name="bob"]`, 'data-user-id');
    expect(after).not.toBe(before);
    await alice.page.waitForSelector(`${byTestId('user')}[data-name="bob"][data-user-id="${after}"]`);
    await sendMessage(alice.page, 'still there?');
    await waitForMessage(bob.page, 'alice', 'ok', 'still there?');
  }, 40_000);

  it('no page raised an error', () => {
    for (const p of pages) expect({ url: p.page.url(), errors: p.errors }).toEqual({ url: p.page.url(), errors: [] });
  });
});

// The module on its own, beside stand-ins for the API routes it must never shadow.
@Controller()
class StubApiController {
  @Get('health') health() {
    return { status: 'ok' };
  }
  @Get('metrics') metrics() {
    return 'metrics 1';
  }
  @Get('rooms') rooms() {
    return [{ room: 'r', users: 1 }];
  }
  @Get('rooms/:room/users') roomUsers(@Param('room') room: string) {
    return [{ room }];
  }
  @Get('connections') connections() {
    return [];
  }
}

@Module({ imports: [WebClientModule.register()], controllers: [StubApiController] })
class StandaloneWebModule {}

describe('WebClientModule', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    await ensureWebBuilt();
    app = await NestFactory.create(StandaloneWebModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  }, 180_000);

  afterAll(async () => {
    await app?.close();
  });

  it('serves index.html at / (revalidated) and hashed assets (cached)', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await fetch(url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('data-testid="app"');
    }
    const html = await (await fetch(url)).text();
    const css = html.match(/href="\.?\/?(assets\/[^"]+\.css)"/)?.[1];
    const res = await fetch(`${url}/${css}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/css/);
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
  });

  it('leaves the API routes and unknown paths to Nest', async () => {
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${url}/metrics`)).text()).toBe('metrics 1');
    expect(await (await fetch(`${url}/rooms`)).json()).toEqual([{ room: 'r', users: 1 }]);
    expect(await (await fetch(`${url}/rooms/x/users`)).json()).toEqual([{ room: 'x' }]);
    expect(await (await fetch(`${url}/connections`)).json()).toEqual([]);
    const unknown = await fetch(`${url}/no/such/page`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain('data-testid="app"');
  });
});
