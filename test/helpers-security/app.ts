/**
 * Start a Parley app for the security specs: like test/helpers/server.ts, but with an
 * optional logger and https.
 */
import type { LoggerService } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';

export type ParleyApp = Awaited<ReturnType<typeof createApp>>;

export interface SecurityServer {
  app: ParleyApp;
  port: number;
  url: string;
  close(): Promise<void>;
}

const running = new Set<SecurityServer>();

export async function startApp(
  env: Record<string, string> = {},
  options: { logger?: LoggerService | false; https?: boolean } = {},
): Promise<SecurityServer> {
  const app = await createApp({ env, logger: options.logger ?? false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  let closed = false;
  const server: SecurityServer = {
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

export async function closeApps(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()));
}
