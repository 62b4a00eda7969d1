/**
 * Start a real Parley app on a free port (127.0.0.1) for black-box tests.
 */
import type { LoggerService } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';

export type ParleyApp = Awaited<ReturnType<typeof createApp>>;

export interface TestServer {
  app: ParleyApp;
  port: number;
  url: string;
  close(): Promise<void>;
}

const running = new Set<TestServer>();

export interface StartOptions {
  /** A logger to capture the app's logs; silent by default. */
  logger?: LoggerService | false;
  /** The app serves TLS (TLS_CERT_FILE/TLS_KEY_FILE in env): the url is https. */
  https?: boolean;
}

export async function startServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const app = await createApp({ env, logger: options.logger ?? false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  let closed = false;
  const server: TestServer = {
    app,
    port,
    url: `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`,
    async close() {
      if (closed) return;
      closed = true;
      running.delete(server);
      await app.close();
    },
  };
  running.add(server);
  return server;
}

/** Close every server started by startServer and not yet closed. */
export async function closeAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()));
}
