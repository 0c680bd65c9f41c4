// A queue of the local engine and the consumers attached to it. Every destination a consumer reads
// from is a Queue: a `/queue/` is one shared by its competing consumers (round-robin); a topic
// subscription is a Queue of its own that the topic fans messages out to; a temporary queue
// belongs to its session. Acknowledgment, prefetch and redelivery thus work the same everywhere.
import { TopicPattern, isWildcard } from '../destination.js';
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

/** What a {@link Queue} is made of; fixed for its life. */
export type QueueSpec = Pick<
  Queue,
  'vhost' | 'key' | 'kind' | 'counters' | 'droppable' | 'maxPending' | 'maxBytes'
> & {
  /** For topic subscriptions: the topic name or pattern. */
  readonly topic?: string;
  readonly durable?: DurableName | undefined;
  readonly storeKey?: string | undefined;
};

/** The key of the durable subscription `name` of `clientId` (see VHost.durables). */
export function durableKey(clientId: string, name: string): string {
  return `${clientId}\0${name}`;
}

/**
 * The messages of one destination (or one topic subscription), its consumers, and the state of
 * its delivery: whose turn it is, whether a dispatch is running, the bytes waiting and the
 * producers waiting for room, and whether it is kept or deleted. Every change to that state is a
 * named method here; the message flow (flow.ts) and the topology (topology.ts) call them.
 */
export class Queue {
  readonly ready = new ReadyQueue();
  /** The virtual host's name. */
  readonly vhost: string;
  readonly key: string;
  readonly kind: QueueKind;
  /** The destination's traffic counters. */
  readonly counters: Counters;
  /**
   * True for a non-durable topic subscription: beyond `maxPending` messages or `maxBytes`
   * waiting, its oldest are dropped. Otherwise producers are pushed back beyond `maxBytes`.
   */
  readonly droppable: boolean;
  /** Most waiting messages of a droppable queue; 0 = no bound. */
  readonly maxPending: number;
  /** Most bytes of waiting messages held in memory; 0 = no bound. */
  readonly maxBytes: number;
  /** For topic subscriptions: the topic name or pattern ('' otherwise). */
  readonly topic: string;
  /** The compiled pattern of a wildcard topic subscription. */
  readonly pattern: TopicPattern | undefined;
  /** For durable subscriptions. */
  readonly durable: DurableName | undefined;
  /** {@link durableKey} of a durable subscription. */
  readonly durableKey: string | undefined;
  /** The store's key, for queues whose persistent messages are stored. */
  readonly storeKey: string | undefined;
  /** Requeued entries, ordered by publication: delivered before anything in `ready`. */
  #requeued: Entry[] = [];
  /** Replaced, not grown, when the first attaches (see attach). */
  #consumers: Attached[] = [];
  /** The consumer whose turn is next (round-robin). */
  #turn = 0;
  #dispatching = false;
  #again = false;
  #waitingBytes = 0;
  /** Producers pushed back until the queue has room again (see `maxBytes`). */
  #producers: (() => void)[] | undefined = undefined;
  #declared = false;
  #deleted = false;

  constructor(spec: QueueSpec) {
    this.vhost = spec.vhost;
    this.key = spec.key;
    this.kind = spec.kind;
    this.counters = spec.counters;
    this.droppable = spec.droppable;
    this.maxPending = spec.maxPending;
    this.maxBytes = spec.maxBytes;
    this.topic = spec.topic ?? '';
    this.pattern =
      spec.topic !== undefined && isWildcard(spec.topic) ? new TopicPattern(spec.topic) : undefined;
    this.durable =
      spec.durable === undefined
        ? undefined
        : { clientId: spec.durable.clientId, name: spec.durable.name };
    this.durableKey =
      spec.durable === undefined ? undefined : durableKey(spec.durable.clientId, spec.durable.name);
    this.storeKey = spec.storeKey;
  }

  // ---- what it is ----

  /** Attached consumers, in turn order. */
  get consumers(): readonly Attached[] {
    return this.#consumers;
  }

  /** Requeued entries waiting, oldest first (delivered before `ready`). */
  get requeued(): readonly Entry[] {
    return this.#requeued;
  }

  /**
   * Kept while empty and unused, until deleted: created by an operator (Engine.createDestination),
   * or, with a store, by use (see Topology.namedQueue).
   */
  get declared(): boolean {
    return this.#declared;
  }

  /** True once removed from its virtual host: requeued deliveries are dropped, producers go on. */
  get deleted(): boolean {
    return this.#deleted;
  }

  get idle(): boolean {
    return this.#consumers.length === 0 && this.ready.length === 0 && this.#requeued.length === 0;
  }

  /** Idle, and nothing keeps it: a named queue is then only a name, and is forgotten. */
  get disposable(): boolean {
    return this.idle && !this.#declared;
  }

  /** Messages waiting (paged-out ones included). */
  get depth(): number {
    return this.ready.length + this.#requeued.length;
  }

  /** Deliveries not yet settled. */
  get unacked(): number {
    let n = 0;
    for (const c of this.#consumers) n += c.unacked;
    return n;
  }

  /** Bytes of the waiting messages (ready and requeued) held in memory. */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** True while producers should wait before adding to it. */
  get full(): boolean {
    return !this.droppable && this.maxBytes > 0 && this.#waitingBytes >= this.maxBytes;
  }

  // ---- what happens to it ----

  /** Keep it while empty and unused, until deleted. */
  declare(): void {
    this.#declared = true;
  }

  /** It is removed from its virtual host: its producers waiting for room go on. */
  markDeleted(): void {
    this.#deleted = true;
    this.wakeProducers();
  }

  /** A consumer attaches; its turn comes after the others'. */
  attach(consumer: Attached): void {
    // The first consumer gets an array of its own size: a push on an empty one reserves room
    // for 17 (≈ 150 B per idle queue with one subscriber).
    if (this.#consumers.length === 0) this.#consumers = [consumer];
    else this.#consumers.push(consumer);
  }

  /** A consumer detaches; the turns go on round the others. */
  detach(consumer: Attached): void {
    const i = this.#consumers.indexOf(consumer);
    if (i >= 0) this.#consumers.splice(i, 1);
    if (this.#turn >= this.#consumers.length) this.#turn = 0;
  }

  /** The next consumer in turn ready for `message`, whose turn is then taken; or undefined. */
  pick(message: Message): Attached | undefined {
    const consumers = this.#consumers;
    const n = consumers.length;
    const turn = this.#turn;
    for (let i = 0; i < n; i++) {
      const c = consumers[(turn + i) % n]!;
      if (c.consumer.ready(message)) {
        this.#turn = (turn + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  /**
   * A dispatch of this queue starts: true when the caller is to run it; false when one is
   * running already (a delivery re-entered), which is then asked for one more round.
   */
  beginDispatch(): boolean {
    if (this.#dispatching) {
      this.#again = true;
      return false;
    }
    this.#dispatching = true;
    this.#again = false;
    return true;
  }

  /** After a round of dispatch: true (once) when a re-entry asked for another. */
  anotherRound(): boolean {
    const again = this.#again;
    this.#again = false;
    return again;
  }

  /** The running dispatch ended. */
  endDispatch(): void {
    this.#dispatching = false;
  }

  /** The entry to deliver next: a requeued one, else the ready head (undefined if paged out). */
  peekNext(): Entry | undefined {
    return this.#requeued.length > 0 ? this.#requeued[0] : this.ready.peek();
  }

  /** Take off the entry {@link peekNext} returned. */
  shiftNext(): void {
    if (this.#requeued.length > 0) this.#requeued.shift();
    else this.ready.shift();
  }

  /** Put a delivery back among the requeued, in publication order. */
  requeue(entry: Entry): void {
    const list = this.#requeued;
    let i = list.length;
    while (i > 0 && list[i - 1]!.seq > entry.seq) i--;
    list.splice(i, 0, entry);
  }

  /** Take every requeued entry, oldest first. */
  takeRequeued(): Entry[] {
    return this.#requeued.splice(0);
  }

  /** `size` more bytes of messages wait in memory. */
  addWaiting(size: number): void {
    this.#waitingBytes += size;
  }

  /** `size` fewer bytes of messages wait in memory: producers go on once there is room. */
  subWaiting(size: number): void {
    this.#waitingBytes -= size;
    if (this.#producers !== undefined && !this.full) this.wakeProducers();
  }

  /** Resolves when the queue may have room again (or is deleted); the caller checks again. */
  room(): Promise<void> {
    return new Promise<void>((resolve) => (this.#producers ??= []).push(resolve));
  }

  /** Let the producers waiting for room go on. */
  wakeProducers(): void {
    const producers = this.#producers;
    if (producers === undefined) return;
    this.#producers = undefined;
    for (const w of producers) w();
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
