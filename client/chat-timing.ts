/**
 * The timing the protocol asks of clients for `typing` and `read` (docs/PROTOCOL.md, v1.2),
 * as small framework-free classes. Each takes a {@link Clock} so tests (and apps with their
 * own scheduler) can drive time; the default is the global clock.
 */

/** What the timing classes need of time: now, and one-shot timers. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The global clock (`Date.now`, `setTimeout`), looked up on each call so fake timers apply. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** How often `typing {active:true}` may repeat while the user goes on typing (ms). */
export const TYPING_REPEAT_MS = 3000;
/** A receiver treats a member as no longer typing this long after its last `active: true` (ms). */
export const TYPING_EXPIRE_MS = 6000;
/** The shortest time between two `read` requests (ms). */
export const READ_INTERVAL_MS = 1000;

export interface TypingNotifierOptions {
  clock?: Clock;
  /** Minimum time between two `active: true` (default {@link TYPING_REPEAT_MS}). */
  repeatMs?: number;
  /** No input for this long counts as having stopped: `active: false` (default 5000). */
  idleMs?: number;
}

/**
 * Sender side of `typing`. Call {@link input} on each keystroke (or input event),
 * {@link stop} when the field is cleared or left, {@link sent} when the message is sent.
 * It sends `true` on the first input, again at most every `repeatMs` while input goes on
 * (so a receiver's 6 s expiry never fires mid-typing), and `false` once on stop, send or
 * `idleMs` without input. `send` errors are the caller's (a rejected promise is ignored).
 */
export class TypingNotifier {
  private readonly clock: Clock;
  private readonly repeatMs: number;
  private readonly idleMs: number;
  private active = false;
  private lastTrueAt = 0;
  /** Input came after the last `true`; the repeat timer sends another when it may. */
  private pending = false;
  private repeatTimer: unknown;
  private idleTimer: unknown;

  constructor(
    private readonly send: (active: boolean) => unknown,
    options: TypingNotifierOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.repeatMs = options.repeatMs ?? TYPING_REPEAT_MS;
    this.idleMs = options.idleMs ?? 5000;
  }

  /** Whether the last thing sent was `active: true`. */
  get typing(): boolean {
    return this.active;
  }

  /** The user typed. */
  input(): void {
    this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = this.clock.setTimeout(() => this.stop(), this.idleMs);
    const now = this.clock.now();
    if (!this.active || now - this.lastTrueAt >= this.repeatMs) {
      this.active = true;
      this.emitTrue(now);
    } else if (!this.pending) {
      this.pending = true;
      this.clock.clearTimeout(this.repeatTimer);
      this.repeatTimer = this.clock.setTimeout(
        () => {
          this.repeatTimer = undefined;
          if (this.active && this.pending) this.emitTrue(this.clock.now());
        },
        this.lastTrueAt + this.repeatMs - now,
      );
    }
  }

  /** The user stopped typing (cleared the field, left it): `false` if `true` was sent. */
  stop(): void {
    this.clearTimers();
    if (!this.active) return;
    this.active = false;
    this.pending = false;
    this.fire(false);
  }

  /** The message was sent: same as {@link stop}. */
  sent(): void {
    this.stop();
  }

  /** Drop the timers without sending anything (e.g. on logout). */
  dispose(): void {
    this.clearTimers();
    this.active = false;
    this.pending = false;
  }

  private emitTrue(now: number): void {
    this.lastTrueAt = now;
    this.pending = false;
    this.fire(true);
  }

  private fire(active: boolean): void {
    try {
      const r = this.send(active);
      if (r instanceof Promise) r.catch(() => undefined);
    } catch {
      // the caller's transport; typing is best effort
    }
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.idleTimer);
    this.clock.clearTimeout(this.repeatTimer);
    this.idleTimer = this.repeatTimer = undefined;
  }
}

export interface TypingTrackerOptions {
  clock?: Clock;
  /** Default {@link TYPING_EXPIRE_MS}. */
  expireMs?: number;
}

/**
 * Receiver side of `typing`: who of the room is typing now. Feed it the `typing` events
 * ({@link event}), the room messages ({@link message}: a message from a member ends its
 * typing) and departures ({@link left}, or {@link members} with the current `users` list).
 * A member stops counting as typing `expireMs` after its last `active: true`.
 */
export class TypingTracker {
  private readonly clock: Clock;
  private readonly expireMs: number;
  /** Typing members, in the order they started, with their expiry timers. */
  private readonly timers = new Map<string, unknown>();
  private readonly listeners = new Set<(ids: string[]) => void>();

  constructor(options: TypingTrackerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.expireMs = options.expireMs ?? TYPING_EXPIRE_MS;
  }

  /** Socket ids of the members typing now, in the order they started. */
  get typing(): string[] {
    return [...this.timers.keys()];
  }

  isTyping(id: string): boolean {
    return this.timers.has(id);
  }

  /** Called with the new list each time it changes; returns an unsubscribe function. */
  onChange(listener: (ids: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A `typing` event `{ id, active }`. */
  event(e: { id: string; active: boolean }): void {
    if (typeof e?.id !== 'string' || typeof e.active !== 'boolean') return;
    if (!e.active) return this.remove(e.id);
    const had = this.timers.has(e.id);
    this.clock.clearTimeout(this.timers.get(e.id));
    this.timers.set(
      e.id,
      this.clock.setTimeout(() => this.remove(e.id), this.expireMs),
    );
    if (!had) this.changed();
  }

  /** A room message arrived from `fromId`: it is no longer typing. */
  message(fromId: string): void {
    this.remove(fromId);
  }

  /** `id` left the room. */
  left(id: string): void {
    this.remove(id);
  }

  /** The room's current members (`users`): anyone else is no longer typing. */
  members(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of [...this.timers.keys()]) if (!keep.has(id)) this.remove(id);
  }

  /** Forget everyone (a new room, a logout). */
  clear(): void {
    if (this.timers.size === 0) return;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    this.changed();
  }

  private remove(id: string): void {
    if (!this.timers.has(id)) return;
    this.clock.clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.changed();
  }

  private changed(): void {
    const ids = this.typing;
    for (const l of [...this.listeners]) l(ids);
  }
}

export interface ReadReporterOptions {
  clock?: Clock;
  /** Minimum time between two `read` requests (default {@link READ_INTERVAL_MS}). */
  intervalMs?: number;
}

/**
 * Sender side of `read`: call {@link seen} whenever the user has read up to an offset. It
 * sends `read` only forward (an offset above the last one sent or queued, within one epoch),
 * at most once per `intervalMs` (the latest offset wins; one trailing send after a burst),
 * and starts over when the epoch changes (the server forgets positions then).
 */
export class ReadReporter {
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private epoch?: string;
  /** The highest offset sent in this epoch (0: none). */
  private sentOffset = 0;
  private pendingOffset?: number;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: unknown;

  constructor(
    private readonly send: (offset: number, epoch: string) => unknown,
    options: ReadReporterOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? READ_INTERVAL_MS;
  }

  /** The highest offset reported (sent or waiting to be) in the current epoch. */
  get position(): { offset: number; epoch: string } | undefined {
    const offset = this.pendingOffset ?? this.sentOffset;
    return this.epoch === undefined || offset === 0 ? undefined : { offset, epoch: this.epoch };
  }

  /** The user has read the room's messages up to `offset` of `epoch`. */
  seen(offset: number, epoch: string): void {
    if (!Number.isInteger(offset) || offset < 1 || typeof epoch !== 'string') return;
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.sentOffset = 0;
      this.pendingOffset = undefined;
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (offset <= (this.pendingOffset ?? this.sentOffset)) return;
    this.pendingOffset = offset;
    const wait = this.lastSentAt + this.intervalMs - this.clock.now();
    if (wait <= 0) return this.flush();
    if (this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
    }
  }

  /** Forget everything (a logout, a new room); nothing more is sent. */
  reset(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.epoch = undefined;
    this.sentOffset = 0;
    this.pendingOffset = undefined;
  }

  private flush(): void {
    const offset = this.pendingOffset;
    const epoch = this.epoch;
    if (offset === undefined || epoch === undefined) return;
    this.pendingOffset = undefined;
    this.sentOffset = offset;
    this.lastSentAt = this.clock.now();
    try {
      const r = this.send(offset, epoch);
      if (r instanceof Promise) r.catch(() => undefined);
    } catch {
      // best effort, like typing
    }
  }
}
