import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The one direction of dependencies (docs/ARCHITECTURE.md): infrastructure never imports a
 * feature, and a store backend imports nothing of another feature.
 */
const SRC = dirname(fileURLToPath(import.meta.url));
const FEATURES = [
  'admin',
  'admin-ui',
  'chat',
  'compat',
  'docs',
  'history',
  'presence',
  'room-calls',
  'sessions',
  'signaling',
  'security',
  'users',
  'web',
  'webhooks',
];
const INFRASTRUCTURE = ['common', 'config', 'health', 'metrics', 'redis'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The top folder under src/ of each relative import of `file`. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specs.map((spec) => relative(SRC, resolve(dirname(file), spec)).split('/')[0]);
}

const topFolder = (file: string) => relative(SRC, file).split('/')[0];
const isBackend = (file: string) =>
  /\/(in-memory|redis)-[a-z-]+\.service\.ts$/.test(file) && !file.includes('/redis/redis.');

describe('dependency direction', () => {
  const files = sources(SRC);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(40);
  });

  it('infrastructure imports no feature', () => {
    const offending = files
      .filter((f) => INFRASTRUCTURE.includes(topFolder(f)))
      .flatMap((f) =>
        importedFolders(f)
          .filter((d) => FEATURES.includes(d))
          .map((d) => `${relative(SRC, f)} -> ${d}/`),
      );
    expect(offending).toEqual([]);
  });

  it('a store backend imports only its own feature and infrastructure', () => {
    const backends = files.filter(isBackend);
    expect(backends.length).toBeGreaterThanOrEqual(10);
    const offending = backends.flatMap((f) =>
      importedFolders(f)
        .filter((d) => d !== topFolder(f) && !INFRASTRUCTURE.includes(d))
        .map((d) => `${relative(SRC, f)} -> ${d}/`),
    );
    expect(offending).toEqual([]);
  });
});
