// Small async helpers: deferreds and waits that honour a timeout and an AbortSignal.
import { StompAbortError, StompTimeoutError, type StompError } from '@stompede/core';

/** `err` as an Error (a thrown non-Error wrapped). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A promise with its settle functions exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
  readonly settled: boolean;
}

/** Make a {@link Deferred}. Its promise never raises an unhandled rejection on its own. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  let settled = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return {
    promise,
    resolve(value: T) {
      if (settled) return;
      settled = true;
      resolve(value);
    },
    reject(reason: unknown) {
      if (settled) return;
      settled = true;
      reject(reason);
    },
    get settled() {
      return settled;
    },
  };
}

/** Options every awaitable operation takes. */
export interface WaitOptions {
  /** Give up after this many milliseconds with `ERR_STOMP_TIMEOUT`. */
  readonly timeout?: number | undefined;
  /** Give up when this signal aborts, with `ERR_STOMP_ABORTED` (the reason as `cause`). */
  readonly signal?: AbortSignal | undefined;
}

/** The error an aborted wait rejects with. */
export function abortError(signal: AbortSignal, what: string): StompAbortError {
  return new StompAbortError(`${what} was aborted`, { cause: signal.reason });
}

/**
 * Wait for `promise` under a timeout and an abort signal. The signal is checked first; its
 * listener and the timer are removed as soon as the wait settles (whichever way). `onCancel` runs
 * when the wait gives up before `promise` settles.
 */
export function waitFor<T>(
  promise: Promise<T>,
  what: string,
  options: WaitOptions = {},
  onCancel?: (reason: StompError) => void,
): Promise<T> {
  const { timeout, signal } = options;
  if (signal?.aborted === true) {
    const err = abortError(signal, what);
    onCancel?.(err);
    return Promise.reject(err);
  }
  if (signal === undefined && (timeout === undefined || timeout === Infinity)) return promise;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const giveUp = (err: StompError): void => {
      cleanup();
      onCancel?.(err);
      reject(err);
    };
    const onAbort = (): void => {
      giveUp(abortError(signal!, what));
    };
    if (timeout !== undefined && timeout !== Infinity) {
      timer = setTimeout(() => {
        giveUp(new StompTimeoutError(`${what} timed out after ${timeout} ms`));
      }, timeout);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Sleep `ms` milliseconds, or until one of `signals` aborts: then reject with
 * `ERR_STOMP_ABORTED` (that signal's reason as the cause) at once, the timer cleared.
 */
export function sleep(ms: number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const aborted = signals.find((signal) => signal?.aborted === true);
    if (aborted !== undefined) {
      reject(abortError(aborted, 'sleep'));
      return;
    }
    const listeners: (() => void)[] = [];
    const settle = (error?: StompError): void => {
      clearTimeout(timer);
      for (const remove of listeners) remove();
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = setTimeout(settle, ms);
    for (const signal of signals) {
      if (signal === undefined) continue;
      const onAbort = (): void => {
        settle(abortError(signal, 'sleep'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      listeners.push(() => {
        signal.removeEventListener('abort', onAbort);
      });
    }
  });
}

/**
 * Define `[Symbol.asyncDispose]` on `proto` only where the runtime has the symbol (Node 20+,
 * recent engines). Browsers without it get no method under a bogus `"undefined"` key.
 */
export function defineAsyncDispose<T extends object>(
  proto: T,
  dispose: (this: T) => Promise<void>,
): void {
  const symbol = (Symbol as { readonly asyncDispose?: symbol }).asyncDispose;
  if (typeof symbol !== 'symbol') return;
  Object.defineProperty(proto, symbol, {
    value: dispose,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
