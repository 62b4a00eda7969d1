/**
 * Room calls in the reference page, in real Chromium with fake camera, microphone and screen
 * (small video, this machine has two cores): three pages join one room's call and every pair
 * connects with frames decoding; a screen share reaches the others through renegotiation; an
 * ICE restart forced from the test reconnects the pair; one leaves and the others' grids
 * follow; later joiners make four; two joining at the same instant both connect; the one
 * beyond MAX_CALL_PEERS is told the call is full.
 */
import 'reflect-metadata';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, type TestPage } from './helpers/browser.js';
import { byTestId, login } from './helpers/page.js';
import { startServer, type TestServer } from './helpers/server.js';
import { ensureWebBuilt } from './helpers/web-build.js';

const PASSPHRASE = 'amber-lantern-river-19';

/** Every camera the page asks for is small: fewer pixels to encode and decode per pair. */
function smallVideo() {
  const md = navigator.mediaDevices;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = (c?: MediaStreamConstraints) =>
    original(c?.video ? { ...c, video: { width: 320, height: 180, frameRate: 12 } } : c);
  const display = md.getDisplayMedia.bind(md);
  md.getDisplayMedia = (c?: DisplayMediaStreamOptions) =>
    display({ ...c, video: { width: 640, height: 360, frameRate: 5 } });
}

interface PairState {
  peer: string;
  state: string;
  framesDecoded: number;
  videos: number;
}

/** Each of the page's pairs: its connection state and the video frames it decoded (getStats). */
function pairs(page: Page): Promise<PairState[]> {
  return page.evaluate(async () => {
    const call = (
      window as unknown as {
        parley: {
          roomCall: {
            view: { peers: Array<{ id: string; name: string }> };
            peerConnection(id: string): RTCPeerConnection | null;
          };
        };
      }
    ).parley.roomCall;
    return Promise.all(
      call.view.peers.map(async (p) => {
        const pc = call.peerConnection(p.id);
        let framesDecoded = 0;
        let videos = 0;
        (await pc?.getStats())?.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
          if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
          videos += 1;
          framesDecoded += s.framesDecoded ?? 0;
        });
        return { peer: p.name, state: pc?.connectionState ?? 'none', framesDecoded, videos };
      }),
    );
  });
}

/** Until the page is connected to exactly `names`, each pair decoding frames that keep coming. */
async function waitConnected(page: Page, names: string[], timeout = 40_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last: PairState[] = [];
  for (;;) {
    const now = await pairs(page);
    const ok =
      now.length === names.length &&
      names.every((n) => {
        const p = now.find((x) => x.peer === n);
        const before = last.find((x) => x.peer === n);
        return p?.state === 'connected' && p.framesDecoded > 0 && before && p.framesDecoded > before.framesDecoded;
      });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`not connected to ${names.join(', ')}: ${JSON.stringify(now)}`);
    last = now;
    await page.waitForTimeout(700);
  }
  // The grid follows: one camera tile per peer, connected, its video playing.
  for (const n of names) {
    await page.waitForFunction(
      (n) => {
        const tile = document.querySelector<HTMLElement>(
          `[data-testid="call-tile"][data-kind="camera"][data-name="${n}"]`,
        );
        return tile?.dataset.state === 'connected' && (tile.querySelector('video') as HTMLVideoElement).videoWidth > 0;
      },
      n,
      { timeout: 10_000 },
    );
  }
}

function tileNames(page: Page): Promise<string[]> {
  return page.$$eval(`${byTestId('call-tile')}[data-kind="camera"]`, (els) =>
    els.map((e) => (e as HTMLElement).dataset.name ?? ''),
  );
}

describe('room calls in the web page (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  const pages: TestPage[] = [];
  const room = `rc-${Math.random().toString(36).slice(2, 8)}`;

  async function open(url: string, name: string, room: string, phone = false): Promise<TestPage> {
    const context = await browser.newContext({
      viewport: phone ? { width: 390, height: 844 } : { width: 900, height: 700 },
      ...(phone && { isMobile: true, hasTouch: true, deviceScaleFactor: 2 }),
    });
    await context.grantPermissions(['camera', 'microphone'], { origin: new URL(url).origin });
    await context.addInitScript(smallVideo);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    await page.goto(url);
    const p: TestPage = { context, page, errors, close: () => context.close() };
    pages.push(p);
    await login(page, { name, room, passphrase: PASSPHRASE });
    return p;
  }

  async function join(page: Page): Promise<void> {
    await page.click(byTestId('join-call'));
    await page.waitForSelector(`${byTestId('room-call-bar')}[data-phase="joined"]`, { timeout: 20_000 });
  }

  const idOf = (page: Page) =>
    page.evaluate(() => (window as unknown as { parley: { client: { id: string } } }).parley.client.id);

  beforeAll(async () => {
    await ensureWebBuilt();
    browser = await launchChromium();
    server = await startServer({}, { web: true });
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(pages.map((p) => p.close()));
    await browser?.close();
    await server?.close();
  }, 30_000);

  let ann: Page;
  let bob: Page;
  let cat: Page;

  it('three pages join the room call and every pair connects, frames decoding', async () => {
    [ann, bob, cat] = (
      await Promise.all([
        open(server.url, 'ann', room),
        open(server.url, 'bob', room),
        open(server.url, 'cat', room, true),
      ])
    ).map((p) => p.page);
    await expect(bob.textContent(byTestId('room-call-people'))).resolves.toBe('No call in this room');

    const t0 = Date.now();
    await join(ann);
    // The others see the call going on, and who is in it, before joining.
    await bob.waitForSelector(`${byTestId('room-call-people')}:has-text("In the call: ann")`);
    await expect(bob.textContent(byTestId('join-call'))).resolves.toContain('Join call');
    await join(bob);
    await join(cat);
    await Promise.all([
      waitConnected(ann, ['bob', 'cat']),
      waitConnected(bob, ['ann', 'cat']),
      waitConnected(cat, ['ann', 'bob']),
    ]);
    console.log(`room call: 3 pages, joinCall to every pair connected with frames: ${Date.now() - t0} ms`);

    expect(await tileNames(ann)).toEqual(['ann (you)', 'bob', 'cat']);
    await expect(cat.textContent(byTestId('room-call-people'))).resolves.toBe('In the call: ann, bob and you');
    // The later joiner is the impolite side of each of its pairs; the bitrate cap is on.
    const roles = await cat.evaluate(() => {
      const call = (window as unknown as { parley: { roomCall: { view: { peers: Array<{ polite: boolean }> } } } })
        .parley.roomCall;
      return call.view.peers.map((p) => p.polite);
    });
    expect(roles).toEqual([false, false]);
    const bitrates = await ann.evaluate(() => {
      const call = (
        window as unknown as {
          parley: {
            roomCall: { view: { peers: Array<{ id: string }> }; peerConnection(id: string): RTCPeerConnection };
          };
        }
      ).parley.roomCall;
      return call.view.peers.map(
        (p) =>
          call
            .peerConnection(p.id)
            .getSenders()
            .find((s) => s.track?.kind === 'video')
            ?.getParameters().encodings[0]?.maxBitrate,
      );
    });
    expect(bitrates).toEqual([750_000, 750_000]);
    await screenshot(ann, 'room-call.png');
    await screenshot(cat, 'room-call-phone.png');
    // On a phone the tiles sit two by two inside the screen's width.
    const widths = await cat.$$eval(byTestId('call-tile'), (els) => els.map((e) => e.getBoundingClientRect().right));
    expect(Math.max(...widths)).toBeLessThanOrEqual(390);
  }, 120_000);

  it('mute and camera switches reach the others', async () => {
    await ann.click(byTestId('room-call-mic'));
    await ann.click(byTestId('room-call-camera'));
    await expect(ann.getAttribute(byTestId('room-call-mic'), 'aria-pressed')).resolves.toBe('true');
    for (const p of [bob, cat]) {
      await p.waitForSelector(`${byTestId('call-tile')}[data-name="ann"][data-mic="off"][data-camera="off"]`);
    }
    await bob.waitForFunction(
      () =>
        document.querySelector('[data-testid="call-tile"][data-name="ann"]')?.getAttribute('aria-label') ===
        'ann, muted, camera off',
    );
    await ann.click(byTestId('room-call-mic'));
    await ann.click(byTestId('room-call-camera'));
    await bob.waitForSelector(`${byTestId('call-tile')}[data-name="ann"][data-mic="on"][data-camera="on"]`);
  }, 60_000);

  it('a screen share reaches the others through renegotiation, and goes away when stopped', async () => {
    await bob.click(byTestId('room-call-screen'));
    for (const p of [ann, cat]) {
      await p.waitForFunction(
        () => {
          const tile = document.querySelector('[data-testid="call-tile"][data-kind="screen"][data-name="bob"]');
          return ((tile?.querySelector('video') as HTMLVideoElement | null)?.videoWidth ?? 0) > 0;
        },
        undefined,
        { timeout: 30_000 },
      );
      const toBob = (await pairs(p)).find((x) => x.peer === 'bob')!;
      expect(toBob.videos).toBe(2);
    }
    await bob.click(byTestId('room-call-screen'));
    for (const p of [ann, cat]) {
      await p.waitForSelector(`${byTestId('call-tile')}[data-kind="screen"]`, { state: 'detached', timeout: 20_000 });
    }
    await waitConnected(ann, ['bob', 'cat']);
  }, 90_000);

  it('an ICE restart forced from the test reconnects the pair', async () => {
    const annId = await idOf(ann);
    const ufrag = () =>
      bob.evaluate(
        (id) =>
          (
            window as unknown as { parley: { roomCall: { peerConnection(id: string): RTCPeerConnection } } }
          ).parley.roomCall
            .peerConnection(id)
            .localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1],
        annId,
      );
    const before = await ufrag();
    await bob.evaluate(
      (id) =>
        (window as unknown as { parley: { roomCall: { restartIce(id: string): void } } }).parley.roomCall.restartIce(
          id,
        ),
      annId,
    );
    await bob.waitForFunction(
      ({ id, before }) => {
        const pc = (
          window as unknown as { parley: { roomCall: { peerConnection(id: string): RTCPeerConnection } } }
        ).parley.roomCall.peerConnection(id);
        const now = pc.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1];
        return now !== before && pc.signalingState === 'stable' && pc.connectionState === 'connected';
      },
      { id: annId, before },
      { timeout: 20_000 },
    );
    await waitConnected(bob, ['ann', 'cat']);
    await waitConnected(ann, ['bob', 'cat']);
  }, 60_000);

  it('one leaves and the others tear it down; later joiners make four', async () => {
    await cat.click(byTestId('leave-call'));
    await cat.waitForSelector(byTestId('join-call'));
    for (const p of [ann, bob]) {
      await p.waitForFunction(() => !document.querySelector('[data-testid="call-tile"][data-name="cat"]'), undefined, {
        timeout: 15_000,
      });
      await expect(
        p.evaluate(
          () =>
            (window as unknown as { parley: { roomCall: { view: { peers: unknown[] } } } }).parley.roomCall.view.peers
              .length,
        ),
      ).resolves.toBe(1);
    }
    await expect(ann.textContent(byTestId('room-call-people'))).resolves.toBe('In the call: you and bob');
    await expect(cat.textContent(byTestId('room-call-people'))).resolves.toBe('In the call: ann and bob');
    expect(await tileNames(ann)).toEqual(['ann (you)', 'bob']);

    const dan = (await open(server.url, 'dan', room)).page;
    await dan.waitForSelector(`${byTestId('room-call-people')}:has-text("In the call: ann and bob")`);
    const t0 = Date.now();
    await join(dan);
    await join(cat);
    await Promise.all([
      waitConnected(ann, ['bob', 'dan', 'cat']),
      waitConnected(bob, ['ann', 'dan', 'cat']),
      waitConnected(dan, ['ann', 'bob', 'cat']),
      waitConnected(cat, ['ann', 'bob', 'dan']),
    ]);
    console.log(`room call: 2 later joiners to 4 pages all connected: ${Date.now() - t0} ms`);
    expect(await tileNames(dan)).toEqual(['dan (you)', 'ann', 'bob', 'cat']);
    for (const p of pages) expect(p.errors).toEqual([]);
    await Promise.all(pages.splice(0).map((p) => p.close()));
  }, 150_000);

  it('two joining at the same instant both connect; one more than MAX_CALL_PEERS is told the call is full', async () => {
    const small = await startServer({ MAX_CALL_PEERS: '2' }, { web: true });
    try {
      const other = `full-${room}`;
      const [x, y, z] = (
        await Promise.all([
          open(small.url, 'xena', other),
          open(small.url, 'yuri', other),
          open(small.url, 'zoe', other),
        ])
      ).map((p) => p.page);
      // The server orders the two joins; the one it admitted second sends the offer.
      await Promise.all([x.click(byTestId('join-call')), y.click(byTestId('join-call'))]);
      await Promise.all([waitConnected(x, ['yuri']), waitConnected(y, ['xena'])]);

      // Either may have been admitted first.
      await z.waitForFunction(() =>
        ['In the call: xena and yuri', 'In the call: yuri and xena'].includes(
          document.querySelector('[data-testid="room-call-people"]')?.textContent ?? '',
        ),
      );
      await z.click(byTestId('join-call'));
      await z.waitForSelector(`${byTestId('room-call-error')}[data-code="CALL_FULL"]`);
      await expect(z.textContent(byTestId('room-call-error'))).resolves.toBe('The call is full.');
      await expect(z.isVisible(byTestId('join-call'))).resolves.toBe(true);
      await expect(z.$(byTestId('room-call'))).resolves.toBeNull();
      // Its camera was let go again.
      const live = await z.evaluate(() => document.querySelectorAll('video').length);
      expect(live).toBe(2); // the 1:1 call panel's two, hidden
    } finally {
      await Promise.allSettled(pages.splice(0).map((p) => p.close()));
      await small.close();
    }
  }, 120_000);
});
