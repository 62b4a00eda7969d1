/** A real Parley app with the web client on, on 127.0.0.1 and a free port. */
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startWebServer(env: Record<string, string> = {}): Promise<WebServer> {
  // The page is served from the server's own origin, so Socket.IO is same-origin; CORS_ORIGIN
  // is set to an unrelated origin to prove the page does not depend on it.
  const app = await createApp({
    env: { NODE_ENV: 'test', WEB_CLIENT: 'true', CORS_ORIGIN: 'http://localhost:3000', ...env },
    logger: false,
  });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const page = await fetch(`${url}/`).catch((err: Error) => err);
  if (page instanceof Error || page.status !== 200) {
    await app.close();
    throw new Error(
      `GET / on an app with WEB_CLIENT=true gave ${page instanceof Error ? page.message : page.status}: ` +
        'AppModule must import WebClientModule (src/web/web-client.module.ts) when WEB_CLIENT is on',
    );
  }
  return { url, port, close: () => app.close() };
}
