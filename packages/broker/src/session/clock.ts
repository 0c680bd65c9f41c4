// Time as the session layer sees it: read the time, set and clear one-shot timers. The broker
// uses the system clock; tests inject a manual one, so heart-beat and timeout tests are exact
// rather than timed.

/** A timer set with {@link Clock.setTimer} (opaque). */
export type TimerHandle = object;

/** A source of time and one-shot timers. */
export interface Clock {
  /** Milliseconds since some fixed point (the system clock: the epoch). */
  now(): number;
  /** Call `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; `undefined` and timers that already ran are ignored. */
  clearTimer(handle: TimerHandle | undefined): void;
}

/** The system clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimer: (handle: TimerHandle | undefined): void => {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  },
});
