// A manual clock for the broker (BrokerOptions.clock): time stands still until a test moves it,
// and moving it runs the timers that fell due, in order. Heart-beat, CONNECT and frame timeouts
// are then tested exactly, with no real sleeps.
import type { Clock, TimerHandle } from '@stompede/broker';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A {@link Clock} that only moves when {@link TestClock.advance} is called. */
export class TestClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Timer[] = [];

  /** @param start the time at first (milliseconds; default 2030-01-01). */
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const i = this.timers.indexOf(handle as Timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.timers.length;
  }

  /**
   * Move time forward by `ms`, running every timer due on the way in the order they fall due
   * (a timer set by another with a delay within the step runs too), each at its own time.
   */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) {
        if (
          t.at <= end &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))
        ) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
  }
}
