// Preloaded (node --expose-gc --import) into every server the benchmark starts, Parley and
// the baselines alike, so memory is measured the same way for all three:
//  - SIGWINCH: two full GCs, then process.memoryUsage() is written to $BENCH_MEM_FILE;
//  - the server exits by itself when the benchmark process ($BENCH_PARENT_PID) is gone;
//  - with BENCH_EXIT_ON_TERM=1, SIGTERM exits at once (so --cpu-prof writes its profile);
//  - SIGURG: the event-loop delay since the last SIGURG (p50, p99, max, in ms) is written to
//    $BENCH_ELD_FILE and the histogram starts again: how long work queued behind other work
//    in the server itself during a fan-out step, apart from what the network and the load
//    generators add to the latency the clients see.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.BENCH_MEM_FILE;
// (not SIGUSR2: Nest's enableShutdownHooks() treats SIGUSR2 as a shutdown signal; SIGWINCH is
// ignored by default, so a server without this preload is not harmed by it)
process.on('SIGWINCH', () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  if (file) writeFileSync(file, JSON.stringify({ ...process.memoryUsage(), at: Date.now() }));
});
const eldFile = process.env.BENCH_ELD_FILE;
if (eldFile) {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  // (SIGURG is ignored by default, like SIGWINCH)
  process.on('SIGURG', () => {
    const ms = (ns) => Math.round(ns / 1e3) / 1e3;
    writeFileSync(
      eldFile,
      JSON.stringify({ p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), at: Date.now() }),
    );
    eld.reset();
  });
}
const parent = Number(process.env.BENCH_PARENT_PID);
if (parent) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}
if (process.env.BENCH_EXIT_ON_TERM === '1') {
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}
