// A bounded single-consumer async queue: subscriptions buffer messages in one, the status stream
// buffers events in another. `full` tells the producer to stop reading the socket.
import { type Deferred, deferred, waitFor, type WaitOptions } from './util.js';

/** @internal */
export class AsyncQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: Deferred<undefined> | undefined;
  private spaceWaiters: Deferred<undefined>[] = [];
  private ended = false;
  private failure: Error | undefined;

  constructor(readonly capacity: number) {}

  /** Items waiting. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** True when the queue holds `capacity` items or more. */
  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** True once {@link end} was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Add an item (the capacity is soft: the producer is expected to check {@link full}). */
  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wakeConsumer();
  }

  /** Drop the oldest item (for lossy queues such as status events). */
  dropOldest(): void {
    if (this.size > 0) this.head++;
  }

  /** No more items; the consumer drains what is queued, then sees the end (or `error`). */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.wakeConsumer();
    this.wakeProducers();
  }

  /** Resolves when the queue is below capacity or ended. */
  whenNotFull(): Promise<void> {
    if (!this.full || this.ended) return Promise.resolve();
    const d = deferred<undefined>();
    this.spaceWaiters.push(d);
    return d.promise.then(() => undefined);
  }

  /** The next item; `undefined` when the queue ended (throws its error, if any). */
  async shift(options?: WaitOptions, what = 'receive'): Promise<T | undefined> {
    for (;;) {
      if (this.size > 0) {
        const item = this.items[this.head]!;
        this.items[this.head] = undefined as T;
        this.head++;
        if (this.head > 64 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        if (!this.full) this.wakeProducers();
        return item;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return undefined;
      }
      const waiter = deferred<undefined>();
      this.waiter = waiter;
      await waitFor(waiter.promise, what, options, () => {
        if (this.waiter === waiter) this.waiter = undefined;
      });
    }
  }

  private wakeConsumer(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(undefined);
  }

  private wakeProducers(): void {
    const waiters = this.spaceWaiters;
    if (waiters.length === 0) return;
    this.spaceWaiters = [];
    for (const w of waiters) w.resolve(undefined);
  }
}
