// The in-memory engine: named queues, topic subscriptions (exact and wildcard), temporary queues
// and durable subscriptions, with redelivery ordering, dead-lettering and a memory limit.
//
// Every destination a consumer reads from is a StoreQueue: a `/queue/` is one shared by its
// competing consumers (round-robin); a topic subscription is a StoreQueue of its own that the
// topic fans messages out to. Acknowledgment, prefetch and redelivery thus work the same way
// everywhere.
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { DestinationKind, TopicPattern, isWildcard, parseDestination } from '../destination.js';
import type { Consumer, ConsumerHandle, Engine, EngineStats, SubscribeRequest } from '../engine.js';
import { Fifo } from '../fifo.js';
import { Message } from '../message.js';
import { Metrics } from '../metrics.js';

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
}

interface Entry {
  readonly message: Message;
  readonly id: string;
  readonly seq: number;
  deliveries: number;
}

class VHost {
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
  readonly ready = new Fifo<Entry>();
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

class Attached implements ConsumerHandle {
  readonly unacked = new Map<number, Entry>();
  closed = false;

  constructor(
    readonly engine: MemoryEngine,
    readonly vhost: VHost,
    readonly queue: StoreQueue,
    readonly consumer: Consumer,
    readonly autoAck: boolean,
  ) {}

  ack(tag: number): void {
    const entry = this.unacked.get(tag);
    if (entry === undefined) return;
    this.unacked.delete(tag);
    this.engine.settle(entry);
  }

  nack(tag: number, requeue: boolean): void {
    const entry = this.unacked.get(tag);
    if (entry === undefined) return;
    this.unacked.delete(tag);
    this.engine.metrics.messagesNacked++;
    if (requeue && !this.closed) this.engine.requeue(this.queue, entry);
    else this.engine.deadLetter(this.vhost, entry);
    this.engine.dispatch(this.queue);
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

/** The in-memory {@link Engine}. Messages live as long as the process. */
export class MemoryEngine implements Engine {
  /** @internal */
  readonly metrics: Metrics;
  private readonly memoryLimit: number;
  private readonly maxDeliveries: number;
  private readonly maxTopicPending: number;
  private readonly vhosts = new Map<string, VHost>();
  private readonly idPrefix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
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

  publish(vhost: string, sessionId: string, message: Message): void {
    const vh = this.vhost(vhost);
    const dest = parseDestination(message.destination);
    switch (dest.kind) {
      case DestinationKind.QUEUE:
        this.enqueue(this.namedQueue(vh, message.destination), message);
        return;
      case DestinationKind.TEMP_QUEUE:
        this.enqueue(this.tempQueue(vh, sessionId, dest.name), message);
        return;
      case DestinationKind.REPLY_QUEUE: {
        const queue = vh.queues.get(`temp:${dest.name}`);
        if (queue === undefined) this.metrics.messagesDropped++;
        else this.enqueue(queue, message);
        return;
      }
      case DestinationKind.TOPIC:
        for (const sub of this.route(vh, dest.name)) this.enqueue(sub, message);
        return;
    }
  }

  subscribe(request: SubscribeRequest, consumer: Consumer): ConsumerHandle {
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
    return attached;
  }

  unsubscribeDurable(vhost: string, clientId: string, name: string): boolean {
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
    return true;
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
      this.purge(queue);
      queue.deleted = true;
      vh.queues.delete(key);
    }
  }

  close(): void {
    for (const vh of this.vhosts.values()) {
      for (const queue of vh.queues.values()) this.purge(queue);
      for (const queue of vh.durables.values()) this.purge(queue);
    }
    this.vhosts.clear();
    this.waiters = [];
  }

  // ---- internals ----

  private vhost(name: string): VHost {
    let vh = this.vhosts.get(name);
    if (vh === undefined) {
      vh = new VHost();
      this.vhosts.set(name, vh);
    }
    return vh;
  }

  private namedQueue(vh: VHost, destination: string): StoreQueue {
    let queue = vh.queues.get(destination);
    if (queue === undefined) {
      queue = new StoreQueue(vh, destination, QueueKind.QUEUE, 0);
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
    this.purge(queue);
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

  private enqueue(queue: StoreQueue, message: Message): void {
    if (queue.maxPending > 0 && queue.ready.length >= queue.maxPending) {
      const oldest = queue.ready.shift()!;
      this.release(oldest);
      this.metrics.messagesDropped++;
    }
    queue.ready.push({
      message,
      id: this.idPrefix + String(++this.seq),
      seq: this.seq,
      deliveries: 0,
    });
    this.bytes += message.size;
    this.count++;
    this.metrics.messagesEnqueued++;
    this.dispatch(queue);
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
      const entry = fromRedeliver ? queue.redeliver[0] : queue.ready.peek();
      if (entry === undefined) return;
      let target: Attached | undefined;
      for (let i = 0; i < n; i++) {
        const c = consumers[(queue.rr + i) % n]!;
        if (c.consumer.ready(entry.message)) {
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
      if (target.autoAck) this.settle(entry);
      else target.unacked.set(tag, entry);
      target.consumer.deliver({
        message: entry.message,
        messageId: entry.id,
        deliveryCount: entry.deliveries,
        tag,
      });
    }
  }

  /** @internal A delivery was consumed. */
  settle(entry: Entry): void {
    this.metrics.messagesAcked++;
    this.release(entry);
  }

  /** @internal Put a delivery back, or dead-letter it once it reached the delivery limit. */
  requeue(queue: StoreQueue, entry: Entry): void {
    if (queue.deleted) {
      this.release(entry);
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

  /** @internal Move a message to `/queue/DLQ.<name>` (dropped for temp queues and DLQs). */
  deadLetter(vh: VHost, entry: Entry): void {
    this.release(entry);
    const message = entry.message;
    let name: string | undefined;
    if (message.destination.startsWith('/queue/')) name = message.destination.slice(7);
    else if (message.destination.startsWith('/topic/')) name = message.destination.slice(7);
    if (name === undefined || name.startsWith('DLQ.')) {
      this.metrics.messagesDropped++;
      return;
    }
    this.metrics.messagesDeadLettered++;
    const dlq = `/queue/DLQ.${name}`;
    this.enqueue(
      this.namedQueue(vh, dlq),
      message.redirect(dlq, ['original-destination', message.destination]),
    );
  }

  /** @internal A consumer detached: requeue its deliveries, clean up what nobody needs. */
  detach(vh: VHost, consumer: Attached): void {
    const queue = consumer.queue;
    const i = queue.consumers.indexOf(consumer);
    if (i >= 0) queue.consumers.splice(i, 1);
    if (queue.rr >= queue.consumers.length) queue.rr = 0;
    const transient = queue.kind === QueueKind.TOPIC_SUB && queue.durableKey === undefined;
    if (transient) queue.deleted = true;
    for (const entry of consumer.unacked.values()) this.requeue(queue, entry);
    consumer.unacked.clear();
    if (transient) {
      this.dropSubscription(vh, queue);
    } else if (queue.kind === QueueKind.QUEUE && queue.idle) {
      queue.deleted = true;
      vh.queues.delete(queue.key);
    } else {
      this.dispatch(queue);
    }
  }

  private purge(queue: StoreQueue): void {
    for (const entry of queue.ready.drain()) this.release(entry);
    for (const entry of queue.redeliver.splice(0)) this.release(entry);
  }

  private release(entry: Entry): void {
    this.bytes -= entry.message.size;
    this.count--;
    if (this.waiters.length > 0 && !this.memoryFull) {
      const waiters = this.waiters;
      this.waiters = [];
      queueMicrotask(() => {
        for (const w of waiters) w();
      });
    }
  }
}
