/**
 * A drop-in for test/helpers/server.ts that runs the black-box specs against a cluster:
 * every `startServer(env)` starts two nodes on one real Redis (a key prefix of their own),
 * and each read of `server.url` names the other node, so the clients a spec connects
 * alternate between them. `app` and `port` are the first node's.
 *
 *   npm test -- -c test/helpers-redis/jest.cluster.config.js
 */
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { deletePrefix, REDIS_URL, runPrefix } from './redis.js';

export type ParleyApp = Awaited<ReturnType<typeof createApp>>;

export interface TestServer {
  app: ParleyApp;
  port: number;
  url: string;
  close(): Promise<void>;
}

const running = new Set<TestServer>();

export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const prefix = runPrefix('bb');
  const nodeEnv = { NODE_ENV: 'test', REDIS_URL, REDIS_KEY_PREFIX: prefix, ...env };
  const apps: ParleyApp[] = [];
  for (let i = 0; i < 2; i++) {
    const app = await createApp({ env: nodeEnv, logger: false });
    await app.listen(0, '127.0.0.1');
    apps.push(app);
  }
  const urls = apps.map((app) => `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
  let turn = 0;
  let closed = false;
  const server: TestServer = {
    app: apps[0],
    port: (apps[0].getHttpServer().address() as AddressInfo).port,
    get url() {
      return urls[turn++ % urls.length];
    },
    async close() {
      if (closed) return;
      closed = true;
      running.delete(server);
      await Promise.all(apps.map((app) => app.close()));
      await deletePrefix(prefix);
    },
  };
  running.add(server);
  return server;
}

export async function closeAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()));
}
