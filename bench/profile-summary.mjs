#!/usr/bin/env node
// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`, e.g. written by
// `node bench/run.mjs --profile parley`).
//   node bench/profile-summary.mjs <file.cpuprofile> [--top 25] [--by function|package] [--skip-ms N]
// --skip-ms leaves out the first N ms of the profile (start-up: module loading, DI).
// When bench/run.mjs wrote <file>.windows.json beside the profile, only samples inside those
// measurement windows count (--window LABEL-PREFIX, e.g. "fanout" or "calls", to pick some;
// --all to ignore the windows).
import { readFileSync, existsSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N] [--by function|package]');
  process.exit(2);
}
const opt = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const top = Number(opt('top', 25));
const skipUs = Number(opt('skip-ms', 0)) * 1000;
const by = opt('by', 'function');
const prof = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const { samples, timeDeltas } = prof;
let t = prof.startTime;
const from = prof.startTime + skipUs;
let windows = null;
if (!args.includes('--all') && existsSync(`${file}.windows.json`)) {
  const prefix = opt('window', '');
  windows = JSON.parse(readFileSync(`${file}.windows.json`, 'utf8')).filter((w) => w.label.startsWith(prefix));
  console.log(`windows: ${windows.map((w) => w.label).join(', ') || '(none)'}`);
}
const inWindow = (ts) => !windows || windows.some((w) => ts >= w.from && ts <= w.to);
for (let i = 0; i < samples.length; i++) {
  t += timeDeltas[i];
  if (t < from || !inWindow(t)) continue;
  const dt = timeDeltas[i + 1] ?? 0;
  self.set(samples[i], (self.get(samples[i]) || 0) + dt);
}
const pkg = (url) => {
  if (!url) return '(native/v8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  return url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
};
const agg = new Map();
let total = 0;
let idle = 0;
for (const [id, us] of self) {
  const n = nodes.get(id);
  const cf = n.callFrame;
  total += us;
  if (cf.functionName === '(idle)') {
    idle += us;
    continue;
  }
  const key =
    by === 'package'
      ? pkg(cf.url)
      : `${cf.functionName || '(anonymous)'}  ${pkg(cf.url)}${cf.url && !cf.url.startsWith('node:') ? `:${cf.lineNumber + 1}` : ''}`;
  agg.set(key, (agg.get(key) || 0) + us);
}
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${((total - idle) / 1e6).toFixed(2)} s busy`);
console.log(`self time by ${by} (share of busy time):`);
for (const [k, us] of [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(
    `${((100 * us) / (total - idle)).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
  );
}
