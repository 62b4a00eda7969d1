/**
 * The one way the specs start Parley in this process: `startServer(env, options)` on
 * 127.0.0.1 and a free port; one node by default, several nodes on the test Redis (a key
 * prefix of their own) with `nodes`, and PARLEY_TEST_NODES (set by jest.cluster.config.js)
 * turns every default-sized start into that many nodes, so black-box specs run unchanged
 * against a cluster. With several nodes each read of `url` names the next node, so the
 * clients a spec connects alternate between them; `app` and `port` are the first node's.
 * `startNode` starts one Redis-backed node a spec controls by itself.
 */
import type { LoggerService, LogLevel } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.js';
import { deletePrefix, REDIS_URL, runPrefix } from './redis.js';

export type ParleyApp = Awaited<ReturnType<typeof createApp>>;

export interface TestServer {
  app: ParleyApp;
  apps: ParleyApp[];
  port: number;
  /** The next node's URL (alternating with several nodes). */
  url: string;
  urls: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  /** A logger to capture the app's logs; silent by default. */
  logger?: LoggerService | LogLevel[] | false;
  /** The app serves TLS (TLS_CERT_FILE/TLS_KEY_FILE in env): the url is https. */
  https?: boolean;
  /** Nodes on the test Redis; default 1, or PARLEY_TEST_NODES. */
  nodes?: number;
  /** Serve the web client (and check that GET / answers 200). */
  web?: boolean;
}

const running = new Set<TestServer>();

export async function startServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const nodes = options.nodes ?? Number(process.env.PARLEY_TEST_NODES ?? 1);
  const prefix = nodes > 1 ? runPrefix('bb') : undefined;
  const nodeEnv: Record<string, string> = {
    NODE_ENV: 'test',
    ...(options.web && { WEB_CLIENT: 'true', CORS_ORIGIN: 'http://localhost:3000' }),
    ...(prefix && { REDIS_URL, REDIS_KEY_PREFIX: prefix }),
    ...env,
  };
  const apps: ParleyApp[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const app = await createApp({ env: nodeEnv, logger: options.logger ?? false });
      apps.push(app);
      await app.listen(0, '127.0.0.1');
    }
  } catch (err) {
    await Promise.all(apps.map((a) => a.close()));
    throw err;
  }
  const scheme = options.https ? 'https' : 'http';
  const urls = apps.map((app) => `${scheme}://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
  let turn = 0;
  let closed = false;
  const server: TestServer = {
    app: apps[0],
    apps,
    port: (apps[0].getHttpServer().address() as AddressInfo).port,
    urls,
    get url() {
      return urls[turn++ % urls.length];
    },
    async close() {
      if (closed) return;
      closed = true;
      running.delete(server);
      await Promise.all(apps.map((app) => app.close()));
      if (prefix) await deletePrefix(prefix);
    },
  };
  running.add(server);
  if (options.web) await expectPage(server);
  return server;
}

/** Close every server started by startServer and not yet closed. */
export async function closeAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.close()));
}

export interface RedisNode {
  app: ParleyApp;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** One Parley node in this process, on a free port, against Redis with `prefix`. */
export async function startNode(
  prefix: string,
  env: Record<string, string> = {},
  redisUrl = REDIS_URL,
): Promise<RedisNode> {
  const app = await createApp({
    env: { NODE_ENV: 'test', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, ...env },
    logger: process.env.REDIS_TEST_LOGS ? ['error', 'warn', 'log'] : false,
  });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => (closed ??= app.close()) };
}

async function expectPage(server: TestServer): Promise<void> {
  const url = server.urls[0];
  const page = await fetch(`${url}/`).catch((err: Error) => err);
  if (page instanceof Error || page.status !== 200) {
    await server.close();
    throw new Error(
      `GET / on an app with WEB_CLIENT=true gave ${page instanceof Error ? page.message : page.status}: ` +
        'AppModule must import WebClientModule (src/web/web-client.module.ts) when WEB_CLIENT is on',
    );
  }
}
