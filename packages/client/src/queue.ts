// A bounded single-consumer async queue: subscriptions buffer messages in one, the status stream
// buffers events in another. `full` tells the producer to stop reading the socket.
import { type Deferred, deferred, waitFor, type WaitOptions } from './util.js';

/** A consumer waiting in {@link AsyncQueue.shift}. */
interface Waiter<T> {
  resolve(item: T | undefined): void;
  reject(error: Error): void;
}

/** @internal */
export class AsyncQueue<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: Waiter<T> | undefined;
  private spaceWaiters: Deferred<undefined>[] = [];
  private ended = false;
  private failure: Error | undefined;
  // The callback form (see `consume`): items go straight to the sink while it is not busy.
  private sink: ((item: T) => PromiseLike<unknown> | undefined) | undefined;
  private sinkBusy = false;
  private onSinkEnd: ((error: Error | undefined) => void) | undefined;
  private onSinkError: ((error: unknown) => void) | undefined;

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
    if (this.sink !== undefined) {
      if (this.sinkBusy || this.size > 0) this.items.push(item);
      else this.feed(item);
      return;
    }
    const waiter = this.waiter;
    if (waiter !== undefined && this.size === 0) {
      // The consumer is waiting: hand the item over.
      this.waiter = undefined;
      waiter.resolve(item);
      return;
    }
    this.items.push(item);
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
    if (this.sink !== undefined && !this.sinkBusy && this.size === 0) this.finishSink();
  }

  /**
   * Consume with a callback instead of {@link shift}: `sink(item)` is called for each item in
   * order, synchronously from {@link push} when nothing is queued before it (no promise and no
   * turn per item). When it returns a promise, later items wait in the queue until it settles.
   * `onError` gets what such a promise rejects with; `onEnd` is called once the queue ended and
   * every item was consumed. `sink` must not throw.
   */
  consume(
    sink: (item: T) => PromiseLike<unknown> | undefined,
    onError: (error: unknown) => void,
    onEnd: (error: Error | undefined) => void,
  ): void {
    this.sink = sink;
    this.onSinkError = onError;
    this.onSinkEnd = onEnd;
    this.pump();
  }

  private feed(item: T): void {
    const pending = this.sink!(item);
    if (pending === undefined) return;
    this.sinkBusy = true;
    pending.then(this.resume, this.resumeFailed);
  }

  private readonly resume = (): void => {
    this.sinkBusy = false;
    this.pump();
  };

  private readonly resumeFailed = (error: unknown): void => {
    this.onSinkError?.(error);
    this.resume();
  };

  private pump(): void {
    while (!this.sinkBusy && this.size > 0) this.feed(this.take());
    if (!this.sinkBusy && this.ended) this.finishSink();
  }

  private finishSink(): void {
    const onEnd = this.onSinkEnd;
    this.onSinkEnd = undefined;
    onEnd?.(this.failure);
  }

  /** Resolves when the queue is below capacity or ended. */
  whenNotFull(): Promise<void> {
    if (!this.full || this.ended) return Promise.resolve();
    const d = deferred<undefined>();
    this.spaceWaiters.push(d);
    return d.promise.then(() => undefined);
  }

  /** The next item; `undefined` when the queue ended (throws its error, if any). */
  shift(options?: WaitOptions, what = 'receive'): Promise<T | undefined> {
    if (this.size > 0) return Promise.resolve(this.take());
    if (this.ended) {
      return this.failure === undefined ? Promise.resolve(undefined) : Promise.reject(this.failure);
    }
    const waiting = new Promise<T | undefined>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
    if (options === undefined || (options.timeout === undefined && options.signal === undefined)) {
      return waiting;
    }
    const waiter = this.waiter;
    return waitFor(waiting, what, options, () => {
      if (this.waiter === waiter) this.waiter = undefined;
    });
  }

  private take(): T {
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

  private wakeConsumer(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    // Only called by end(): nothing is queued when a consumer waits.
    if (this.failure === undefined) waiter.resolve(undefined);
    else waiter.reject(this.failure);
  }

  private wakeProducers(): void {
    const waiters = this.spaceWaiters;
    if (waiters.length === 0) return;
    this.spaceWaiters = [];
    for (const w of waiters) w.resolve(undefined);
  }
}
