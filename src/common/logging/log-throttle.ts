/**
 * At most one log line of a kind per interval, so a storm (a Redis outage's reconnection
 * attempts, a flood of refused connections) cannot flood the logs. The lines left out are
 * counted and reported with the next one that is written, as `suppressedSince`.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `write` unless a line of this kind was written within the interval. */
  run(kind: string, write: (extra: { suppressedSince?: number }) => void): void {
    const now = this.now();
    const last = this.last.get(kind);
    if (last && now - last.at < this.intervalMs) {
      last.suppressed += 1;
      return;
    }
    this.last.set(kind, { at: now, suppressed: 0 });
    write(last?.suppressed ? { suppressedSince: last.suppressed } : {});
  }
}
