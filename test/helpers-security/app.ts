/**
 * Start a Parley app for the security specs: test/helpers/server.ts with an optional
 * logger and https.
 */
import { closeAllServers, startServer, type StartOptions, type TestServer } from '../helpers/server.js';

export type { ParleyApp } from '../helpers/server.js';
export type SecurityServer = TestServer;

export function startApp(env: Record<string, string> = {}, options: StartOptions = {}): Promise<SecurityServer> {
  return startServer(env, options);
}

export function closeApps(): Promise<void> {
  return closeAllServers();
}
