// How messages move through the local engine's queues: enqueue (with paging out and the bounds of
// each queue), page in, dispatch to ready consumers round-robin, settle, requeue, and the memory
// accounting that pushes back on producers or sheds the backlogs of slow topic subscribers.
// LocalEngine (local.ts) builds the destinations and the Engine API on top of it.
import type { MaybePromise } from '../engine.js';
import type { Message } from '../message.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { Entry } from './entry.js';
import { AutoDelivery, type Attached, type Queue, type QueueHost, Unacked } from './queue.js';
import type { VHost } from './vhost.js';

/** Entries read from the store at once when a queue reaches a paged-out message. */
const PAGE_IN = 256;

/** What {@link MessageFlow} is built with. */
export interface FlowSettings {
  readonly metrics: Metrics;
  readonly memoryLimit: number;
  readonly maxDeliveries: number;
  readonly store: Store | undefined;
  readonly pageOutBytes: number;
  readonly now: () => number;
}

/** How {@link MessageFlow.empty} lets go of a queue's messages. */
type Letting = 'remove' | 'forget' | 'release';

/** The message flow of the local engine (see the file's header). */
export abstract class MessageFlow implements QueueHost {
  /** @internal */
  readonly metrics: Metrics;
  protected readonly memoryLimit: number;
  protected readonly maxDeliveries: number;
  protected readonly store: Store | undefined;
  protected readonly pageOutBytes: number;
  protected readonly now: () => number;
  protected readonly vhosts = new Map<string, VHost>();
  /** Shared by every delivery: message-ids are this prefix and the message's seq. */
  protected readonly idPrefix: string;
  protected seq = 0;
  /** Bytes of message data held in memory (waiting or unacknowledged). */
  protected bytes = 0;
  /** Of those, the bytes waiting in droppable queues (non-durable topic subscriptions). */
  private droppableBytes = 0;
  /** Messages held. */
  protected count = 0;
  /** Droppable queues holding waiting messages: shed first when memory is over the limit. */
  private readonly backlogs = new Set<Queue>();
  /** Producers waiting for memory. */
  private waiters: (() => void)[] = [];

  constructor(settings: FlowSettings) {
    this.metrics = settings.metrics;
    this.memoryLimit = settings.memoryLimit;
    this.maxDeliveries = settings.maxDeliveries;
    this.store = settings.store;
    this.pageOutBytes = settings.pageOutBytes;
    this.now = settings.now;
    this.idPrefix =
      this.store === undefined
        ? `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`
        : `${this.store.id}-`;
  }

  /** Dead-letter a message (or drop it when its destination has no dead-letter queue). */
  abstract deadLetter(queue: Queue, entry: Entry): boolean;
  abstract detach(consumer: Attached): void;

  /** True while producers must wait: memory held by queues that cannot drop is over the limit. */
  protected get memoryFull(): boolean {
    return this.memoryLimit > 0 && this.bytes - this.droppableBytes >= this.memoryLimit;
  }

  /** @internal Resolves when every stored change so far is durable. */
  durable(): Promise<void> {
    return this.store!.sync();
  }

  /**
   * What a publication returns: nothing when the producer may go on at once; else a promise
   * that settles when the store synced (`sync`) and the `full` queues and memory have room.
   */
  protected settled(sync: boolean, full: readonly Queue[]): MaybePromise<void> {
    if (this.memoryLimit > 0 && this.bytes > this.memoryLimit) this.shed();
    const durable = sync ? this.store!.sync() : undefined;
    if (full.length === 0 && !this.memoryFull) return durable;
    this.metrics.producerPaused();
    const room = this.room(full);
    return durable === undefined ? room : Promise.all([durable, room]).then(() => undefined);
  }

  private async room(full: readonly Queue[]): Promise<void> {
    for (const q of full) {
      while (q.full && !q.deleted) await q.room();
    }
    while (this.memoryFull) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  // ---- waiting bytes ----

  private addWaiting(queue: Queue, size: number): void {
    queue.addWaiting(size);
    if (queue.droppable) this.droppableBytes += size;
  }

  private subWaiting(queue: Queue, size: number): void {
    queue.subWaiting(size);
    if (queue.droppable) this.droppableBytes -= size;
  }

  /** Take `queue` off the list of backlogs to shed (emptied, or being deleted). */
  protected unlist(queue: Queue): void {
    this.backlogs.delete(queue);
  }

  /**
   * Memory is over the limit: drop the oldest waiting messages of slow non-durable topic
   * subscriptions until it is not (or they hold none).
   */
  private shed(): void {
    for (const queue of this.backlogs) {
      while (this.bytes > this.memoryLimit && queue.waitingBytes > 0) {
        const oldest = queue.ready.shift();
        if (oldest === undefined) break;
        this.drop(queue, oldest);
      }
      if (queue.waitingBytes === 0 || queue.ready.length === 0) this.unlist(queue);
      if (this.bytes <= this.memoryLimit) return;
    }
  }

  /** Drop a waiting entry (taken off `queue`): expired, shed, or beyond the queue's bounds. */
  private drop(queue: Queue, entry: Entry): void {
    if (entry.message !== undefined) this.subWaiting(queue, entry.message.size);
    this.metrics.messageDropped();
    queue.counters.messageDropped();
    this.consume(entry);
  }

  // ---- enqueue and page ----

  /** Add `message` to `queue`; true when it was written to the store. */
  protected enqueue(queue: Queue, message: Message): boolean {
    const size = message.size;
    if (queue.droppable) {
      // A slow consumer's backlog: the oldest make room (a queue that drops is never paged).
      while (
        (queue.maxPending > 0 && queue.ready.length >= queue.maxPending) ||
        (queue.maxBytes > 0 && queue.waitingBytes + size > queue.maxBytes)
      ) {
        const oldest = queue.ready.shift();
        if (oldest === undefined) break;
        this.drop(queue, oldest);
      }
    }
    const seq = ++this.seq;
    const stored = message.persistent && queue.storeKey !== undefined;
    if (stored) this.store!.enqueue(queue.storeKey, seq, message);
    this.count++;
    this.metrics.messageEnqueued();
    const priority = message.priority;
    if (stored && this.pageable(queue, size) && queue.ready.hasPaged(priority)) {
      // Memory is busy and older messages of its level are on disk: it joins them, as a seq.
      queue.ready.pushPaged(seq, priority, message.expires, 0);
      this.dispatch(queue);
      return true;
    }
    const entry: Entry = {
      message,
      seq,
      deliveries: 0,
      priority,
      expires: message.expires,
      stored,
    };
    queue.ready.push(entry);
    this.bytes += size;
    this.addWaiting(queue, size);
    this.dispatch(queue);
    // Not delivered at once and memory is busy: keep only the stored copy.
    if (
      stored &&
      entry.deliveries === 0 &&
      entry.message !== undefined &&
      this.pageable(queue, 0) &&
      queue.ready.pageOut(entry)
    ) {
      entry.message = undefined;
      this.bytes -= size;
      this.subWaiting(queue, size);
      this.wake();
    }
    if (entry.message !== undefined) {
      // Kept (queued, or delivered and not yet acknowledged): hold only the body's own bytes.
      message.own();
      if (queue.droppable && queue.waitingBytes > 0) this.backlogs.add(queue);
    }
    return stored;
  }

  /** True when a stored message of `queue` should be kept on disk only (`extra` more bytes). */
  private pageable(queue: Queue, extra: number): boolean {
    return (
      this.bytes + extra > this.pageOutBytes ||
      (queue.maxBytes > 0 && queue.waitingBytes + extra >= queue.maxBytes)
    );
  }

  /**
   * The head of `queue` when its next message is paged out: read up to {@link PAGE_IN} of its
   * level back in (dropping expired ones unread). Undefined when `queue` is empty.
   */
  private pageIn(queue: Queue): Entry | undefined {
    const loading: Entry[] = [];
    const seqs: number[] = [];
    const now = this.now();
    const unpack = (
      seq: number,
      priority: number,
      expires: number,
      deliveries: number,
    ): Entry | undefined => {
      if (expires > 0 && expires <= now) {
        this.metrics.messageDropped();
        queue.counters.messageDropped();
        this.store!.remove(seq);
        this.count--;
        this.wake();
        return undefined;
      }
      const entry: Entry = { message: undefined, seq, deliveries, priority, expires, stored: true };
      loading.push(entry);
      seqs.push(seq);
      return entry;
    };
    for (;;) {
      const head = queue.ready.peek();
      if (head !== undefined) return head;
      if (!queue.ready.pageIn(PAGE_IN, unpack)) return undefined;
      if (seqs.length === 0) continue;
      const loaded = this.store!.load(seqs);
      for (let i = 0; i < loading.length; i++) {
        const m = loaded[i];
        // Unreadable (reported by the store): dispatch drops it when it reaches the head.
        if (m === undefined) continue;
        // It stays queued: hold only its own bytes, not the store's read buffer.
        m.own();
        loading[i]!.message = m;
        this.bytes += m.size;
        this.addWaiting(queue, m.size);
      }
      loading.length = 0;
      seqs.length = 0;
    }
  }

  // ---- dispatch ----

  /** @internal Deliver what `queue` holds to its ready consumers, round-robin. */
  dispatch(queue: Queue): void {
    if (!queue.beginDispatch()) return;
    try {
      // A delivery may re-enter dispatch(), which asks for another round.
      do this.dispatchOnce(queue);
      while (queue.anotherRound());
    } finally {
      queue.endDispatch();
    }
  }

  private dispatchOnce(queue: Queue): void {
    for (;;) {
      if (queue.consumers.length === 0) return;
      let entry = queue.peekNext();
      if (entry === undefined) {
        // Empty, or its next message is paged out (nothing requeued: that would be next).
        if (queue.ready.length === 0) return;
        entry = this.pageIn(queue);
        if (entry === undefined) return;
      }
      const message = entry.message;
      // Expired, or unreadable (reported by the store): dropped rather than blocking the queue.
      if (message === undefined || (entry.expires > 0 && entry.expires <= this.now())) {
        queue.shiftNext();
        this.drop(queue, entry);
        continue;
      }
      const target = queue.pick(message);
      if (target === undefined) return;
      queue.shiftNext();
      this.subWaiting(queue, message.size);
      const deliveries = ++entry.deliveries;
      const counters = queue.counters;
      counters.messageDelivered(deliveries);
      if (target.autoAck) {
        counters.messageAcked();
        this.settle(queue, entry);
        target.consumer.deliver(new AutoDelivery(message, this.idPrefix, entry.seq, deliveries));
      } else {
        const d = new Unacked(entry, message, this.idPrefix, deliveries);
        target.add(d);
        target.consumer.deliver(d);
      }
    }
  }

  // ---- settling ----

  /** @internal A delivery was consumed. */
  settle(_queue: Queue, entry: Entry): void {
    this.metrics.messageAcked();
    this.consume(entry);
  }

  /** @internal A delivery was NACKed: requeue it, or dead-letter it. True when stored. */
  reject(queue: Queue, entry: Entry, requeue: boolean): boolean {
    this.metrics.messageNacked();
    if (requeue) {
      this.requeue(queue, entry);
      return false;
    }
    return this.deadLetter(queue, entry);
  }

  /** A message is gone for good: release it and record its removal in the store. */
  protected consume(entry: Entry): void {
    if (entry.stored) this.store!.remove(entry.seq);
    this.release(entry);
  }

  /** A message is gone with its queue (whose deletion the store records): release it. */
  private discard(entry: Entry): void {
    if (entry.stored) this.store!.forget(entry.seq);
    this.release(entry);
  }

  /** Put a delivery back, or dead-letter it once it reached the delivery limit. */
  protected requeue(queue: Queue, entry: Entry): void {
    if (queue.deleted) {
      this.discard(entry);
      return;
    }
    if (this.maxDeliveries > 0 && entry.deliveries >= this.maxDeliveries) {
      this.deadLetter(queue, entry);
      return;
    }
    this.metrics.messageRequeued();
    queue.requeue(entry);
    if (entry.message !== undefined) this.addWaiting(queue, entry.message.size);
  }

  /**
   * Empty `queue` of its waiting messages: `remove` consumes them (the store records each
   * removal), `forget` drops them with their queue (the store records the queue's deletion),
   * `release` only lets go of memory (the engine closes; the store keeps them).
   */
  protected empty(queue: Queue, letting: Letting): void {
    const onEntry = (entry: Entry): void => {
      if (entry.message !== undefined) this.subWaiting(queue, entry.message.size);
      if (letting === 'remove') this.consume(entry);
      else if (letting === 'forget') this.discard(entry);
      else this.release(entry);
    };
    queue.ready.drain(onEntry, (seq) => {
      if (letting === 'remove') this.store!.remove(seq);
      else if (letting === 'forget') this.store!.forget(seq);
      this.count--;
    });
    for (const entry of queue.takeRequeued()) onEntry(entry);
    this.wake();
    queue.wakeProducers();
  }

  private release(entry: Entry): void {
    if (entry.message !== undefined) {
      this.bytes -= entry.message.size;
      entry.message = undefined;
    }
    this.count--;
    this.wake();
  }

  private wake(): void {
    if (this.waiters.length > 0 && !this.memoryFull) {
      const waiters = this.waiters;
      this.waiters = [];
      queueMicrotask(() => {
        for (const w of waiters) w();
      });
    }
  }

  /** Let every waiting producer go (the engine closes). */
  protected closeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
