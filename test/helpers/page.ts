/** What a user does on the Parley page, through its data-testid hooks. */
import type { Page } from 'playwright-core';

export const byTestId = (id: string) => `[data-testid="${id}"]`;

/** Logs in; with a passphrase in the passphrase mode, else in the (default) keys mode. */
export async function login(page: Page, user: { name: string; room: string; passphrase?: string }): Promise<void> {
  await page.fill(byTestId('login-name'), user.name);
  await page.fill(byTestId('login-room'), user.room);
  if (user.passphrase !== undefined) {
    await page.selectOption(byTestId('login-mode'), 'passphrase');
    await page.fill(byTestId('login-passphrase'), user.passphrase);
  } else {
    await page.selectOption(byTestId('login-mode'), 'keys');
  }
  await page.click(byTestId('login-submit'));
  // Either the room shows, or the form says why not (fail fast with that sentence).
  await page.waitForSelector(`${byTestId('room-view')}:not([hidden]), ${byTestId('login-error')}:not([hidden])`, {
    timeout: 20_000,
  });
  if (await page.isVisible(byTestId('login-error'))) {
    throw new Error(`login as ${user.name} failed: ${await page.textContent(byTestId('login-error'))}`);
  }
  await page.waitForSelector(`${byTestId('user')}[data-name="${user.name}"]`);
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.fill(byTestId('message-input'), text);
  await page.press(byTestId('message-input'), 'Enter');
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="message-input"]') as HTMLTextAreaElement).value === '',
  );
}

export interface ShownMessage {
  id: string;
  from: string;
  text: string;
  state: string;
  reason?: string;
}

export function messages(page: Page): Promise<ShownMessage[]> {
  return page.$$eval('[data-testid="message"]', (els) =>
    els.map((el) => ({
      id: (el as HTMLElement).dataset.id ?? '',
      from: el.querySelector('[data-testid="message-from"]')?.textContent ?? '',
      text: el.querySelector('[data-testid="message-text"]')?.textContent ?? '',
      state: (el as HTMLElement).dataset.state ?? '',
      ...((el as HTMLElement).dataset.reason ? { reason: (el as HTMLElement).dataset.reason } : {}),
    })),
  );
}

/** Wait until a message with this state (and text, when given) from `from` is shown. */
export async function waitForMessage(
  page: Page,
  from: string,
  state: 'ok' | 'undecryptable',
  text?: string,
): Promise<void> {
  await page.waitForFunction(
    ({ from, state, text }) =>
      [...document.querySelectorAll<HTMLElement>('[data-testid="message"]')].some(
        (el) =>
          el.dataset.state === state &&
          el.querySelector('[data-testid="message-from"]')?.textContent === from &&
          (text === undefined || el.querySelector('[data-testid="message-text"]')?.textContent === text),
      ),
    { from, state, text },
    { timeout: 15_000 },
  );
}

export async function userFingerprint(page: Page, name: string): Promise<string> {
  const sel = `${byTestId('user')}[data-name="${name}"] ${byTestId('fingerprint')}`;
  await page.waitForFunction(
    (s) => /^[0-9a-f]{4}( [0-9a-f]{4}){7}$/.test(document.querySelector(s)?.textContent ?? ''),
    sel,
  );
  return (await page.textContent(sel))!;
}

export async function callUser(page: Page, name: string): Promise<void> {
  await page.click(`${byTestId('user')}[data-name="${name}"] ${byTestId('call-button')}`);
}

export function callStatus(page: Page): Promise<{ state?: string; reason?: string; text: string }> {
  return page.$eval(byTestId('call-status'), (el) => ({
    state: (el as HTMLElement).dataset.state,
    reason: (el as HTMLElement).dataset.reason,
    text: el.textContent ?? '',
  }));
}

export async function waitForCallState(page: Page, state: string, reason?: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    ({ state, reason }) => {
      const el = document.querySelector<HTMLElement>('[data-testid="call-status"]');
      return el?.dataset.state === state && (reason === undefined || el.dataset.reason === reason);
    },
    { state, reason },
    { timeout },
  );
}

/** The page's RTCPeerConnection state (kept after the call ends), via window.parley. */
export function peerConnectionState(page: Page): Promise<string | null> {
  return page.evaluate(
    () =>
      (window as unknown as { parley: { peerConnection: RTCPeerConnection | null } }).parley.peerConnection
        ?.connectionState ?? null,
  );
}

export async function waitForPeerConnection(
  page: Page,
  state: RTCPeerConnectionState,
  timeout = 20_000,
): Promise<void> {
  await page.waitForFunction(
    (state) =>
      (window as unknown as { parley: { peerConnection: RTCPeerConnection | null } }).parley.peerConnection
        ?.connectionState === state,
    state,
    { timeout },
  );
}

export async function waitForRemoteFrames(page: Page, timeout = 20_000): Promise<{ width: number; height: number }> {
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="remote-video"]') as HTMLVideoElement).videoWidth > 0,
    undefined,
    { timeout },
  );
  return page.$eval(byTestId('remote-video'), (v) => ({
    width: (v as HTMLVideoElement).videoWidth,
    height: (v as HTMLVideoElement).videoHeight,
  }));
}
