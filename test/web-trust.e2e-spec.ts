/**
 * What the member-keys page promises (issue 25), attacked in Chromium: a late joiner cannot
 * read what came before its join (also when history is drawn again after a rejoin and after a
 * reload); a leaver cannot read what follows; a frame replayed by a raw Socket.IO client is
 * refused and shown as a replay; a changed key is held until the user accepts it; a verified
 * key that changes stops sending (and the verification lasts across a reload); both sides show
 * the same safety number and room code; a reload keeps reading, own messages included, from
 * state kept in IndexedDB under a non-extractable device key. One node, and two over Redis
 * when one answers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import type { RoomMessage, User } from '../src/common/events.js';
import { base64ToBytes } from '../client/crypto.js';
import { InboundChain } from '../client/ratchet.js';
import { decryptChainEnvelope, parseEnvelope, type ParsedEnvelope } from '../client/sender-keys.js';
import { launchChromium, openPage, screenshot, type TestPage } from './helpers/browser.js';
import { byTestId, login, messages, sendMessage, waitForMessage } from './helpers/page.js';
import { probeRedis } from './helpers/redis.js';
import { startServer, type TestServer } from './helpers/server.js';
import { ensureWebBuilt } from './helpers/web-build.js';

interface HeldKey {
  from: string;
  keyId: string;
  raw: string;
  index: number;
}

type ParleyWindow = {
  parley: { keys?: { heldKeys(): HeldKey[] }; receive(m: RoomMessage): Promise<void> };
};

/** Node counts to run on: TRUST_NODES=1 or 2 to pick one; by default one, and two when Redis answers. */
const NODES = process.env.TRUST_NODES
  ? process.env.TRUST_NODES.split(',').map(Number)
  : [1, ...((await probeRedis()) ? [2] : [])];

const person = (name: string) => `${byTestId('user')}[data-name="${name}"]`;

async function waitUntil<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The message shown with this text (ok) or, for failures, the last one from `from` with `reason`. */
async function shownWith(page: Page, from: string, reason: string) {
  await page.waitForFunction(
    ({ from, reason }) =>
      [...document.querySelectorAll<HTMLElement>('[data-testid="message"]')].some(
        (el) => el.dataset.reason === reason && el.querySelector('[data-testid="message-from"]')?.textContent === from,
      ),
    { from, reason },
    { timeout: 15_000 },
  );
  return (await messages(page)).filter((m) => m.from === from && m.reason === reason);
}

/** Opens the Verify dialog for `name` and returns the 60 digits it shows. */
async function safetyNumber(page: Page, name: string): Promise<string> {
  await page.click(`${person(name)} ${byTestId('verify-button')}`);
  await page.waitForSelector(
    `${byTestId('verify-dialog')}[data-member="${name}"] ${byTestId('safety-number')}[data-digits]`,
  );
  return (await page.getAttribute(byTestId('safety-number'), 'data-digits'))!;
}

async function closeDialog(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.waitForSelector(byTestId('verify-dialog'), { state: 'detached' });
}

async function reloadAndLogin(page: Page, name: string, room: string): Promise<void> {
  await page.reload();
  await login(page, { name, room });
}

async function leaveAndLogin(page: Page, name: string, room: string): Promise<void> {
  await page.click(byTestId('logout'));
  await page.waitForSelector(`${byTestId('room-view')}`, { state: 'detached' });
  await login(page, { name, room });
}

describe.each(NODES)('trust and persistence on the member-keys page (Chromium, %i node(s))', (nodes) => {
  const room = `trust-${nodes}-${Math.random().toString(36).slice(2, 8)}`;
  let server: TestServer;
  let browser: Browser;
  let observer: Socket;
  const relayed: RoomMessage[] = [];
  const sockets: Socket[] = [];
  const pages: TestPage[] = [];
  let alice: TestPage;
  let bob: TestPage;
  let carol: TestPage;

  async function open(): Promise<TestPage> {
    const p = await openPage(browser, server.url);
    pages.push(p);
    return p;
  }
  async function raw(name: string, publicKey?: string): Promise<Socket> {
    const s = io(server.url, { transports: ['websocket'], forceNew: true });
    sockets.push(s);
    const ack = await s.timeout(5000).emitWithAck('login', { name, room, ...(publicKey && { publicKey }) });
    if (!ack || 'error' in ack) throw new Error(`raw login as ${name}: ${JSON.stringify(ack)}`);
    return s;
  }
  const relayedFrom = (name: string) => relayed.filter((m) => m.from === name);
  const users = async () => ((await observer.timeout(5000).emitWithAck('listUsers')) as { users: User[] }).users;

  beforeAll(async () => {
    await ensureWebBuilt();
    browser = await launchChromium();
    server = await startServer({}, { web: true, nodes });
    observer = await raw('observer');
    observer.on('roomMessage', (m: RoomMessage) => relayed.push(m));
  }, 180_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.allSettled(pages.map((p) => p.close()));
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('a name seen for the first time is marked new; both sides show the same safety number and room code', async () => {
    [alice, bob] = await Promise.all([open(), open()]);
    await login(alice.page, { name: 'alice', room });
    await login(bob.page, { name: 'bob', room });
    await alice.page.waitForSelector(`${person('bob')}[data-trust="new"] ${byTestId('first-seen')}`);
    await bob.page.waitForSelector(`${person('alice')}[data-trust="new"] ${byTestId('first-seen')}`);
    expect(await alice.page.textContent(`${person('bob')} ${byTestId('first-seen')}`)).toBe('new');

    const fromAlice = await safetyNumber(alice.page, 'bob');
    const fromBob = await safetyNumber(bob.page, 'alice');
    expect(fromAlice).toMatch(/^\d{60}$/);
    expect(fromBob).toBe(fromAlice);
    // Twelve groups of five, read aloud; the dialog is a labelled modal dialog.
    expect(
      await alice.page.$$eval(`${byTestId('safety-number')} code`, (els) => els.map((e) => e.textContent)),
    ).toEqual(fromAlice.match(/\d{5}/g));
    const dialog = await alice.page.$(`${byTestId('verify-dialog')} [role="dialog"]`);
    expect(await dialog!.getAttribute('aria-modal')).toBe('true');
    expect(await alice.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('verify-close');
    await screenshot(alice.page, 'trust-verify-dialog.png');
    await closeDialog(alice.page);
    await closeDialog(bob.page);

    const code = (p: Page) =>
      p.waitForFunction(() =>
        /^\d{4} \d{4} \d{4}$/.test(document.querySelector('[data-testid="room-code"]')?.textContent ?? ''),
      );
    await Promise.all([code(alice.page), code(bob.page)]);
    expect(await alice.page.textContent(byTestId('room-code'))).toBe(await bob.page.textContent(byTestId('room-code')));
  }, 90_000);

  it('a late joiner cannot read earlier messages: not when drawn again after a rejoin, nor after a reload', async () => {
    await sendMessage(alice.page, 'secret before carol');
    await waitForMessage(bob.page, 'alice', 'ok', 'secret before carol');
    const old = await waitUntil(() => relayedFrom('alice')[0], 'the relayed message');
    carol = await open();
    await login(carol.page, { name: 'carol', room });
    expect((await shownWith(carol.page, 'alice', 'before-join'))[0]!.text).toMatch(/before you joined/i);
    await sendMessage(alice.page, 'welcome carol');
    await waitForMessage(carol.page, 'alice', 'ok', 'welcome carol');
    // Now carol holds alice's chain: the old message handed to it again (as a server may) stays shut.
    const again = { ...old, id: `${old.id}-again`, offset: old.offset + 1000 };
    await carol.page.evaluate((m) => (window as unknown as ParleyWindow).parley.receive(m), again);
    expect((await shownWith(carol.page, 'alice', 'before-join')).map((m) => m.id)).toContain(again.id);

    for (const redraw of [leaveAndLogin, reloadAndLogin]) {
      await redraw(carol.page, 'carol', room);
      await waitForMessage(carol.page, 'alice', 'ok', 'welcome carol');
      const shown = (await messages(carol.page)).find((m) => m.id === old.id);
      expect(shown).toMatchObject({ state: 'undecryptable', reason: 'before-join' });
      expect(await carol.page.content()).not.toContain('secret before carol');
    }
  }, 90_000);

  it('a leaver cannot read what follows with any chain it held', async () => {
    await waitForMessage(carol.page, 'alice', 'ok', 'welcome carol');
    await carol.page.waitForFunction(() =>
      ((window as unknown as ParleyWindow).parley.keys?.heldKeys() ?? []).some((k) => k.from === 'bob'),
    );
    const held = await carol.page.evaluate(() => (window as unknown as ParleyWindow).parley.keys!.heldKeys());
    const before = relayedFrom('alice').length;
    await carol.page.click(byTestId('logout'));
    await alice.page.waitForSelector(person('carol'), { state: 'detached' });
    await sendMessage(alice.page, 'carol has gone');
    await waitForMessage(bob.page, 'alice', 'ok', 'carol has gone');
    const after = await waitUntil(() => relayedFrom('alice')[before], 'the message after carol left');
    const parsed = parseEnvelope(after.message) as ParsedEnvelope;
    expect(held.map((k) => k.keyId)).not.toContain(parsed.keyId);
    for (const k of held) {
      // Even forcing each held chain key onto the new chain id, at the index it had reached.
      const chain = InboundChain.fromSnapshot({ id: parsed.keyId, index: k.index, chainKey: base64ToBytes(k.raw)! });
      const r = await chain.open(parsed.index!, async (keys) => {
        const out = await decryptChainEnvelope(parsed, { room, sender: 'alice' }, keys);
        return out.ok ? out.text : null;
      });
      expect(r.ok).toBe(false);
    }
  }, 60_000);

  it('a frame replayed by a raw Socket.IO client presenting the same bundle is refused and shown as a replay', async () => {
    await sendMessage(alice.page, 'transfer 100 coins to bob');
    await waitForMessage(bob.page, 'alice', 'ok', 'transfer 100 coins to bob');
    const recorded = relayedFrom('alice').at(-1)!;
    const bundle = (await users()).find((u) => u.name === 'alice')!.publicKey!;
    await alice.page.click(byTestId('logout'));
    await bob.page.waitForSelector(person('alice'), { state: 'detached' });

    const mallory = await raw('alice', bundle);
    // Same fingerprint as before: nothing flags it as a key change.
    await bob.page.waitForSelector(`${person('alice')}[data-trust="known"]`);
    await mallory.timeout(5000).emitWithAck('roomMessage', { message: recorded.message });
    const replays = await shownWith(bob.page, 'alice', 'replay');
    expect(replays[0]!.text).toMatch(/replay/i);
    const coins = (await messages(bob.page)).filter((m) => m.text === 'transfer 100 coins to bob');
    expect(coins).toHaveLength(1);
    await screenshot(bob.page, 'trust-replay.png');
    mallory.disconnect();
    await bob.page.waitForSelector(person('alice'), { state: 'detached' });
    await login(alice.page, { name: 'alice', room });
  }, 60_000);

  it('a changed key is held (no sender key) until the user accepts it', async () => {
    await bob.page.click(byTestId('logout'));
    await alice.page.waitForSelector(person('bob'), { state: 'detached' });
    const newBob = await open();
    await login(newBob.page, { name: 'bob', room });
    const row = `${person('bob')}[data-trust="changed"][data-held="true"]`;
    await alice.page.waitForSelector(`${row} ${byTestId('accept-key')}`);
    expect(await alice.page.textContent(`${row} ${byTestId('key-changed')}`)).toMatch(/key changed/);
    await screenshot(alice.page, 'trust-key-held.png');

    await sendMessage(alice.page, 'said while bob was held');
    const held = await shownWith(newBob.page, 'alice', 'no-key');
    expect(held.length).toBeGreaterThan(0);
    expect(await newBob.page.content()).not.toContain('said while bob was held');

    await alice.page.click(`${row} ${byTestId('accept-key')}`);
    await alice.page.waitForSelector(`${person('bob')}:not([data-held]) ${byTestId('key-changed')}`);
    await sendMessage(alice.page, 'bob accepted');
    await waitForMessage(newBob.page, 'alice', 'ok', 'bob accepted');
    expect(await newBob.page.content()).not.toContain('said while bob was held');
    bob = newBob;
  }, 60_000);

  it('a reload keeps reading: own earlier messages and the others’, from state kept wrapped in IndexedDB', async () => {
    await sendMessage(alice.page, 'mine, before the reload');
    await sendMessage(bob.page, 'from bob, before the reload');
    await waitForMessage(alice.page, 'bob', 'ok', 'from bob, before the reload');
    await reloadAndLogin(alice.page, 'alice', room);
    await waitForMessage(alice.page, 'alice', 'ok', 'mine, before the reload');
    await waitForMessage(alice.page, 'bob', 'ok', 'from bob, before the reload');
    await waitForMessage(alice.page, 'alice', 'ok', 'bob accepted');
    // What IndexedDB holds is sealed, and the device key cannot be exported.
    const stored = await alice.page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('parley');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const all = <T>(store: string) =>
        new Promise<T[]>((resolve) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => resolve(r.result as T[]);
        });
      const records = await all<{ ct: ArrayBuffer }>('ratchet');
      const keys = await all<CryptoKey | object>('keys');
      const wrap = keys.find((k): k is CryptoKey => k instanceof CryptoKey);
      const text = records.map((r) => new TextDecoder('latin1').decode(r.ct)).join('\n');
      return { count: records.length, text, extractable: wrap?.extractable, algorithm: wrap?.algorithm.name };
    });
    expect(stored.count).toBeGreaterThan(0);
    expect(stored).toMatchObject({ extractable: false, algorithm: 'AES-GCM' });
    for (const plain of ['mine, before', 'from bob', 'chainKey', 'envelope']) expect(stored.text).not.toContain(plain);
  }, 60_000);

  it('a verified key that changes stops sending until accepted; the verification lasts across a reload', async () => {
    await safetyNumber(alice.page, 'bob');
    await alice.page.check(byTestId('verified-toggle'));
    await alice.page.waitForSelector(`${person('bob')}[data-verified="true"] ${byTestId('verified-badge')}`);
    await closeDialog(alice.page);
    await reloadAndLogin(alice.page, 'alice', room);
    await alice.page.waitForSelector(`${person('bob')}[data-verified="true"] ${byTestId('verified-badge')}`);

    await bob.page.click(byTestId('logout'));
    await alice.page.waitForSelector(person('bob'), { state: 'detached' });
    const otherBob = await open();
    await login(otherBob.page, { name: 'bob', room });
    await alice.page.waitForSelector(`${byTestId('sending-blocked')}[role="alert"]`);
    expect(await alice.page.textContent(byTestId('sending-blocked'))).toMatch(/paused.*bob/i);
    expect(await alice.page.isDisabled(byTestId('send-button'))).toBe(true);
    await screenshot(alice.page, 'trust-sending-blocked.png');
    // Enter does not send either: nothing leaves the page.
    const before = relayedFrom('alice').length;
    await alice.page.fill(byTestId('message-input'), 'must not leave');
    await alice.page.press(byTestId('message-input'), 'Enter');
    await new Promise((r) => setTimeout(r, 1000));
    expect(relayedFrom('alice').length).toBe(before);
    expect(await alice.page.inputValue(byTestId('message-input'))).toBe('must not leave');

    await alice.page.click(byTestId('blocked-accept'));
    await alice.page.waitForSelector(byTestId('sending-blocked'), { state: 'detached' });
    expect(await alice.page.$(`${person('bob')} ${byTestId('verified-badge')}`)).toBeNull();
    await alice.page.press(byTestId('message-input'), 'Enter');
    await waitForMessage(otherBob.page, 'alice', 'ok', 'must not leave');
  }, 90_000);

  it('no page raised an error', () => {
    for (const p of pages) expect({ url: p.page.url(), errors: p.errors }).toEqual({ url: p.page.url(), errors: [] });
  });
});
