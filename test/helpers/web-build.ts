/**
 * Build the web client (web/dist) when it is missing or older than its sources, so the
 * browser tests work on a fresh clone. Vite runs in a child process: Jest's VM module
 * sandbox and Vite's native bundlers do not mix well.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const PROJECT_ROOT = resolve(process.cwd());
export const WEB_DIST = join(PROJECT_ROOT, 'web/dist');
const SOURCES = ['web/index.html', 'web/vite.config.ts', 'web/src', 'client', 'src/common/events.ts'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry.endsWith('.spec.ts')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

export function webBuildIsStale(): boolean {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(join(PROJECT_ROOT, s)) > built);
}

/** Build web/dist if needed; resolves with whether a build ran. */
export async function ensureWebBuilt(): Promise<boolean> {
  if (!webBuildIsStale()) return false;
  const vite = join(PROJECT_ROOT, 'node_modules/vite/bin/vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 120_000,
  });
  if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error('vite build did not produce web/dist/index.html');
  return true;
}
