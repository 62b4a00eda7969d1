/**
 * What the compatibility specs add to the shared helpers: the recording client is
 * helpers/client.ts's (the older 4.0.x socket.io-client with `version: '4.0'`), servers come
 * from helpers/server.ts (so PARLEY_TEST_NODES runs these specs on two nodes too), plus
 * quiet-window checks by log position, unique names and the admin GET.
 */
import { closeAllClients, connect as connectClient, sleep, TestClient, type ClientOptions } from './client.js';
import { closeAllServers, startServer, type TestServer } from './server.js';

export { sleep, TestClient as Client };
export type { TestClient as ClientType, ClientOptions };
export type Server = TestServer;

export const TIMEOUT = 3000;
export const QUIET_MS = 250;

/** A Parley app (or cluster) on a free port; ADMIN_TOKEN is 't' unless overridden. */
export function startApp(env: Record<string, string> = {}): Promise<Server> {
  return startServer({ ADMIN_TOKEN: 't', ...env });
}

let counter = 0;
/** A fresh name, unique in this process (rooms, names, peer ids). */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 6)}`;
}

/** A connected client that has received `me` (reconnecting quickly when reconnection is on). */
export function connect(server: Server | string, options: ClientOptions = {}): Promise<TestClient> {
  return connectClient(server, { reconnectionDelay: 50, ...options });
}

/**
 * Asserts that none of `clients` receives any of `events` (all events when omitted)
 * after `marks` (each client's log length when marked): a ping barrier, then a quiet window.
 */
export async function expectQuiet(clients: TestClient[], marks: number[], events?: string[]): Promise<void> {
  await Promise.all(clients.filter((c) => c.connected).map((c) => c.barrier()));
  await sleep(QUIET_MS);
  clients.forEach((c, i) => {
    const got = c.log
      .slice(marks[i])
      .filter((r) => !r.event.startsWith('ack:') && (events ? events.includes(r.event) : r.event !== 'disconnect'));
    if (got.length > 0) {
      throw new Error(
        `${c.id} unexpectedly received ${got.map((r) => `${r.event} ${JSON.stringify(r.args)}`).join('; ')}`,
      );
    }
  });
}

/** Each client's log length now, for expectQuiet. */
export function marks(clients: TestClient[]): number[] {
  return clients.map((c) => c.log.length);
}

export function waitDisconnect(client: TestClient, timeout = TIMEOUT): Promise<string> {
  if (!client.connected) return Promise.resolve('already');
  return client.waitFor<string>('disconnect', () => true, timeout);
}

/** A GET on an admin route with the test token (on the first node). */
export async function adminGet(server: Server, path: string, token = 't'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.urls[0]}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

export function closeClients(): void {
  closeAllClients();
}

export async function closeServers(): Promise<void> {
  closeAllClients();
  await closeAllServers();
}
