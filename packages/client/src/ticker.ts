// Timers that keep time in a background browser tab. Chrome runs a hidden tab's main-thread
// timers at most once a second, and after five minutes hidden ("intensive throttling") chained
// timers at most once a minute: a 10 s heart-beat would go out every 60 s and the broker would
// drop the connection. Timers in a dedicated worker are not throttled that way, and a message from
// the worker wakes the main thread at once. So in a browser page the timers run in one shared
// worker built from a Blob URL; everywhere else (Node, workers, Deno) they are plain setTimeout.
// Browser-safe: no Node built-ins.

declare const timerBrand: unique symbol;

/** An opaque handle for a pending timer: pass it back to {@link clearTimer}. */
export interface TimerHandle {
  readonly [timerBrand]: true;
}

/** A timer service: one-shot timers that can be cancelled. */
export interface Ticker {
  /** Run `callback` once after `ms` milliseconds; returns the handle that cancels it. */
  setTimer(callback: () => void, ms: number): TimerHandle;
  /** Cancel a timer that has not fired yet. A handle that already fired, or none, is ignored. */
  clearTimer(handle: TimerHandle | undefined): void;
}

/**
 * The worker's source: on `{ id, ms }` it starts a timer that posts `id` back (replacing one with
 * that id), on `{ cancel: id }` it clears it.
 */
const WORKER_SOURCE = `'use strict';
const timers = new Map();
onmessage = (event) => {
  const data = event.data;
  const id = data.cancel === undefined ? data.id : data.cancel;
  clearTimeout(timers.get(id));
  timers.delete(id);
  if (data.cancel !== undefined) return;
  timers.set(id, setTimeout(() => {
    timers.delete(id);
    postMessage(id);
  }, data.ms));
};
`;

/**
 * How long the worker is kept once no timer is pending, in ms. Terminating it at once would
 * start a thread per timer for callers that chain short timers (a `delay()` poll loop); keeping it
 * forever would leave a thread behind in a page that closed its last client. The linger is itself
 * a worker timer, so it is not throttled either.
 */
const LINGER_MS = 10_000;
/** The id of the linger timer (user timers count from 1). */
const LINGER_ID = 0;

/** Where the plain timers come from: looked up at each call, so that a page's stubs apply. */
const plain: Ticker = {
  setTimer(callback, ms) {
    // Not unref'd in Node: the client's heart-beat timers never were (the socket keeps the
    // process alive while connected anyway, and `kill()` clears them).
    return setTimeout(callback, ms) as unknown as TimerHandle;
  },
  clearTimer(handle) {
    if (handle !== undefined) clearTimeout(handle as unknown as ReturnType<typeof setTimeout>);
  },
};

/** A pending timer of a {@link WorkerTicker}. */
interface Entry {
  readonly id: number;
  readonly callback: () => void;
  /** When it is due (`Date.now()` clock): what is left of it if the worker fails. */
  readonly due: number;
  /** The main-thread timer, once the worker failed (or could not be created). */
  fallback: ReturnType<typeof setTimeout> | undefined;
}

/** The globals the worker path needs (read at call time, so tests can install fakes). */
interface BrowserGlobals {
  readonly document?: unknown;
  readonly Worker?: typeof Worker;
  readonly Blob?: typeof Blob;
  readonly URL?: typeof URL;
}

/** True in a browser page (a main thread with `document`) that can start a Blob URL worker. */
export function canUseWorkerTimers(): boolean {
  const g = globalThis as BrowserGlobals;
  return (
    typeof g.document !== 'undefined' &&
    typeof g.Worker === 'function' &&
    typeof g.Blob === 'function' &&
    typeof g.URL?.createObjectURL === 'function'
  );
}

/**
 * Timers run by one dedicated worker, created on first use from a Blob URL. If the worker cannot
 * be created (a Content-Security-Policy without `worker-src blob:`) or reports an error, this
 * timer and all later ones run on main-thread `setTimeout`, and the timers pending in the worker
 * are moved there with the time they had left: no callback is lost.
 */
class WorkerTicker implements Ticker {
  readonly #pending = new Map<number, Entry>();
  #worker: Worker | undefined;
  #url: string | undefined;
  #failed = false;
  #next = LINGER_ID + 1;

  setTimer(callback: () => void, ms: number): TimerHandle {
    const delay = Math.max(0, ms);
    const entry: Entry = {
      id: this.#next++,
      callback,
      due: Date.now() + delay,
      fallback: undefined,
    };
    this.#pending.set(entry.id, entry);
    const worker = this.#failed ? undefined : this.#ensureWorker();
    if (worker !== undefined) this.#post(worker, { id: entry.id, ms: delay });
    // No worker, or posting failed (then #fail has already moved this entry).
    if (this.#failed && entry.fallback === undefined) this.#fallBack(entry);
    return entry as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const entry = handle as unknown as Entry;
    if (!this.#pending.delete(entry.id)) return;
    if (entry.fallback !== undefined) clearTimeout(entry.fallback);
    else if (this.#worker !== undefined) this.#post(this.#worker, { cancel: entry.id });
    this.#idle();
  }

  #ensureWorker(): Worker | undefined {
    if (this.#worker !== undefined) return this.#worker;
    const g = globalThis as BrowserGlobals;
    let url: string | undefined;
    try {
      url = g.URL!.createObjectURL(new g.Blob!([WORKER_SOURCE], { type: 'text/javascript' }));
      const worker = new g.Worker!(url, { name: 'stompede-ticker' });
      worker.onmessage = (event: MessageEvent<number>) => {
        if (this.#worker === worker) this.#fire(event.data);
      };
      worker.onerror = (event: Event) => {
        event.preventDefault();
        if (this.#worker === worker) this.#fail();
      };
      worker.onmessageerror = () => {
        if (this.#worker === worker) this.#fail();
      };
      this.#worker = worker;
      // The URL is revoked when the worker goes (#stop): revoking right after `new Worker` is
      // allowed by the spec, but not every engine has always honoured that.
      this.#url = url;
      return worker;
    } catch {
      if (url !== undefined) g.URL!.revokeObjectURL(url);
      this.#failed = true;
      return undefined;
    }
  }

  /** Post to the worker; if that throws, the worker is dropped (see #fail). */
  #post(worker: Worker, message: { id: number; ms: number } | { cancel: number }): void {
    try {
      worker.postMessage(message);
    } catch {
      this.#fail();
    }
  }

  #fire(id: number): void {
    if (id === LINGER_ID) {
      if (this.#pending.size === 0) this.#stop();
      return;
    }
    const entry = this.#pending.get(id);
    if (entry === undefined) return; // cleared after the worker posted it
    this.#pending.delete(id);
    try {
      entry.callback();
    } finally {
      this.#idle(); // after the callback, which usually sets the next timer
    }
  }

  /** Nothing pending: (re)arm the linger timer that terminates the worker. */
  #idle(): void {
    if (this.#pending.size > 0 || this.#worker === undefined) return;
    this.#post(this.#worker, { id: LINGER_ID, ms: LINGER_MS });
  }

  /** Move one timer to the main thread, with the time it had left. */
  #fallBack(entry: Entry): void {
    entry.fallback = setTimeout(
      () => {
        if (this.#pending.delete(entry.id)) entry.callback();
      },
      Math.max(0, entry.due - Date.now()),
    );
  }

  /** The worker failed: main-thread timers from now on, the pending ones included. */
  #fail(): void {
    this.#failed = true;
    this.#stop();
    for (const entry of this.#pending.values()) {
      if (entry.fallback === undefined) this.#fallBack(entry);
    }
  }

  #stop(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) {
      worker.onmessage = null;
      worker.onerror = null;
      worker.onmessageerror = null;
      worker.terminate();
    }
    if (this.#url !== undefined) (globalThis as BrowserGlobals).URL!.revokeObjectURL(this.#url);
    this.#url = undefined;
  }
}

/**
 * A new timer service for this environment: worker-backed in a browser page (see
 * {@link canUseWorkerTimers}), plain `setTimeout` elsewhere. The client shares one (the functions
 * below); a separate one is for tests.
 */
export function createTicker(): Ticker {
  return canUseWorkerTimers() ? new WorkerTicker() : plain;
}

let shared: Ticker | undefined;

/**
 * Run `callback` once after `ms` milliseconds, on the shared timer service: in a browser page
 * the timer survives background-tab throttling. Returns the handle for {@link clearTimer}.
 */
export function setTimer(callback: () => void, ms: number): TimerHandle {
  shared ??= createTicker();
  return shared.setTimer(callback, ms);
}

/** Cancel a timer from {@link setTimer}. A handle that already fired, or `undefined`, is ignored. */
export function clearTimer(handle: TimerHandle | undefined): void {
  if (handle !== undefined) shared?.clearTimer(handle);
}

/**
 * Resolve after `ms` milliseconds, on the shared timer service (see {@link setTimer}) or on
 * `ticker` when given.
 */
export function delay(ms: number, ticker?: Ticker): Promise<void> {
  return new Promise((resolve) => {
    if (ticker === undefined) setTimer(resolve, ms);
    else ticker.setTimer(resolve, ms);
  });
}
