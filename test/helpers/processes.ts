/**
 * Child processes for the fault specs: a Parley node built from the current sources (so it
 * can be killed with SIGKILL), and a throwaway redis-server (so it can be stopped and
 * started again on the same port).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeRedis } from './redis.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Compiles src/ (tsconfig.build.json) into a temporary directory whose node_modules links
 * to the project's; returns the directory (with app.js in it). The caller removes it.
 */
export function buildApp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-redis-e2e-'));
  const out = join(dir, 'dist');
  mkdirSync(out);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsc = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      out,
      '--sourceMap',
      'false',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (!existsSync(join(out, 'app.js'))) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`building the app for the child node failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  return dir;
}

export interface ChildNode {
  process: ChildProcess;
  port: number;
  url: string;
  /** Everything the child wrote on stderr (for failure messages). */
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a node in a child process from a build; resolves once it listens. */
export function spawnNode(buildDir: string, env: Record<string, string>, timeoutMs = 20_000): Promise<ChildNode> {
  const child = spawn(process.execPath, [join(ROOT, 'test/helpers/child-node.mjs')], {
    env: { ...process.env, ...env, PARLEY_BUILD_DIR: join(buildDir, 'dist'), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise<ChildNode>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child node did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`child node exited with ${code}: ${err}`));
    };
    child.once('exit', early);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (!line) return;
      clearTimeout(timer);
      child.off('exit', early);
      const port = (JSON.parse(line) as { port: number }).port;
      resolvePromise({
        process: child,
        port,
        url: `http://127.0.0.1:${port}`,
        stderr: () => err,
        kill: async (signal = 'SIGKILL') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePromise(port));
    });
  });
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A redis-server of its own on `port` (no persistence), started and stopped on demand. */
export async function redisServer(port: number): Promise<RedisServer> {
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const server: RedisServer = {
    port,
    url,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
        {
          stdio: 'ignore',
        },
      );
      const until = Date.now() + 10_000;
      while (!(await probeRedis(url, 300))) {
        if (Date.now() > until) throw new Error(`redis-server did not start on port ${port}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  return server;
}
