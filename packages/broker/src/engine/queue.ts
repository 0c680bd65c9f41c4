// A queue of the local engine and the consumers attached to it. Every destination a consumer reads
// from is a Queue: a `/queue/` is one shared by its competing consumers (round-robin); a topic
// subscription is a Queue of its own that the topic fans messages out to; a temporary queue
// belongs to its session. Acknowledgment, prefetch and redelivery thus work the same everywhere.
import type { TopicPattern } from '../destination.js';
import type { Consumer, ConsumerHandle, Delivery, MaybePromise } from '../engine.js';
import type { Message } from '../message.js';
import type { Counters } from './counters.js';
import type { Entry } from './entry.js';
import { ReadyQueue } from './ready-queue.js';

/** What a queue is. */
export const QueueKind = { QUEUE: 0, TEMP: 1, TOPIC_SUB: 2 } as const;
/** A queue kind. */
export type QueueKind = (typeof QueueKind)[keyof typeof QueueKind];

/** The durable subscription a topic subscription queue is, if it is one. */
export interface DurableName {
  readonly clientId: string;
  readonly name: string;
}

/** The messages of one destination (or one topic subscription) and its consumers. */
export class Queue {
  readonly ready = new ReadyQueue();
  /** Requeued entries, ordered by publication: delivered before anything in `ready`. */
  readonly redeliver: Entry[] = [];
  /** Attached consumers (replaced, not grown, when the first attaches: see LocalEngine.subscribe). */
  consumers: Attached[] = [];
  rr = 0;
  dispatching = false;
  again = false;
  deleted = false;
  /**
   * Kept while empty and unused, until deleted: created by an operator (Engine.createDestination),
   * or, with a store, by use (see Topology.namedQueue).
   */
  declared = false;
  /** For topic subscriptions: the topic name or pattern, and its compiled pattern if wildcard. */
  topic = '';
  pattern: TopicPattern | undefined;
  /** For durable subscriptions. */
  durable: DurableName | undefined;
  durableKey: string | undefined;
  /** The store's key, for queues whose persistent messages are stored. */
  storeKey: string | undefined;
  /** Bytes of the waiting messages (ready and redeliver) held in memory. */
  waitingBytes = 0;
  /** Producers pushed back until the queue has room again (see `maxBytes`). */
  waiters: (() => void)[] | undefined = undefined;
  /** Listed among the engine's droppable backlogs (see LocalEngine.shed). */
  backlogged = false;

  constructor(
    /** The virtual host's name. */
    readonly vhost: string,
    readonly key: string,
    readonly kind: QueueKind,
    /** The destination's traffic counters. */
    readonly counters: Counters,
    /**
     * True for a non-durable topic subscription: beyond `maxPending` messages or `maxBytes`
     * waiting, its oldest are dropped. Otherwise producers are pushed back beyond `maxBytes`.
     */
    readonly droppable: boolean,
    /** Most waiting messages of a droppable queue; 0 = no bound. */
    readonly maxPending: number,
    /** Most bytes of waiting messages held in memory; 0 = no bound. */
    readonly maxBytes: number,
  ) {}

  get idle(): boolean {
    return this.consumers.length === 0 && this.ready.length === 0 && this.redeliver.length === 0;
  }

  /** Idle, and nothing keeps it: a named queue is then only a name, and is forgotten. */
  get disposable(): boolean {
    return this.idle && !this.declared;
  }

  /** Messages waiting (paged-out ones included). */
  get depth(): number {
    return this.ready.length + this.redeliver.length;
  }

  /** Deliveries not yet settled. */
  get unacked(): number {
    let n = 0;
    for (const c of this.consumers) n += c.unacked;
    return n;
  }

  /** True while producers should wait before adding to it. */
  get full(): boolean {
    return !this.droppable && this.maxBytes > 0 && this.waitingBytes >= this.maxBytes;
  }
}

/** What a consumer handle asks of its engine. */
export interface QueueHost {
  /** A delivery was acknowledged (or taken in auto mode): the message is consumed. */
  settle(queue: Queue, entry: Entry): void;
  /** A delivery was rejected: requeue it, or dead-letter it (`requeue` false, or too many deliveries). */
  reject(queue: Queue, entry: Entry, requeue: boolean): boolean;
  /** Deliver what `queue` holds to its ready consumers. */
  dispatch(queue: Queue): void;
  /** A consumer detached: requeue its deliveries, clean up what nobody needs. */
  detach(consumer: Attached): void;
  /** Resolves when every stored change so far is durable. */
  durable(): Promise<void>;
}

/** A delivery settled at once (`ack:auto`). */
export class AutoDelivery implements Delivery {
  constructor(
    readonly message: Message,
    readonly idPrefix: string,
    readonly ackKey: number,
    readonly deliveryCount: number,
  ) {}

  get messageId(): string {
    return this.idPrefix + String(this.ackKey);
  }
}

/**
 * A delivery awaiting its ACK, and a link in its consumer's list of those (oldest first). Its ack
 * key is its entry's seq: unique per stored copy, and the same on every redelivery.
 */
export class Unacked implements Delivery {
  prev: Unacked | undefined = undefined;
  next: Unacked | undefined = undefined;
  readonly ackKey: number;

  constructor(
    readonly entry: Entry,
    readonly message: Message,
    readonly idPrefix: string,
    readonly deliveryCount: number,
  ) {
    this.ackKey = entry.seq;
  }

  get messageId(): string {
    return this.idPrefix + String(this.ackKey);
  }
}

/** A consumer attached to a queue: the engine side of a subscription. */
export class Attached implements ConsumerHandle {
  // Unacknowledged deliveries, oldest first. A list rather than a Map: no hashing, and no table
  // rebuilt every few hundred deliveries as ACKs delete what deliveries add.
  private head: Unacked | undefined = undefined;
  private tail: Unacked | undefined = undefined;
  #unacked = 0;
  #closed = false;

  constructor(
    readonly host: QueueHost,
    readonly queue: Queue,
    readonly consumer: Consumer,
    readonly autoAck: boolean,
  ) {}

  /** Deliveries in the list. */
  get unacked(): number {
    return this.#unacked;
  }

  /** True once closed by its subscription or cut off by the engine. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Add a delivery at the tail. */
  add(d: Unacked): void {
    const tail = this.tail;
    d.prev = tail;
    if (tail === undefined) this.head = d;
    else tail.next = d;
    this.tail = d;
    this.#unacked++;
  }

  /**
   * Remove the delivery `ackKey` and return its entry. ACKs mostly come in delivery order (found
   * at the head at once); the search walks in from both ends, so one near either end is quick.
   */
  take(ackKey: number): Entry | undefined {
    let a = this.head;
    let b = this.tail;
    let d: Unacked | undefined;
    while (a !== undefined && b !== undefined) {
      if (a.ackKey === ackKey) {
        d = a;
        break;
      }
      if (b.ackKey === ackKey) {
        d = b;
        break;
      }
      if (a === b || a.next === b) return undefined;
      a = a.next;
      b = b.prev;
    }
    if (d === undefined) return undefined;
    const { prev, next } = d;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    d.prev = undefined;
    d.next = undefined;
    this.#unacked--;
    return d.entry;
  }

  /** Remove every unacknowledged delivery; their entries, oldest first. */
  takeAll(): Entry[] {
    const entries: Entry[] = [];
    for (let d = this.head; d !== undefined;) {
      const next = d.next;
      entries.push(d.entry);
      d.prev = undefined;
      d.next = undefined;
      d = next;
    }
    this.head = undefined;
    this.tail = undefined;
    this.#unacked = 0;
    return entries;
  }

  /**
   * The engine detaches this consumer on its own initiative (its queue is deleted): closed, and
   * every unacknowledged delivery's entry handed back, oldest first.
   */
  cut(): Entry[] {
    this.#closed = true;
    return this.takeAll();
  }

  ack(ackKey: number, awaitDurable = true): MaybePromise<void> {
    const entry = this.take(ackKey);
    if (entry === undefined) return;
    this.queue.counters.messageAcked();
    this.host.settle(this.queue, entry);
    return awaitDurable && entry.stored ? this.host.durable() : undefined;
  }

  nack(ackKey: number, requeue: boolean, awaitDurable = true): MaybePromise<void> {
    const entry = this.take(ackKey);
    if (entry === undefined) return;
    this.queue.counters.messageNacked();
    const stored = this.host.reject(this.queue, entry, requeue && !this.#closed);
    this.host.dispatch(this.queue);
    return awaitDurable && stored ? this.host.durable() : undefined;
  }

  resume(): void {
    if (!this.#closed) this.host.dispatch(this.queue);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.host.detach(this);
  }
}
