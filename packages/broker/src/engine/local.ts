// The local engine: named queues, topic subscriptions (exact and wildcard), temporary queues and
// durable subscriptions, with redelivery ordering, priorities, expiry, dead-lettering and memory
// bounds. Without a store it keeps everything in memory; with one (see store/store.ts), persistent
// messages of named queues and durable subscriptions are written to it before their publication
// settles, their removal is recorded when they are consumed, and beyond `pageOutBytes` of message
// data held (or a queue's `maxQueueBytes`) only their seq stays in memory, packed
// (engine/paged-run.ts): they are read back (paged in) as they reach the head of their queue.
//
// Memory: a non-durable topic subscription holds at most `maxTopicPending` messages and
// `maxTopicPendingBytes` bytes for a slow consumer (beyond, its oldest are dropped), and such
// backlogs are shed first when the engine is over `memoryLimit`. Any other queue pushes back on
// its own producers once `maxQueueBytes` of its waiting messages are in memory (persistent ones
// are paged out instead when there is a store); every producer waits only while the memory held
// by queues that cannot drop messages is over `memoryLimit`.
//
// Files: this one is the Engine API; topology.ts creates and removes queues; flow.ts moves
// messages through them; queue.ts is a queue and its consumers; listing.ts answers the listings.
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '@stompede/core';
import {
  DestinationKind,
  TEMPORARY,
  parseDestination,
  replyAddress,
  replyOwner,
} from '../destination.js';
import type {
  Consumer,
  ConsumerHandle,
  DestinationInfo,
  Engine,
  EngineStats,
  MaybePromise,
  PeekedMessage,
  SubscribeRequest,
  TxOp,
} from '../engine.js';
import type { Message } from '../message.js';
import { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { Topology } from './topology.js';
import { DEFAULT_MAX_QUEUES, type EngineLog } from './queue-cap.js';

export type { EngineLog };
import { listDestinations, peekQueue } from './listing.js';
import { Attached, type Queue, QueueKind, durableKey } from './queue.js';
import { type VHost, tempKey } from './vhost.js';

/** Options of {@link LocalEngine}. */
export interface LocalEngineOptions {
  /**
   * Bytes of message data above which producers wait (non-durable topic subscriptions' backlogs
   * are shed rather than counted). 0 = no limit.
   */
  readonly memoryLimit?: number;
  /** Deliveries after which a message is dead-lettered instead of requeued. 0 = never. */
  readonly maxDeliveries?: number;
  /**
   * Messages a non-durable topic subscription may hold for a slow consumer; beyond it the
   * oldest are dropped, so one slow subscriber neither blocks producers nor grows memory.
   * 0 = no limit.
   */
  readonly maxTopicPending?: number;
  /**
   * Bytes a non-durable topic subscription may hold for a slow consumer (oldest dropped beyond).
   * Default a sixteenth of `memoryLimit`; 0 = no limit.
   */
  readonly maxTopicPendingBytes?: number;
  /**
   * Bytes of waiting messages a queue, temporary queue or durable subscription may hold in
   * memory; beyond it, its persistent messages are paged out (with a store) and its producers
   * wait until it has room. Default a quarter of `memoryLimit`; 0 = no limit.
   */
  readonly maxQueueBytes?: number;
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
  /** Destinations whose traffic is counted one by one (the rest together). Default 10,000. */
  readonly maxCountedDestinations?: number;
  /**
   * Queues per virtual host: named queues, temporary queues and durable topic subscriptions. A
   * SEND, SUBSCRIBE or {@link Engine.createDestination} that would create one more is refused
   * with ERR_STOMP_LIMIT_EXCEEDED (dead-letter queues excepted). Default 10,000; 0 = no cap.
   */
  readonly maxQueues?: number;
  /** Where the engine warns operators (refusals at `maxQueues`); a pino Logger will do. */
  readonly logger?: EngineLog;
  /** The clock for expiry, in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The {@link Engine}: in memory, and with a {@link LocalEngineOptions.store} durable for
 * persistent messages.
 */
export class LocalEngine extends Topology implements Engine {
  private readonly persistAll: boolean;

  constructor(options: LocalEngineOptions = {}) {
    const memoryLimit = options.memoryLimit ?? 0;
    super({
      metrics: options.metrics ?? new Metrics(),
      memoryLimit,
      maxDeliveries: options.maxDeliveries ?? 0,
      store: options.store,
      pageOutBytes:
        options.pageOutBytes ?? (memoryLimit > 0 ? Math.floor(memoryLimit / 2) : 64 * 1024 * 1024),
      now: options.now ?? Date.now,
      maxTopicPending: options.maxTopicPending ?? 0,
      maxTopicPendingBytes: options.maxTopicPendingBytes ?? Math.floor(memoryLimit / 16),
      maxQueueBytes: options.maxQueueBytes ?? Math.floor(memoryLimit / 4),
      maxCountedDestinations: options.maxCountedDestinations ?? 10_000,
      maxQueues: options.maxQueues ?? DEFAULT_MAX_QUEUES,
      log: options.logger,
    });
    this.persistAll = options.persistAll ?? false;
    if (this.store !== undefined) this.recover(this.store);
  }

  flush(): MaybePromise<void> {
    return this.store === undefined ? undefined : this.store.sync();
  }

  stats(): EngineStats {
    let queues = 0;
    for (const vh of this.vhosts.values()) queues += vh.queues.size + vh.subscriptionCount;
    return { memoryBytes: this.bytes, messages: this.count, queues };
  }

  publish(
    vhost: string,
    sessionId: string,
    message: Message,
    awaitDurable = true,
  ): MaybePromise<void> {
    const full: Queue[] = [];
    const stored = this.route(this.vhost(vhost), sessionId, message, full);
    return this.settled(stored && awaitDurable, full);
  }

  commit(
    vhost: string,
    sessionId: string,
    ops: readonly TxOp[],
    awaitDurable = true,
  ): MaybePromise<void> {
    // Checked first, so a transaction naming a consumer of another engine, or holding a
    // persistent message while the store is short of disk space, changes nothing.
    for (const op of ops) if (op.kind !== 'publish') this.attached(op.consumer);
    if (ops.some((op) => op.kind === 'publish' && (op.message.persistent || this.persistAll))) {
      this.store?.admit?.();
    }
    const vh = this.vhost(vhost);
    this.admitNewQueues(vh, sessionId, ops);
    const full: Queue[] = [];
    const touched = new Set<Attached>();
    for (const op of ops) {
      if (op.kind === 'publish') {
        this.route(vh, sessionId, op.message, full);
        continue;
      }
      const a = this.attached(op.consumer);
      if (op.kind === 'ack') void a.ack(op.ackKey, false);
      else void a.nack(op.ackKey, op.requeue, false);
      touched.add(a);
    }
    // The acknowledgments freed prefetch room.
    for (const a of touched) a.resume();
    return this.settled(awaitDurable && this.store !== undefined, full);
  }

  /** The queues a transaction's SENDs would create fit under the cap, or none is published. */
  private admitNewQueues(vh: VHost, sessionId: string, ops: readonly TxOp[]): void {
    const created = new Set<string>();
    for (const op of ops) {
      if (op.kind !== 'publish') continue;
      const destination = op.message.destination;
      const dest = parseDestination(destination);
      const key =
        dest.kind === DestinationKind.QUEUE
          ? destination
          : dest.kind === DestinationKind.TEMP_QUEUE
            ? tempKey(sessionId, dest.name)
            : undefined;
      if (key === undefined || vh.queues.has(key) || created.has(key)) continue;
      created.add(key);
      this.cap.admit(vh, destination, created.size);
    }
  }

  /** The local consumer handle `handle` is, or a coded error. */
  private attached(handle: ConsumerHandle): Attached {
    if (!(handle instanceof Attached) || handle.host !== this) {
      throw new StompInvalidArgumentError('a transaction names a consumer of another engine');
    }
    return handle;
  }

  /**
   * Route `message` to its queues; true when a copy was written to the store. Queues that are
   * now full (their producers should wait) are added to `full`.
   */
  private route(vh: VHost, sessionId: string, message: Message, full: Queue[]): boolean {
    const dest = parseDestination(message.destination);
    if (this.persistAll && this.store !== undefined) message = message.asPersistent();
    let stored = false;
    let queue: Queue | undefined;
    switch (dest.kind) {
      case DestinationKind.QUEUE:
        queue = this.namedQueue(vh, message.destination);
        break;
      case DestinationKind.TEMP_QUEUE:
        queue = this.tempQueue(vh, sessionId, dest.name);
        break;
      case DestinationKind.REPLY_QUEUE:
        queue = vh.queues.get(`temp:${dest.name}`);
        if (queue === undefined) {
          // The session that owned the reply address is gone.
          this.metrics.messageDropped();
          vh.counters.of(TEMPORARY).messageDropped();
          return false;
        }
        break;
      case DestinationKind.TOPIC: {
        const route = vh.route(dest.name);
        route.counters.messageEnqueued();
        if (this.expired(message)) {
          route.counters.messageDropped();
          return false;
        }
        // A store short of disk space refuses it (ERR_STOMP_DISK_FULL) before any copy is made.
        if (message.persistent && route.subs.some((s) => s.storeKey !== undefined)) {
          this.store?.admit?.();
        }
        for (const sub of route.subs) {
          if (this.enqueue(sub, message)) stored = true;
          if (sub.full) full.push(sub);
        }
        return stored;
      }
    }
    queue.counters.messageEnqueued();
    if (this.expired(message)) {
      queue.counters.messageDropped();
      return false;
    }
    if (message.persistent && queue.storeKey !== undefined) this.store?.admit?.();
    stored = this.enqueue(queue, message);
    if (queue.full) full.push(queue);
    return stored;
  }

  private expired(message: Message): boolean {
    if (message.expires === 0 || message.expires > this.now()) return false;
    this.metrics.messageDropped();
    return true;
  }

  subscribe(request: SubscribeRequest, consumer: Consumer): MaybePromise<ConsumerHandle> {
    const vh = this.vhost(request.vhost);
    const dest = parseDestination(request.destination);
    let queue: Queue;
    // A queue this SUBSCRIBE creates is recorded in the store: durable before it is answered.
    let created = false;
    switch (dest.kind) {
      case DestinationKind.QUEUE:
        created = this.store !== undefined && !vh.queues.has(request.destination);
        queue = this.namedQueue(vh, request.destination);
        break;
      case DestinationKind.TEMP_QUEUE:
        queue = this.tempQueue(vh, request.sessionId, dest.name);
        break;
      case DestinationKind.REPLY_QUEUE: {
        const found = vh.queues.get(`temp:${dest.name}`);
        if (replyOwner(dest.name) !== request.sessionId || found === undefined) {
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
    const attached = new Attached(this, queue, consumer, request.autoAck);
    queue.attach(attached);
    this.dispatch(queue);
    if (created || (queue.storeKey !== undefined && queue.durableKey !== undefined)) {
      return this.store!.sync().then(() => attached);
    }
    return attached;
  }

  unsubscribeDurable(vhost: string, clientId: string, name: string): MaybePromise<boolean> {
    const vh = this.vhost(vhost);
    const queue = vh.durables.get(durableKey(clientId, name));
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
    return replyAddress(sessionId, tempQueue);
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
      this.empty(queue, 'release');
      queue.markDeleted();
      vh.queues.delete(key);
    }
  }

  purge(vhost: string, destination: string): MaybePromise<number> {
    if (parseDestination(destination).kind !== DestinationKind.QUEUE) {
      throw new StompInvalidArgumentError(`only queues can be purged, not ${destination}`);
    }
    const vh = this.vhosts.get(vhost);
    const queue = vh?.queues.get(destination);
    if (vh === undefined || queue === undefined) return 0;
    const n = queue.depth;
    this.empty(queue, 'remove');
    queue.counters.messagesPurged(n);
    if (queue.disposable) {
      queue.markDeleted();
      vh.queues.delete(destination);
    }
    return queue.storeKey === undefined || n === 0 ? n : this.store!.sync().then(() => n);
  }

  createDestination(vhost: string, destination: string): MaybePromise<boolean> {
    if (parseDestination(destination).kind !== DestinationKind.QUEUE) {
      throw new StompInvalidArgumentError(
        `only queues can be created, not ${destination} (a topic exists through its subscriptions)`,
      );
    }
    const vh = this.vhost(vhost);
    const existing = vh.queues.get(destination);
    if (existing?.declared === true) return false;
    const queue = existing ?? this.namedQueue(vh, destination);
    queue.declare();
    if (queue.storeKey === undefined) return true;
    this.store!.defineQueue(queue.storeKey);
    return this.store!.sync().then(() => true);
  }

  deleteDestination(vhost: string, destination: string): MaybePromise<number> {
    const dest = parseDestination(destination);
    if (dest.kind === DestinationKind.TEMP_QUEUE || dest.kind === DestinationKind.REPLY_QUEUE) {
      throw new StompInvalidArgumentError(
        `${destination} is a temporary queue: it goes with its session`,
      );
    }
    const vh = this.vhosts.get(vhost);
    if (vh === undefined) return 0;
    const reason = new StompProtocolError(
      ErrorCode.INVALID_STATE,
      `${destination} was deleted by an administrator`,
    );
    const doomed: Queue[] = [];
    if (dest.kind === DestinationKind.QUEUE) {
      const queue = vh.queues.get(destination);
      if (queue !== undefined) doomed.push(queue);
    } else {
      for (const queue of vh.subscriptions()) if (queue.topic === dest.name) doomed.push(queue);
    }
    let n = 0;
    let stored = false;
    for (const queue of doomed) {
      queue.markDeleted();
      n += queue.depth;
      if (queue.storeKey !== undefined) stored = true;
      for (const c of [...queue.consumers]) n += this.cut(queue, c, reason);
      if (queue.kind === QueueKind.QUEUE) {
        this.empty(queue, 'remove');
        if (queue.declared && queue.storeKey !== undefined) this.store!.dropQueue(queue.storeKey);
        vh.queues.delete(destination);
      } else {
        this.dropSubscription(vh, queue);
      }
    }
    vh.counters.delete(destination);
    vh.clearRoutes();
    return stored ? this.store!.sync().then(() => n) : n;
  }

  /**
   * Detach `c` from the deleted `queue` on the engine's own initiative: its unsettled deliveries
   * go with the queue. Returns their number.
   */
  private cut(queue: Queue, c: Attached, reason: StompProtocolError): number {
    const entries = c.cut();
    queue.detach(c);
    for (const entry of entries) this.consume(entry);
    c.consumer.detached?.(reason);
    return entries.length;
  }

  destinations(vhost?: string): MaybePromise<DestinationInfo[]> {
    const hosts = vhost === undefined ? [...this.vhosts.values()] : [this.vhosts.get(vhost)];
    const out: DestinationInfo[] = [];
    for (const vh of hosts) if (vh !== undefined) listDestinations(vh, out);
    return out;
  }

  peek(vhost: string, destination: string, limit: number): MaybePromise<PeekedMessage[]> {
    const queue = this.vhosts.get(vhost)?.queues.get(destination);
    if (queue === undefined || parseDestination(destination).kind !== DestinationKind.QUEUE) {
      return [];
    }
    return peekQueue(queue, limit, this.idPrefix, this.store);
  }

  close(): MaybePromise<void> {
    // Memory only: what the store holds stays for the next start.
    for (const vh of this.vhosts.values()) {
      for (const queue of vh.queues.values()) this.empty(queue, 'release');
      for (const queue of vh.subscriptions()) this.empty(queue, 'release');
    }
    this.vhosts.clear();
    this.closeWaiters();
    return this.store?.close();
  }
}
