import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ReadReporter, TypingNotifier, TypingTracker, type Clock } from './chat-timing.js';

/** A clock the test moves by hand; timers fire in time order as it passes them. */
class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

describe('TypingNotifier', () => {
  it('sends true on the first input, repeats at most every 3 s while typing goes on, false on send', () => {
    const clock = new ManualClock();
    const sent: Array<[number, boolean]> = [];
    const n = new TypingNotifier((a) => sent.push([clock.now(), a]), { clock });
    n.input();
    for (let i = 0; i < 9; i++) {
      clock.advance(700);
      n.input();
    }
    // t = 6300: true at 0, 3000 and 6000 (the repeats come from the timer, 3 s apart)
    expect(sent).toEqual([
      [0, true],
      [3000, true],
      [6000, true],
    ]);
    n.sent();
    expect(sent.at(-1)).toEqual([6300, false]);
    expect(n.typing).toBe(false);
    clock.advance(10_000);
    expect(sent).toHaveLength(4);
  });

  it('does not repeat without new input, and sends false after the idle time', () => {
    const clock = new ManualClock();
    const sent: Array<[number, boolean]> = [];
    const n = new TypingNotifier((a) => sent.push([clock.now(), a]), { clock, idleMs: 5000 });
    n.input();
    clock.advance(20_000);
    expect(sent).toEqual([
      [0, true],
      [5000, false],
    ]);
  });

  it('stop without typing sends nothing; a rejecting transport is ignored', async () => {
    const clock = new ManualClock();
    const send = jest.fn(() => Promise.reject(new Error('RATE_LIMITED')));
    const n = new TypingNotifier(send, { clock });
    n.stop();
    expect(send).not.toHaveBeenCalled();
    n.input();
    n.input();
    n.stop();
    await Promise.resolve();
    expect(send.mock.calls).toEqual([[true], [false]]);
  });

  it('works on the global clock with fake timers', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const sent: boolean[] = [];
      const n = new TypingNotifier((a) => sent.push(a));
      n.input();
      jest.advanceTimersByTime(2000);
      n.input();
      jest.advanceTimersByTime(1000);
      expect(sent).toEqual([true, true]);
      jest.advanceTimersByTime(5000);
      expect(sent).toEqual([true, true, false]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('TypingTracker', () => {
  it('expires a member 6 s after its last active:true, each repeat extending it', () => {
    const clock = new ManualClock();
    const t = new TypingTracker({ clock });
    const changes: string[][] = [];
    t.onChange((ids) => changes.push(ids));
    t.event({ id: 'a', active: true });
    clock.advance(5000);
    t.event({ id: 'a', active: true });
    clock.advance(5999);
    expect(t.typing).toEqual(['a']);
    clock.advance(1);
    expect(t.typing).toEqual([]);
    expect(changes).toEqual([['a'], []]);
  });

  it('ends typing on active:false, on a room message from the member, and when it leaves', () => {
    const clock = new ManualClock();
    const t = new TypingTracker({ clock });
    for (const id of ['a', 'b', 'c', 'd']) t.event({ id, active: true });
    t.event({ id: 'a', active: false });
    t.message('b');
    t.left('c');
    expect(t.typing).toEqual(['d']);
    t.members(['x']);
    expect(t.typing).toEqual([]);
  });

  it('ignores malformed events', () => {
    const t = new TypingTracker({ clock: new ManualClock() });
    t.event({ id: 5 as unknown as string, active: true });
    t.event({ id: 'a', active: 'yes' as unknown as boolean });
    expect(t.typing).toEqual([]);
  });
});

describe('ReadReporter', () => {
  it('sends at most once a second, the latest offset winning, and only forward', () => {
    const clock = new ManualClock();
    const sent: Array<[number, number, string]> = [];
    const r = new ReadReporter((o, e) => sent.push([clock.now(), o, e]), { clock });
    r.seen(3, 'E');
    r.seen(4, 'E');
    r.seen(7, 'E');
    clock.advance(300);
    r.seen(5, 'E'); // backwards: nothing
    clock.advance(700);
    expect(sent).toEqual([
      [0, 3, 'E'],
      [1000, 7, 'E'],
    ]);
    r.seen(7, 'E');
    r.seen(2, 'E');
    clock.advance(5000);
    expect(sent).toHaveLength(2);
    r.seen(8, 'E');
    expect(sent.at(-1)).toEqual([6000, 8, 'E']);
  });

  it('starts over on a new epoch, dropping what was queued for the old one', () => {
    const clock = new ManualClock();
    const sent: Array<[number, number, string]> = [];
    const r = new ReadReporter((o, e) => sent.push([clock.now(), o, e]), { clock });
    r.seen(40, 'E1');
    r.seen(41, 'E1'); // queued
    r.seen(2, 'E2'); // a lower offset, but a new epoch: queued in place of 41
    clock.advance(1000);
    expect(sent).toEqual([
      [0, 40, 'E1'],
      [1000, 2, 'E2'],
    ]);
    expect(r.position).toEqual({ offset: 2, epoch: 'E2' });
  });

  it('ignores invalid offsets, and reset stops a queued send', () => {
    const clock = new ManualClock();
    const send = jest.fn();
    const r = new ReadReporter(send, { clock });
    r.seen(0, 'E');
    r.seen(1.5, 'E');
    expect(send).not.toHaveBeenCalled();
    r.seen(1, 'E');
    r.seen(2, 'E');
    r.reset();
    clock.advance(2000);
    expect(send.mock.calls).toEqual([[1, 'E']]);
  });
});

afterEach(() => {
  jest.useRealTimers();
});
