// The engine: named queues, topic subscriptions (exact and wildcard), temporary queues and
// durable subscriptions, with redelivery ordering, priorities, expiry, dead-lettering and a memory
// limit. Without a store it keeps everything in memory; with one (see store/store.ts), persistent
// messages of named queues and durable subscriptions are written to it before their publication
// settles, their removal is recorded when they are consumed, and beyond `pageOutBytes` of message
// data held only their seq stays in memory, packed (engine/paged-run.ts): they are read back
// (paged in) as they reach the head of their queue.
//
// Every destination a consumer reads from is a StoreQueue: a `/queue/` is one shared by its
// competing consumers (round-robin); a topic subscription is a StoreQueue of its own that the
// topic fans messages out to. Acknowledgment, prefetch and redelivery thus work the same way
// everywhere.
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { SeqDelivery } from '../delivery.js';
import { DestinationKind, TopicPattern, isWildcard, parseDestination } from '../destination.js';
import type {
  Consumer,
  ConsumerHandle,
  Engine,
  EngineStats,
  MaybePromise,
  SubscribeRequest,
} from '../engine.js';
import type { Message } from '../message.js';
import { Metrics } from '../metrics.js';
import { type Store, queueKey } from '../store/store.js';
import type { Entry } from './entry.js';
import { ReadyQueue } from './ready-queue.js';

/** Options of {@link MemoryEngine}. */
export interface MemoryEngineOptions {
  /** Bytes of message data above which {@link Engine.memoryFull} is true. 0 = no limit. */
  readonly memoryLimit?: number;
  /** Deliveries after which a message is dead-lettered instead of requeued. 0 = never. */
  readonly maxDeliveries?: number;
  /**
   * Messages a non-durable topic subscription may hold for a slow consumer; beyond it the
   * oldest are dropped, so one slow subscriber neither blocks producers nor grows memory.
   * 0 = no limit.
   */
  readonly maxTopicPending?: number;
  /** Counters to increment (the broker passes its own). */
  readonly metrics?: Metrics;
  /**
   * Durable storage for persistent messages. The engine recovers what it holds when constructed
   * and closes it in {@link Engine.close}.
   */
  readonly store?: Store;
  /** With a store: treat every message as persistent. Default false. */
  readonly persistAll?: boolean;
  /**
   * With a store: bytes of message data held in memory beyond which new persistent messages are
   * kept on disk only, and read back as consumers reach them. Default half the memory limit, or
   * 64 MiB without one.
   */
  readonly pageOutBytes?: number;
}

/** Entries read from the store at once when a queue reaches a paged-out message. */
const PAGE_IN = 256;

class VHost {
  constructor(readonly name: string) {}

  readonly queues = new Map<string, StoreQueue>();
  readonly topicExact = new Map<string, Set<StoreQueue>>();
  readonly topicWild = new Set<StoreQueue>();
  readonly routeCache = new Map<string, StoreQueue[]>();
  readonly durables = new Map<string, StoreQueue>();
  readonly temps = new Map<string, Set<string>>();
}

const QueueKind = { QUEUE: 0, TEMP: 1, TOPIC_SUB: 2 } as const;
type QueueKind = (typeof QueueKind)[keyof typeof QueueKind];

class StoreQueue {
  readonly ready = new ReadyQueue();
  /** Requeued entries, ordered by publication: delivered before anything in `ready`. */
  readonly redeliver: Entry[] = [];
  readonly consumers: Attached[] = [];
  rr = 0;
  dispatching = false;
  again = false;
  deleted = false;
  /** For topic subscriptions: the topic name or pattern, and its compiled pattern if wildcard. */
  topic = '';
  pattern: TopicPattern | undefined;
  durableKey: string | undefined;
  /** The store's key, for queues whose persistent messages are stored. */
  storeKey: string | undefined;

  constructor(
    readonly vh: VHost,
    readonly key: string,
    readonly kind: QueueKind,
    readonly maxPending: number,
  ) {}

  get idle(): boolean {
    return this.consumers.length === 0 && this.ready.length === 0 && this.redeliver.length === 0;
  }
}

/**
 * A delivery awaiting its ACK, and a link in its consumer's list of those. Tags grow with every
 * delivery, so the list (appended at the tail) is ordered by tag.
 */
class Unacked extends SeqDelivery {
  prev: Unacked | undefined = undefined;
  next: Unacked | undefined = undefined;

  constructor(
    readonly entry: Entry,
    message: Message,
    idPrefix: string,
    deliveryCount: number,
    tag: number,
  ) {
    super(message, idPrefix, entry.seq, deliveryCount, tag);
  }
}

class Attached implements ConsumerHandle {
  // Unacknowledged deliveries, oldest first. A list rather than a Map: no hashing, and no table
  // rebuilt every few hundred deliveries as ACKs delete what deliveries add.
  private head: Unacked | undefined = undefined;
  private tail: Unacked | undefined = undefined;
  closed = false;

  constructor(
    readonly engine: MemoryEngine,
    readonly vhost: VHost,
    readonly queue: StoreQueue,
    readonly consumer: Consumer,
    readonly autoAck: boolean,
  ) {}

  /** @internal Add a delivery (its tag is above every tag in the list). */
  add(d: Unacked): void {
    const tail = this.tail;
    d.prev = tail;
    if (tail === undefined) this.head = d;
    else tail.next = d;
    this.tail = d;
  }

  /**
   * Remove the delivery `tag` and return its entry. ACKs mostly come in delivery order (found at
   * the head at once); the search starts from the nearer end.
   */
  private take(tag: number): Entry | undefined {
    const head = this.head;
    const tail = this.tail;
    if (head === undefined || tail === undefined || tag < head.tag || tag > tail.tag) {
      return undefined;
    }
    let d: Unacked | undefined;
    if (tag - head.tag <= tail.tag - tag) {
      d = head;
      while (d !== undefined && d.tag < tag) d = d.next;
    } else {
      d = tail;
      while (d !== undefined && d.tag > tag) d = d.prev;
    }
    if (d?.tag !== tag) return undefined;
    const { prev, next } = d;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    d.prev = undefined;
    d.next = undefined;
    return d.entry;
  }

  /** @internal Remove every unacknowledged delivery; their entries, oldest first. */
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
    return entries;
  }

  ack(tag: number, awaitDurable = true): MaybePromise<void> {
    const entry = this.take(tag);
    if (entry === undefined) return;
    this.engine.settle(entry);
    return awaitDurable && entry.stored ? this.engine.durable() : undefined;
  }

  nack(tag: number, requeue: boolean, awaitDurable = true): MaybePromise<void> {
    const entry = this.take(tag);
    if (entry === undefined) return;
    this.engine.metrics.messagesNacked++;
    let stored = false;
    if (requeue && !this.closed) this.engine.requeue(this.queue, entry);
    else stored = this.engine.deadLetter(this.vhost, entry);
    this.engine.dispatch(this.queue);
    return awaitDurable && stored ? this.engine.durable() : undefined;
  }

  resume(): void {
    if (!this.closed) this.engine.dispatch(this.queue);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine.detach(this.vhost, this);
  }
}

/**
 * The {@link Engine}: in memory, and with a {@link MemoryEngineOptions.store} durable for
 * persistent messages.
 */
export class MemoryEngine implements Engine {
  /** @internal */
  readonly metrics: Metrics;
  private readonly memoryLimit: number;
  private readonly maxDeliveries: number;
  private readonly maxTopicPending: number;
  private readonly vhosts = new Map<string, VHost>();
  private readonly store: Store | undefined;
  private readonly persistAll: boolean;
  private readonly pageOutBytes: number;
  private readonly idPrefix: string;
  private seq = 0;
  private tagSeq = 0;
  private bytes = 0;
  private count = 0;
  private waiters: (() => void)[] = [];

  constructor(options: MemoryEngineOptions = {}) {
    this.metrics = options.metrics ?? new Metrics();
    this.memoryLimit = options.memoryLimit ?? 0;
    this.maxDeliveries = options.maxDeliveries ?? 0;
    this.maxTopicPending = options.maxTopicPending ?? 0;
    this.store = options.store;
    this.persistAll = options.persistAll ?? false;
    this.pageOutBytes =
      options.pageOutBytes ??
      (this.memoryLimit > 0 ? Math.floor(this.memoryLimit / 2) : 64 * 1024 * 1024);
    this.idPrefix =
      this.store === undefined
        ? `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`
        : `${this.store.id}-`;
    if (this.store !== undefined) this.recover(this.store);
  }

  /** Rebuild queues and durable subscriptions from the store; every message counts as delivered once. */
  private recover(store: Store): void {
    const recovery = store.recover();
    this.seq = Math.max(this.seq, recovery.maxSeq);
    for (const q of recovery.queues) {
      const vh = this.vhost(q.vhost);
      let queue: StoreQueue;
      if (q.destination !== undefined) {
        queue = this.namedQueue(vh, q.destination);
      } else {
        const d = q.durable!;
        queue = this.topicSubscription(vh, d.topic, { clientId: d.clientId, name: d.name }, q.key);
      }
      // Packed as they come: no object per message until it is paged in.
      const { seqs, priorities, expires } = q.messages;
      for (let i = 0; i < q.messages.length; i++) {
        queue.ready.pushPaged(seqs[i]!, priorities[i]!, expires[i]!, 1);
      }
      this.count += q.messages.length;
    }
  }

  /** @internal Resolves when every stored change so far is durable. */
  durable(): Promise<void> {
    return this.store!.sync();
  }

  flush(): MaybePromise<void> {
    return this.store === undefined ? undefined : this.store.sync();
  }

  get memoryFull(): boolean {
    return this.memoryLimit > 0 && this.bytes >= this.memoryLimit;
  }

  onMemoryAvailable(callback: () => void): void {
    if (!this.memoryFull) queueMicrotask(callback);
    else this.waiters.push(callback);
  }

  stats(): EngineStats {
    let queues = 0;
    for (const vh of this.vhosts.values()) queues += vh.queues.size;
    return { memoryBytes: this.bytes, messages: this.count, queues };
  }

  publish(
    vhost: string,
    sessionId: string,
    message: Message,
    awaitDurable = true,
  ): MaybePromise<void> {
    const vh = this.vhost(vhost);
    const dest = parseDestination(message.destination);
    if (this.persistAll && this.store !== undefined) message = message.asPersistent();
    if (message.expires > 0 && message.expires <= Date.now()) {
      this.metrics.messagesDropped++;
      return;
    }
    let stored = false;
    switch (dest.kind) {
      case DestinationKind.QUEUE:
        stored = this.enqueue(this.namedQueue(vh, message.destination), message);
        break;
      case DestinationKind.TEMP_QUEUE:
        this.enqueue(this.tempQueue(vh, sessionId, dest.name), message);
        break;
      case DestinationKind.REPLY_QUEUE: {
        const queue = vh.queues.get(`temp:${dest.name}`);
        if (queue === undefined) this.metrics.messagesDropped++;
        else this.enqueue(queue, message);
        break;
      }
      case DestinationKind.TOPIC:
        for (const sub of this.route(vh, dest.name)) {
          if (this.enqueue(sub, message)) stored = true;
        }
        break;
    }
    return stored && awaitDurable ? this.store!.sync() : undefined;
  }

  subscribe(request: SubscribeRequest, consumer: Consumer): MaybePromise<ConsumerHandle> {
    const vh = this.vhost(request.vhost);
    const dest = parseDestination(request.destination);
    let queue: StoreQueue;
    switch (dest.kind) {
      case DestinationKind.QUEUE:
        queue = this.namedQueue(vh, request.destination);
        break;
      case DestinationKind.TEMP_QUEUE:
        queue = this.tempQueue(vh, request.sessionId, dest.name);
        break;
      case DestinationKind.REPLY_QUEUE: {
        const owner = dest.name.slice(0, dest.name.indexOf('/'));
        const found = vh.queues.get(`temp:${dest.name}`);
        if (owner !== request.sessionId || found === undefined) {
          throw new StompProtocolError(
            ErrorCode.FORBIDDEN,
            `${request.destination} is another session's temporary queue`,
            { header: 'destination' },
          );
        }
        queue = found;
        break;
      }
      case DestinationKind.TOPIC:
        queue = this.topicSubscription(vh, dest.name, request.durable);
        break;
    }
    const attached = new Attached(this, vh, queue, consumer, request.autoAck);
    queue.consumers.push(attached);
    this.dispatch(queue);
    if (queue.storeKey !== undefined && queue.durableKey !== undefined) {
      return this.store!.sync().then(() => attached);
    }
    return attached;
  }

  unsubscribeDurable(vhost: string, clientId: string, name: string): MaybePromise<boolean> {
    const vh = this.vhost(vhost);
    const queue = vh.durables.get(`${clientId}\0${name}`);
    if (queue === undefined) return false;
    if (queue.consumers.length > 0) {
      throw new StompProtocolError(
        ErrorCode.INVALID_STATE,
        `durable subscription ${JSON.stringify(name)} is in use by another connection`,
      );
    }
    this.dropSubscription(vh, queue);
    return queue.storeKey === undefined ? true : this.store!.sync().then(() => true);
  }

  replyAddress(vhost: string, sessionId: string, tempQueue: string): string {
    this.tempQueue(this.vhost(vhost), sessionId, tempQueue);
    return `/reply-queue/${sessionId}/${tempQueue}`;
  }

  sessionClosed(vhost: string, sessionId: string): void {
    const vh = this.vhosts.get(vhost);
    const keys = vh?.temps.get(sessionId);
    if (vh === undefined || keys === undefined) return;
    vh.temps.delete(sessionId);
    for (const key of keys) {
      const queue = vh.queues.get(key);
      if (queue === undefined) continue;
      for (const c of [...queue.consumers]) c.close();
      this.purge(queue, false);
      queue.deleted = true;
      vh.queues.delete(key);
    }
  }

  close(): MaybePromise<void> {
    // Memory only: what the store holds stays for the next start.
    for (const vh of this.vhosts.values()) {
      for (const queue of vh.queues.values()) this.purge(queue, false);
      for (const queue of vh.durables.values()) this.purge(queue, false);
    }
    this.vhosts.clear();
    this.waiters = [];
    return this.store?.close();
  }

  // ---- internals ----

  private vhost(name: string): VHost {
    let vh = this.vhosts.get(name);
    if (vh === undefined) {
      vh = new VHost(name);
      this.vhosts.set(name, vh);
    }
    return vh;
  }

  private namedQueue(vh: VHost, destination: string): StoreQueue {
    let queue = vh.queues.get(destination);
    if (queue === undefined) {
      queue = new StoreQueue(vh, destination, QueueKind.QUEUE, 0);
      if (this.store !== undefined) queue.storeKey = queueKey(vh.name, destination);
      vh.queues.set(destination, queue);
    }
    return queue;
  }

  private tempQueue(vh: VHost, sessionId: string, name: string): StoreQueue {
    const key = `temp:${sessionId}/${name}`;
    let queue = vh.queues.get(key);
    if (queue === undefined) {
      queue = new StoreQueue(vh, key, QueueKind.TEMP, 0);
      vh.queues.set(key, queue);
      let keys = vh.temps.get(sessionId);
      if (keys === undefined) {
        keys = new Set();
        vh.temps.set(sessionId, keys);
      }
      keys.add(key);
    }
    return queue;
  }

  private topicSubscription(
    vh: VHost,
    topic: string,
    durable: SubscribeRequest['durable'],
    recoveredKey?: string,
  ): StoreQueue {
    let durableKey: string | undefined;
    if (durable !== undefined) {
      durableKey = `${durable.clientId}\0${durable.name}`;
      const existing = vh.durables.get(durableKey);
      if (existing !== undefined) {
        if (existing.consumers.length > 0) {
          throw new StompProtocolError(
            ErrorCode.INVALID_STATE,
            `durable subscription ${JSON.stringify(durable.name)} is already active`,
          );
        }
        if (existing.topic === topic) return existing;
        // Same name, other topic: the old subscription is replaced (as ActiveMQ does).
        this.dropSubscription(vh, existing);
      }
    }
    const queue = new StoreQueue(
      vh,
      `sub:${String(++this.seq)}`,
      QueueKind.TOPIC_SUB,
      durable === undefined ? this.maxTopicPending : 0,
    );
    queue.topic = topic;
    queue.durableKey = durableKey;
    if (durableKey !== undefined) vh.durables.set(durableKey, queue);
    if (durable !== undefined && this.store !== undefined) {
      if (recoveredKey !== undefined) {
        queue.storeKey = recoveredKey;
      } else {
        queue.storeKey = `s\0${this.store.id}\0${Date.now().toString(36)}\0${String(this.seq)}`;
        this.store.defineSubscription(
          queue.storeKey,
          vh.name,
          durable.clientId,
          durable.name,
          topic,
        );
      }
    }
    if (isWildcard(topic)) {
      queue.pattern = new TopicPattern(topic);
      vh.topicWild.add(queue);
      vh.routeCache.clear();
    } else {
      let set = vh.topicExact.get(topic);
      if (set === undefined) {
        set = new Set();
        vh.topicExact.set(topic, set);
      }
      set.add(queue);
      vh.routeCache.delete(topic);
    }
    return queue;
  }

  private dropSubscription(vh: VHost, queue: StoreQueue): void {
    queue.deleted = true;
    if (queue.durableKey !== undefined) vh.durables.delete(queue.durableKey);
    if (queue.pattern !== undefined) {
      vh.topicWild.delete(queue);
      vh.routeCache.clear();
    } else {
      const set = vh.topicExact.get(queue.topic);
      set?.delete(queue);
      if (set?.size === 0) vh.topicExact.delete(queue.topic);
      vh.routeCache.delete(queue.topic);
    }
    if (queue.storeKey !== undefined) this.store!.dropSubscription(queue.storeKey);
    this.purge(queue, true);
  }

  private route(vh: VHost, topic: string): readonly StoreQueue[] {
    const cached = vh.routeCache.get(topic);
    if (cached !== undefined) return cached;
    const subs: StoreQueue[] = [];
    const exact = vh.topicExact.get(topic);
    if (exact !== undefined) for (const q of exact) subs.push(q);
    for (const q of vh.topicWild) if (q.pattern!.matches(topic)) subs.push(q);
    if (vh.routeCache.size >= 10_000) vh.routeCache.clear();
    vh.routeCache.set(topic, subs);
    return subs;
  }

  /** Add `message` to `queue`; true when it was written to the store. */
  private enqueue(queue: StoreQueue, message: Message): boolean {
    if (queue.maxPending > 0 && queue.ready.length >= queue.maxPending) {
      const oldest = queue.ready.peek() ?? this.pageIn(queue);
      if (oldest !== undefined) {
        queue.ready.shift();
        this.discard(oldest);
        this.metrics.messagesDropped++;
      }
    }
    const seq = ++this.seq;
    const stored = message.persistent && queue.storeKey !== undefined;
    if (stored) this.store!.enqueue(queue.storeKey!, seq, message);
    this.count++;
    this.metrics.messagesEnqueued++;
    const priority = message.priority;
    if (stored && this.bytes + message.size > this.pageOutBytes && queue.ready.hasPaged(priority)) {
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
    this.bytes += message.size;
    this.dispatch(queue);
    // Not delivered at once and memory is busy: keep only the stored copy.
    if (
      stored &&
      entry.deliveries === 0 &&
      entry.message !== undefined &&
      this.bytes > this.pageOutBytes &&
      queue.ready.pageOut(entry)
    ) {
      entry.message = undefined;
      this.bytes -= message.size;
      this.wake();
    }
    // Kept (queued, or delivered and not yet acknowledged): hold only the body's own bytes.
    if (entry.message !== undefined) message.own();
    return stored;
  }

  /**
   * The head of `queue` when its next message is paged out: read up to {@link PAGE_IN} of its
   * level back in (dropping expired ones unread). Undefined when `queue` is empty.
   */
  private pageIn(queue: StoreQueue): Entry | undefined {
    const loading: Entry[] = [];
    const seqs: number[] = [];
    const now = Date.now();
    const unpack = (
      seq: number,
      priority: number,
      expires: number,
      deliveries: number,
    ): Entry | undefined => {
      if (expires > 0 && expires <= now) {
        this.metrics.messagesDropped++;
        this.store!.remove(seq);
        this.count--;
        this.wake();
        return undefined;
      }
      const entry: Entry = {
        message: undefined,
        seq,
        deliveries,
        priority,
        expires,
        stored: true,
      };
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
      }
      loading.length = 0;
      seqs.length = 0;
    }
  }

  /** @internal Deliver what `queue` holds to its ready consumers, round-robin. */
  dispatch(queue: StoreQueue): void {
    if (queue.dispatching) {
      queue.again = true;
      return;
    }
    queue.dispatching = true;
    try {
      do {
        queue.again = false;
        this.dispatchOnce(queue);
        // A delivery may have re-entered dispatch() and set `again`.
      } while (queue.again as boolean);
    } finally {
      queue.dispatching = false;
    }
  }

  private dispatchOnce(queue: StoreQueue): void {
    const consumers = queue.consumers;
    for (;;) {
      const n = consumers.length;
      if (n === 0) return;
      const fromRedeliver = queue.redeliver.length > 0;
      let entry = fromRedeliver ? queue.redeliver[0] : queue.ready.peek();
      if (entry === undefined) {
        // Empty, or its next message is paged out.
        if (fromRedeliver || queue.ready.length === 0) return;
        entry = this.pageIn(queue);
        if (entry === undefined) return;
      }
      if (entry.expires > 0 && entry.expires <= Date.now()) {
        if (fromRedeliver) queue.redeliver.shift();
        else queue.ready.shift();
        this.metrics.messagesDropped++;
        this.consume(entry);
        continue;
      }
      const message = entry.message;
      if (message === undefined) {
        // Unreadable (reported by the store): drop it rather than block the queue.
        if (fromRedeliver) queue.redeliver.shift();
        else queue.ready.shift();
        this.metrics.messagesDropped++;
        this.consume(entry);
        continue;
      }
      let target: Attached | undefined;
      for (let i = 0; i < n; i++) {
        const c = consumers[(queue.rr + i) % n]!;
        if (c.consumer.ready(message)) {
          target = c;
          queue.rr = (queue.rr + i + 1) % n;
          break;
        }
      }
      if (target === undefined) return;
      if (fromRedeliver) queue.redeliver.shift();
      else queue.ready.shift();
      entry.deliveries++;
      const tag = ++this.tagSeq;
      let delivery: SeqDelivery;
      if (target.autoAck) {
        this.settle(entry);
        delivery = new SeqDelivery(message, this.idPrefix, entry.seq, entry.deliveries, tag);
      } else {
        const d = new Unacked(entry, message, this.idPrefix, entry.deliveries, tag);
        target.add(d);
        delivery = d;
      }
      target.consumer.deliver(delivery);
    }
  }

  /** @internal A delivery was consumed. */
  settle(entry: Entry): void {
    this.metrics.messagesAcked++;
    this.consume(entry);
  }

  /** A message is gone for good: release it and record its removal in the store. */
  private consume(entry: Entry): void {
    if (entry.stored) this.store!.remove(entry.seq);
    this.release(entry);
  }

  /** A message is gone with its queue (whose deletion the store records): release it. */
  private discard(entry: Entry): void {
    if (entry.stored) this.store!.forget(entry.seq);
    this.release(entry);
  }

  /** @internal Put a delivery back, or dead-letter it once it reached the delivery limit. */
  requeue(queue: StoreQueue, entry: Entry): void {
    if (queue.deleted) {
      this.discard(entry);
      return;
    }
    if (this.maxDeliveries > 0 && entry.deliveries >= this.maxDeliveries) {
      this.deadLetter(queue.vh, entry);
      return;
    }
    this.metrics.messagesRequeued++;
    const list = queue.redeliver;
    let i = list.length;
    while (i > 0 && list[i - 1]!.seq > entry.seq) i--;
    list.splice(i, 0, entry);
  }

  /**
   * @internal Move a message to `/queue/DLQ.<name>` (dropped for temp queues and DLQs). True when
   * the store recorded something.
   */
  deadLetter(vh: VHost, entry: Entry): boolean {
    const message = entry.message;
    let name: string | undefined;
    if (message === undefined) name = undefined;
    else if (message.destination.startsWith('/queue/')) name = message.destination.slice(7);
    else if (message.destination.startsWith('/topic/')) name = message.destination.slice(7);
    let stored = false;
    if (message === undefined || name === undefined || name.startsWith('DLQ.')) {
      this.metrics.messagesDropped++;
    } else {
      this.metrics.messagesDeadLettered++;
      const dlq = `/queue/DLQ.${name}`;
      // The copy is stored before the original's removal is recorded.
      stored = this.enqueue(
        this.namedQueue(vh, dlq),
        message.redirect(dlq, ['original-destination', message.destination]),
      );
    }
    this.consume(entry);
    return stored || entry.stored;
  }

  /** @internal A consumer detached: requeue its deliveries, clean up what nobody needs. */
  detach(vh: VHost, consumer: Attached): void {
    const queue = consumer.queue;
    const i = queue.consumers.indexOf(consumer);
    if (i >= 0) queue.consumers.splice(i, 1);
    if (queue.rr >= queue.consumers.length) queue.rr = 0;
    const transient = queue.kind === QueueKind.TOPIC_SUB && queue.durableKey === undefined;
    if (transient) queue.deleted = true;
    for (const entry of consumer.takeAll()) this.requeue(queue, entry);
    if (transient) {
      this.dropSubscription(vh, queue);
    } else if (queue.kind === QueueKind.QUEUE && queue.idle) {
      queue.deleted = true;
      vh.queues.delete(queue.key);
    } else {
      this.dispatch(queue);
    }
  }

  /** Empty `queue`; with `forget`, its stored messages go with it (the store records the drop). */
  private purge(queue: StoreQueue, forget: boolean): void {
    queue.ready.drain(
      (entry) => {
        if (forget) this.discard(entry);
        else this.release(entry);
      },
      (seq) => {
        if (forget) this.store!.forget(seq);
        this.count--;
      },
    );
    this.wake();
    for (const entry of queue.redeliver.splice(0)) {
      if (forget) this.discard(entry);
      else this.release(entry);
    }
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
}
