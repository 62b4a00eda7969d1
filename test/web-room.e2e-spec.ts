/**
 * The room view's behaviour beyond chatting (Chromium via playwright-core): the room's mode
 * in its header, members of the other mode flagged with one wording for their messages, a
 * kick told on the login form with its reason for as long as it matters, and a message
 * list that follows the newest message unless the user scrolled up (then a pill), also
 * when the call panel opens above it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { launchChromium, openPage, screenshot, type TestPage } from './helpers/browser.js';
import { byTestId, callUser, login, messages, sendMessage, waitForMessage } from './helpers/page.js';
import { startServer, type TestServer } from './helpers/server.js';
import { ensureWebBuilt } from './helpers/web-build.js';

const ADMIN_TOKEN = 'web-room-admin-token-0123456789abcdef';
const PASSPHRASE = 'amber-meadow-compass-31';
const OTHER_MODE = 'Encrypted for another room mode or a newer client';
const suffix = () => Math.random().toString(36).slice(2, 8);

/** How far the message list is from its end, in pixels. */
function distanceFromBottom(page: Page): Promise<number> {
  return page.$eval(byTestId('messages'), (el) => el.scrollHeight - el.scrollTop - el.clientHeight);
}

async function waitAtBottom(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="messages"]')!;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 2;
  });
}

describe('web client room view (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  const pages: TestPage[] = [];
  const sockets: Socket[] = [];

  async function open(): Promise<TestPage> {
    const p = await openPage(browser, server.url);
    pages.push(p);
    return p;
  }

  /** A raw client in `room` (as an old or foreign client would be). */
  async function rawClient(name: string, room: string): Promise<Socket> {
    const s = io(server.url, { transports: ['websocket'] });
    sockets.push(s);
    await s.timeout(5000).emitWithAck('login', { name, room });
    return s;
  }

  beforeAll(async () => {
    await ensureWebBuilt();
    browser = await launchChromium();
    server = await startServer({ ADMIN_TOKEN }, { web: true });
  }, 180_000);

  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    await Promise.allSettled(pages.map((p) => p.close()));
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('the header shows the room mode; members writing in the other mode are flagged, their messages worded once', async () => {
    const room = `modes-${suffix()}`;
    const [alice, bob] = await Promise.all([open(), open()]);
    await login(alice.page, { name: 'alice', room });
    await login(bob.page, { name: 'bob', room, passphrase: PASSPHRASE });
    expect(await alice.page.textContent(byTestId('room-mode'))).toBe('Member keys');
    expect(await bob.page.textContent(byTestId('room-mode'))).toBe('Shared passphrase');
    expect(await alice.page.getAttribute(byTestId('trust-hint'), 'data-mode')).toBe('keys');
    expect(await bob.page.getAttribute(byTestId('trust-hint'), 'data-mode')).toBe('passphrase');
    expect(await bob.page.textContent(byTestId('trust-hint'))).not.toMatch(/member-keys|signed with/i);
    // Nothing to flag before anyone writes.
    expect(await alice.page.$(byTestId('mode-warning'))).toBeNull();

    await sendMessage(bob.page, 'can anyone read this?');
    await waitForMessage(alice.page, 'bob', 'undecryptable');
    await sendMessage(alice.page, 'and this?');
    await waitForMessage(bob.page, 'alice', 'undecryptable');
    for (const [page, other] of [
      [alice.page, 'bob'],
      [bob.page, 'alice'],
    ] as const) {
      const last = (await messages(page)).filter((m) => m.from === other).at(-1)!;
      expect(last).toMatchObject({ state: 'undecryptable', reason: 'unsupported-version', text: OTHER_MODE });
      await page.waitForSelector(`${byTestId('mode-warning')}:has-text("${other} writes")`);
      await page.waitForSelector(`${byTestId('user')}[data-name="${other}"] ${byTestId('other-mode')}`);
    }
    // Their own messages are not flagged.
    expect(await alice.page.$(`${byTestId('user')}[data-name="alice"] ${byTestId('other-mode')}`)).toBeNull();
    await screenshot(alice.page, 'room-mixed-modes.png');
    for (const p of [alice, bob]) await p.page.click(byTestId('logout'));
  }, 60_000);

  it('a kick leaves a banner with the reason on the login form, until the next join', async () => {
    const room = `kick-${suffix()}`;
    const carol = await open();
    await login(carol.page, { name: 'carol', room });
    const id = await carol.page.getAttribute(`${byTestId('user')}[data-name="carol"]`, 'data-user-id');
    const res = await fetch(`${server.url}/rooms/${room}/users/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: 'Please keep it friendly' }),
    });
    expect(res.status).toBe(204);
    await carol.page.waitForSelector(`${byTestId('login-view')}:not([hidden])`);
    const banner = await carol.page.waitForSelector(byTestId('kick-banner'));
    expect(await banner.getAttribute('role')).toBe('alert');
    expect(await banner.textContent()).toContain(room);
    expect(await carol.page.textContent(byTestId('kick-reason'))).toBe('Please keep it friendly');
    await screenshot(carol.page, 'kicked.png');
    // Still there once any toast would have gone.
    await new Promise((r) => setTimeout(r, 5500));
    expect(await carol.page.isVisible(byTestId('kick-banner'))).toBe(true);
    await login(carol.page, { name: 'carol', room });
    expect(await carol.page.$(byTestId('kick-banner'))).toBeNull();
    await carol.page.click(byTestId('logout'));
  }, 60_000);

  it('the list follows the newest message unless scrolled up, then offers a pill; it stays down when a call opens', async () => {
    const room = `scroll-${suffix()}`;
    const [dave, erin] = await Promise.all([open(), open()]);
    await login(dave.page, { name: 'dave', room, passphrase: PASSPHRASE });
    await login(erin.page, { name: 'erin', room, passphrase: PASSPHRASE });
    const chatty = await rawClient('chatty', room);
    const say = async (from: number, to: number) => {
      for (let i = from; i <= to; i++) chatty.emit('roomMessage', { message: `line ${i}` });
      await erin.page.waitForFunction((n) => document.querySelectorAll('[data-testid="message"]').length === n, to);
    };

    await say(1, 30);
    await waitAtBottom(erin.page);
    expect(await erin.page.$(byTestId('new-messages'))).toBeNull();

    // Scrolled up to read: new messages do not pull the list down; a pill counts them.
    await erin.page.$eval(byTestId('messages'), (el) => el.scrollTo({ top: 0 }));
    await erin.page.waitForFunction(() => document.querySelector('[data-testid="messages"]')!.scrollTop === 0);
    await say(31, 32);
    const pill = await erin.page.waitForSelector(byTestId('new-messages'));
    expect(await pill.textContent()).toBe('2 new messages');
    expect(await distanceFromBottom(erin.page)).toBeGreaterThan(200);
    await screenshot(erin.page, 'new-messages-pill.png');
    await pill.click();
    await waitAtBottom(erin.page);
    await erin.page.waitForSelector(byTestId('new-messages'), { state: 'detached' });

    // What this page sends itself is always scrolled to.
    await erin.page.$eval(byTestId('messages'), (el) => el.scrollTo({ top: 0 }));
    await sendMessage(erin.page, 'my own words');
    await waitForMessage(erin.page, 'erin', 'ok', 'my own words');
    await waitAtBottom(erin.page);

    // The call panel takes room above the list: the newest message stays in view.
    await callUser(dave.page, 'erin');
    await erin.page.waitForSelector(`${byTestId('incoming-call')}:not([hidden])`);
    await erin.page.click(byTestId('accept-call'));
    await erin.page.waitForSelector(`${byTestId('call-stage')}:not([hidden])`);
    await waitAtBottom(erin.page);
    expect(await erin.page.$(byTestId('new-messages'))).toBeNull();
    await screenshot(erin.page, 'call-keeps-newest.png');
    await dave.page.click(byTestId('hangup'));
  }, 60_000);

  it('no page raised an error', () => {
    for (const p of pages) expect({ url: p.page.url(), errors: p.errors }).toEqual({ url: p.page.url(), errors: [] });
  });
});
