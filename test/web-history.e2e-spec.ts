/**
 * Room history in the reference web client (Debian's Chromium via playwright-core): a late
 * joiner sees the earlier conversation, decrypted and in order (undecryptable without the
 * passphrase); a page that reconnects as a new socket shows what it missed, once, in
 * order, and marks a gap when the server no longer had everything.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, screenshot, type TestPage } from './helpers/browser.js';
import { byTestId, login, messages, sendMessage, waitForMessage } from './helpers/page.js';
import { startServer, type TestServer } from './helpers/server.js';
import { ensureWebBuilt } from './helpers/web-build.js';

const PASSPHRASE = 'quiet-harbour-lantern-19';
const HISTORY_SIZE = 4;

/** The shown messages with their offsets, top to bottom. */
function shown(page: Page): Promise<Array<{ text: string; state: string; offset: number }>> {
  return page.$$eval('[data-testid="message"]', (els) =>
    els.map((el) => ({
      text: el.querySelector('[data-testid="message-text"]')?.textContent ?? '',
      state: (el as HTMLElement).dataset.state ?? '',
      offset: Number((el as HTMLElement).dataset.offset),
    })),
  );
}

/** Drops the page's connection and keeps it down until `reconnect` (a new socket, no recovery). */
async function goOffline(page: Page): Promise<void> {
  await page.evaluate(() => {
    const socket = (
      window as unknown as {
        parley: { client: { socket: { io: { reconnection(v: boolean): void; engine: { close(): void } } } } };
      }
    ).parley.client.socket;
    socket.io.reconnection(false);
    socket.io.engine.close();
  });
  await page.waitForSelector(`${byTestId('connection')}[data-state="disconnected"]`);
}

async function reconnect(page: Page): Promise<void> {
  await page.evaluate(() => {
    const socket = (
      window as unknown as {
        parley: { client: { socket: { connect(): void; io: { reconnection(v: boolean): void } } } };
      }
    ).parley.client.socket;
    socket.io.reconnection(true);
    socket.connect();
  });
  await page.waitForSelector(`${byTestId('toast')}:has-text("Reconnected")`, { timeout: 20_000 });
}

describe('web client history (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  const pages: TestPage[] = [];

  async function open(): Promise<TestPage> {
    const p = await openPage(browser, server.url);
    pages.push(p);
    return p;
  }

  beforeAll(async () => {
    await ensureWebBuilt();
    browser = await launchChromium();
    server = await startServer({ HISTORY_SIZE: String(HISTORY_SIZE) }, { web: true });
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(pages.map((p) => p.close()));
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('a late joiner sees the earlier conversation, decrypted, in order; without the passphrase, marked undecryptable', async () => {
    const room = `hist-${Math.random().toString(36).slice(2, 8)}`;
    const [alice, bob] = await Promise.all([open(), open()]);
    await login(alice.page, { name: 'alice', room, passphrase: PASSPHRASE });
    await login(bob.page, { name: 'bob', room, passphrase: PASSPHRASE });
    const said = ['first from alice', 'then bob', 'alice again'];
    await sendMessage(alice.page, said[0]);
    await waitForMessage(bob.page, 'alice', 'ok', said[0]);
    await sendMessage(bob.page, said[1]);
    await waitForMessage(alice.page, 'bob', 'ok', said[1]);
    await sendMessage(alice.page, said[2]);
    await waitForMessage(bob.page, 'alice', 'ok', said[2]);

    const carol = await open();
    await login(carol.page, { name: 'carol', room, passphrase: PASSPHRASE });
    await waitForMessage(carol.page, 'alice', 'ok', said[2]);
    expect(await shown(carol.page)).toEqual(said.map((text, i) => ({ text, state: 'ok', offset: i + 1 })));
    expect((await messages(carol.page)).map((m) => m.from)).toEqual(['alice', 'bob', 'alice']);
    expect(await carol.page.$$(byTestId('history-gap'))).toHaveLength(0);
    await screenshot(carol.page, 'history-late-joiner.png');

    const eve = await open();
    await login(eve.page, { name: 'eve', room, passphrase: 'some-other-passphrase' });
    await eve.page.waitForFunction(
      () => document.querySelectorAll('[data-testid="message"][data-state="undecryptable"]').length === 3,
    );
    expect((await shown(eve.page)).map((m) => m.offset)).toEqual([1, 2, 3]);
    for (const p of [alice, bob, carol, eve]) await p.page.click(byTestId('logout'));
  }, 90_000);

  it('a page that reconnects as a new socket shows the messages it missed, once, in order', async () => {
    const room = `resume-${Math.random().toString(36).slice(2, 8)}`;
    const [alice, bob] = await Promise.all([open(), open()]);
    await login(alice.page, { name: 'alice', room, passphrase: PASSPHRASE });
    await login(bob.page, { name: 'bob', room, passphrase: PASSPHRASE });
    await sendMessage(alice.page, 'before the tunnel');
    await waitForMessage(bob.page, 'alice', 'ok', 'before the tunnel');

    await goOffline(bob.page);
    await sendMessage(alice.page, 'while you were away 1');
    await sendMessage(alice.page, 'while you were away 2');
    await reconnect(bob.page);
    await waitForMessage(bob.page, 'alice', 'ok', 'while you were away 2');
    await sendMessage(alice.page, 'welcome back');
    await waitForMessage(bob.page, 'alice', 'ok', 'welcome back');
    expect(await shown(bob.page)).toEqual([
      { text: 'before the tunnel', state: 'ok', offset: 1 },
      { text: 'while you were away 1', state: 'ok', offset: 2 },
      { text: 'while you were away 2', state: 'ok', offset: 3 },
      { text: 'welcome back', state: 'ok', offset: 4 },
    ]);
    expect(await bob.page.$$(byTestId('history-gap'))).toHaveLength(0);

    // Away for longer than the server keeps: the page says some messages may be missing.
    await goOffline(bob.page);
    const away = Array.from({ length: HISTORY_SIZE + 2 }, (_, i) => `long gone ${i + 1}`);
    for (const text of away) await sendMessage(alice.page, text);
    await reconnect(bob.page);
    await waitForMessage(bob.page, 'alice', 'ok', away.at(-1));
    const gap = await bob.page.waitForSelector(byTestId('history-gap'));
    expect(await gap.textContent()).toMatch(/some messages may be missing/i);
    const order = await bob.page.$$eval('[data-testid="messages"] > li', (els) =>
      els.map((el) =>
        (el as HTMLElement).dataset.testid === 'history-gap'
          ? 'GAP'
          : el.querySelector('[data-testid="message-text"]')?.textContent,
      ),
    );
    expect(order).toEqual([
      'before the tunnel',
      'while you were away 1',
      'while you were away 2',
      'welcome back',
      'GAP',
      ...away.slice(-HISTORY_SIZE),
    ]);
    await screenshot(bob.page, 'history-gap.png');
    for (const p of [alice, bob]) expect(p.errors).toEqual([]);
  }, 90_000);
});
