// The end of the current tick, where the built-in transports send what was written during it.

const nextTick = (globalThis as { process?: { nextTick?: (fn: () => void) => void } }).process
  ?.nextTick;

/**
 * Run `fn` once the current tick's synchronous work and promise reactions are done: Node's
 * `process.nextTick` (after the microtask queue drains, so awaited writes continuing in
 * microtasks join the batch), else `queueMicrotask` (browsers).
 */
export const afterTick: (fn: () => void) => void =
  typeof nextTick === 'function'
    ? (fn) => {
        nextTick(fn);
      }
    : (fn) => {
        queueMicrotask(fn);
      };
