/**
 * What an operator sees and does: `npm run start:prod` (the real script from package.json)
 * hands SIGTERM to the server, which says it stopped and ends; the start-up output into a
 * pipe is a few JSON lines without colour codes, with one banner naming the URL to open.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startupBanner } from '../src/banner.js';
import type { AppConfig } from '../src/config/configuration.js';
import { buildApp, freePort } from './helpers/processes.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('startupBanner', () => {
  const base = { host: '0.0.0.0', webClient: true, docsUi: true, adminUi: false, tls: undefined } as AppConfig;

  it('names localhost when bound to every address, and the routes that are on', () => {
    const b = startupBanner(base, 3001);
    expect(b.url).toBe('http://localhost:3001');
    expect(b.msg).toContain('http://localhost:3001');
    expect(b.paths).toEqual(['/ (web client)', '/docs (API docs)', '/health']);
  });

  it('keeps a specific address, and leaves out what is off', () => {
    const b = startupBanner({ ...base, host: '127.0.0.1', webClient: false, docsUi: false, adminUi: true }, 8080);
    expect(b.url).toBe('http://127.0.0.1:8080');
    expect(b.paths).toEqual(['/health', '/admin/ (admin UI)']);
    expect(startupBanner({ ...base, host: '::1' }, 1).url).toBe('http://[::1]:1');
    expect(startupBanner({ ...base, tls: { certFile: 'c', keyFile: 'k' } }, 443).url).toBe('https://localhost:443');
  });
});

describe('npm run start:prod', () => {
  let dir: string;
  beforeAll(() => {
    dir = buildApp();
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    // The build's own package.json, with the real start script (it runs dist/main.js from here).
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ type: 'module', private: true, scripts: { 'start:prod': scripts['start:prod'] } }),
    );
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs a few plain JSON lines with one banner, and stops on SIGTERM sent to npm', async () => {
    const port = await freePort();
    const npm: ChildProcess = spawn('npm', ['run', '--silent', 'start:prod'], {
      cwd: dir,
      // An operator's shell: none of the npm_* variables of the `npm test` running this spec.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_'))),
        NODE_OPTIONS: '',
        NODE_ENV: 'development',
        PORT: String(port),
        LOG_LEVEL: 'log',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    // 'close': npm has exited and every holder of its pipes (the server) too.
    const exited = new Promise<number | null>((r) => npm.once('close', (code: number | null) => r(code)));
    const deadline = Date.now() + 20_000;
    while (!out.includes('"event":"listening"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('"event":"listening"');
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    npm.kill('SIGTERM');
    await exited;
    // The server itself is gone, not just npm: its port no longer answers.
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();

    // Not a terminal: JSON lines, no colour codes.
    expect(out).not.toContain('\u001b[');
    const lines = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg?: string; event?: string; context?: string });
    // Nest's module and route narration is at debug; what remains fits on a screen.
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines.filter((l) => l.context === 'RoutesResolver' || l.context === 'InstanceLoader')).toEqual([]);
    for (const line of lines) expect(line.msg).toEqual(expect.stringMatching(/\S/));
    const banners = lines.filter((l) => l.event === 'listening');
    expect(banners).toHaveLength(1);
    expect(banners[0].msg).toContain(`http://localhost:${port}`);
    expect(banners[0].msg).toContain('/docs');
    expect(banners[0].msg).toContain('/health');
    expect(lines.at(-1)).toMatchObject({ event: 'stopped', msg: expect.stringContaining('SIGTERM') });
  }, 60_000);
});
