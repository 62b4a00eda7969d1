/**
 * Calls you can trust (docs/ENCRYPTION.md, "Call proofs"), in real Chromium with fake media,
 * two pages in a member-keys room. A relay in the middle is simulated by patching a page's
 * outgoing signal so the SDP carries another DTLS fingerprint than the one its device key
 * signed: the receiving page refuses it and says so (1:1 offer, 1:1 answer, room call),
 * while unaltered calls still connect. The incoming prompt names the caller by its
 * server-stamped login name, not by the `name` the caller sent.
 */
import 'reflect-metadata';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, screenshot, type TestPage } from './helpers/browser.js';
import { byTestId, callStatus, callUser, login, waitForCallState, waitForPeerConnection } from './helpers/page.js';
import { startServer, type TestServer } from './helpers/server.js';
import { ensureWebBuilt } from './helpers/web-build.js';

const room = `proof-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Patches the page's ParleyClient so what it sends is rewritten on the way: `method` is
 * `call`, `answer` or `callSignal`; `mode` 'fingerprint' changes the first byte of every
 * DTLS fingerprint in the SDP, 'name' replaces the caller's chosen name, 'off' restores it.
 */
function tamper(page: Page, method: 'call' | 'answer' | 'callSignal', mode: 'fingerprint' | 'name' | 'off') {
  return page.evaluate(
    ({ method, mode }) => {
      type Fn = (...args: unknown[]) => Promise<unknown>;
      const client = (window as unknown as { parley: { client: Record<string, Fn> } }).parley.client;
      const saved = window as unknown as { __orig?: Record<string, Fn> };
      saved.__orig ??= {};
      const orig = (saved.__orig[method] ??= client[method]!.bind(client));
      if (mode === 'off') {
        client[method] = orig;
        return;
      }
      const alter = (sdp: string) =>
        sdp.replace(
          /(a=fingerprint:\S+ )([0-9A-Fa-f]{2})/g,
          (_m, head: string, byte: string) => head + (byte.toUpperCase() === '00' ? '11' : '00'),
        );
      const rewrite = (d: unknown) => {
        const desc = d as { sdp?: string } | undefined;
        return desc && typeof desc.sdp === 'string' ? { ...desc, sdp: alter(desc.sdp) } : d;
      };
      client[method] = (to: unknown, arg: unknown) => {
        const a = arg as Record<string, unknown>;
        if (method === 'call') {
          return orig(to, mode === 'name' ? { ...a, name: 'Your Bank' } : { ...a, signal: rewrite(a.signal) });
        }
        if (method === 'answer') return orig(to, { ...a, sdp: rewrite(a.sdp) });
        return orig(to, a.description ? { ...a, description: rewrite(a.description) } : a);
      };
    },
    { method, mode },
  );
}

describe('signed DTLS fingerprints in the web page (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  const pages: TestPage[] = [];
  let ann: Page;
  let bob: Page;

  beforeAll(async () => {
    await ensureWebBuilt();
    browser = await launchChromium();
    server = await startServer({}, { web: true });
    const [a, b] = await Promise.all([openPage(browser, server.url), openPage(browser, server.url)]);
    pages.push(a!, b!);
    ann = a!.page;
    bob = b!.page;
    await login(ann, { name: 'ann', room });
    await login(bob, { name: 'bob', room });
    await ann.waitForSelector(`${byTestId('user')}[data-name="bob"]`);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(pages.map((p) => p.close()));
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('an unaltered 1:1 call connects; the prompt shows the server-stamped name, not the one sent', async () => {
    await tamper(ann, 'call', 'name');
    await callUser(ann, 'bob');
    await bob.waitForSelector(`${byTestId('incoming-call')}:not([hidden])`);
    expect(await bob.textContent(byTestId('incoming-name'))).toBe('ann');
    await bob.click(byTestId('accept-call'));
    await Promise.all([waitForPeerConnection(ann, 'connected'), waitForPeerConnection(bob, 'connected')]);
    await Promise.all([waitForCallState(ann, 'connected'), waitForCallState(bob, 'connected')]);
    await ann.click(byTestId('hangup'));
    await waitForCallState(bob, 'ended', 'remote-hangup');
    await tamper(ann, 'call', 'off');
  }, 60_000);

  it('an offer whose fingerprint was altered in transit never rings and is refused loudly', async () => {
    await tamper(ann, 'call', 'fingerprint');
    await callUser(ann, 'bob');
    await waitForCallState(bob, 'ended', 'unverified');
    expect(await bob.isHidden(byTestId('incoming-call'))).toBe(true);
    expect((await callStatus(bob)).text).toMatch(/ann's key fingerprints do not match/);
    expect(await bob.isVisible(byTestId('call-stage'))).toBe(true);
    await screenshot(bob, 'call-proof-refused.png');
    // The caller's side ends too (the callee hung up).
    await waitForCallState(ann, 'ended');
    await tamper(ann, 'call', 'off');
  }, 60_000);

  it('an answer whose fingerprint was altered in transit is refused by the caller', async () => {
    await tamper(bob, 'answer', 'fingerprint');
    await callUser(ann, 'bob');
    await bob.waitForSelector(`${byTestId('incoming-call')}:not([hidden])`);
    await bob.click(byTestId('accept-call'));
    await waitForCallState(ann, 'ended', 'unverified');
    expect((await callStatus(ann)).text).toMatch(/bob's key fingerprints do not match/);
    await waitForCallState(bob, 'ended');
    await tamper(bob, 'answer', 'off');
  }, 60_000);

  const roomPeer = (page: Page) =>
    page.evaluate(() => {
      const call = (
        window as unknown as {
          parley: {
            roomCall: {
              view: { peers: Array<{ id: string; connectionState: string }> };
              peerConnection(id: string): RTCPeerConnection | null;
            };
          };
        }
      ).parley.roomCall;
      const p = call.view.peers[0];
      return p ? { state: p.connectionState, pc: call.peerConnection(p.id)?.connectionState ?? null } : null;
    });
  const join = async (page: Page) => {
    await page.click(byTestId('join-call'));
    await page.waitForSelector(`${byTestId('room-call-bar')}[data-phase="joined"]`, { timeout: 20_000 });
  };
  const leave = async (page: Page) => {
    await page.click(byTestId('leave-call'));
    await page.waitForSelector(`${byTestId('room-call-bar')}[data-phase="idle"]`, { timeout: 20_000 });
  };

  it('room call: signed descriptions connect; an altered fingerprint is refused and shown', async () => {
    await join(ann);
    await join(bob);
    for (const p of [ann, bob]) {
      await p.waitForFunction(
        () => {
          const call = (
            window as unknown as {
              parley: {
                roomCall: {
                  view: { peers: Array<{ id: string }> };
                  peerConnection(id: string): RTCPeerConnection | null;
                };
              };
            }
          ).parley.roomCall;
          const peer = call.view.peers[0];
          return !!peer && call.peerConnection(peer.id)?.connectionState === 'connected';
        },
        undefined,
        { timeout: 30_000 },
      );
    }
    await leave(bob);
    await leave(ann);

    await tamper(bob, 'callSignal', 'fingerprint');
    await join(ann);
    await join(bob); // the later joiner sends the offer: altered on the way
    await ann.waitForSelector(`${byTestId('room-call-error')}[data-code="UNVERIFIED"]`, { timeout: 20_000 });
    expect(await ann.textContent(byTestId('room-call-error'))).toMatch(/bob's call could not be verified/);
    await ann.waitForSelector(`${byTestId('call-tile')}[data-name="bob"][data-state="unverified"]`);
    expect((await roomPeer(ann))?.pc).not.toBe('connected');
    await screenshot(ann, 'room-call-proof-refused.png');
    await tamper(bob, 'callSignal', 'off');
  }, 90_000);

  it('no page raised an error', () => {
    for (const p of pages) expect({ url: p.page.url(), errors: p.errors }).toEqual({ url: p.page.url(), errors: [] });
  });
});
