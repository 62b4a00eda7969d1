/**
 * Preloaded into a server that `npm run fuzz` spawns (node --expose-gc --import this), and
 * active only when it was spawned with an IPC channel: answers the fuzz script's questions
 * over that channel and nothing else (no port, no signal handler, no HTTP route).
 * - `fuzz:baseline`: records the own property names of Object/Array/Function/String.prototype;
 * - `fuzz:proto`: whether they are still the same and `({}).polluted` / `isAdmin` are unset;
 * - `fuzz:gc`: runs a full garbage collection (twice) and reports process.memoryUsage().
 */
if (typeof process.send === 'function') {
  const snapshot = () =>
    [Object.prototype, Array.prototype, Function.prototype, String.prototype]
      .map((p) => Object.getOwnPropertyNames(p).sort().join(','))
      .join('|');
  let baseline;
  process.on('message', (/** @type {{ type?: string } | undefined} */ msg) => {
    if (msg?.type === 'fuzz:baseline') {
      baseline = snapshot();
      process.send({ type: 'fuzz:baseline', ok: true });
    } else if (msg?.type === 'fuzz:proto') {
      const probe = {};
      process.send({
        type: 'fuzz:proto',
        clean:
          baseline !== undefined &&
          snapshot() === baseline &&
          probe.polluted === undefined &&
          probe.isAdmin === undefined,
      });
    } else if (msg?.type === 'fuzz:gc') {
      globalThis.gc?.();
      globalThis.gc?.();
      const m = process.memoryUsage();
      process.send({ type: 'fuzz:gc', gc: typeof globalThis.gc === 'function', rss: m.rss, heapUsed: m.heapUsed });
    }
  });
  // The channel must not keep the server alive by itself.
  process.channel?.unref();
}
