// Which queues the local engine has and how they come and go: the virtual hosts, named queues,
// temporary queues and topic subscriptions (durable ones replaced or recovered), a consumer's
// detaching, and dead-lettering into `/queue/DLQ.<name>`. LocalEngine (local.ts) puts the Engine
// API on top; the message flow through the queues is MessageFlow's (flow.ts).
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { ORIGINAL_DESTINATION, TEMPORARY, deadLetterQueue } from '../destination.js';
import { type Store, queueKey } from '../store/store.js';
import type { Entry } from './entry.js';
import { type FlowSettings, MessageFlow } from './flow.js';
import { type Attached, type DurableName, Queue, QueueKind, durableKey } from './queue.js';
import { VHost, tempKey } from './vhost.js';
import { type EngineLog, QueueCap } from './queue-cap.js';

/** What {@link Topology} is built with, beyond the flow's settings. */
export interface TopologySettings extends FlowSettings {
  /** Most messages waiting in a non-durable topic subscription (oldest dropped); 0 = no bound. */
  readonly maxTopicPending: number;
  /** Most bytes waiting in a non-durable topic subscription (oldest dropped); 0 = no bound. */
  readonly maxTopicPendingBytes: number;
  /** Most waiting bytes in memory of any other queue (producers wait); 0 = no bound. */
  readonly maxQueueBytes: number;
  /** Destinations whose traffic is counted one by one. */
  readonly maxCountedDestinations: number;
  /** Queues per virtual host (see queue-cap.ts); 0 = no cap. */
  readonly maxQueues: number;
  /** Where refusals at the queue cap are logged. */
  readonly log: EngineLog | undefined;
}

/** The queues of the local engine (see the file's header). */
export abstract class Topology extends MessageFlow {
  private readonly maxTopicPending: number;
  private readonly maxTopicPendingBytes: number;
  private readonly maxQueueBytes: number;
  private readonly budget: { left: number };
  protected readonly cap: QueueCap;

  constructor(settings: TopologySettings) {
    super(settings);
    this.cap = new QueueCap(settings.maxQueues, settings.metrics, settings.log, settings.now);
    this.maxTopicPending = settings.maxTopicPending;
    this.maxTopicPendingBytes = settings.maxTopicPendingBytes;
    this.maxQueueBytes = settings.maxQueueBytes;
    this.budget = { left: settings.maxCountedDestinations };
  }

  /** Rebuild queues and durable subscriptions from the store; every message counts as delivered once. */
  protected recover(store: Store): void {
    const recovery = store.recover();
    this.seq = Math.max(this.seq, recovery.maxSeq);
    for (const q of recovery.queues) {
      const vh = this.vhost(q.vhost);
      let queue: Queue;
      if (q.destination !== undefined) {
        // Kept, as every named queue with a store (see namedQueue); one recorded before queues
        // created by use were (it held messages at shutdown) is recorded now.
        queue = this.namedQueue(vh, q.destination, false);
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

  protected vhost(name: string): VHost {
    let vh = this.vhosts.get(name);
    if (vh === undefined) {
      vh = new VHost(name, this.budget);
      this.vhosts.set(name, vh);
    }
    return vh;
  }

  /**
   * The named queue `destination`, created on first use. With a store, a queue once created
   * exists until it is deleted, as RabbitMQ's durable queues and ActiveMQ's persistent
   * destinations do: it is kept while empty and unused, and recorded (one QUEUE record, written
   * here, when it is created) so that it is there after a restart. Without a store, one created
   * by use is only a name while idle, and is forgotten then (see Queue.disposable). A new one
   * counts against the cap (ERR_STOMP_LIMIT_EXCEEDED at it) unless `capped` is false.
   */
  protected namedQueue(vh: VHost, destination: string, capped = true): Queue {
    let queue = vh.queues.get(destination);
    if (queue === undefined) {
      if (capped) this.cap.admit(vh, destination);
      const storeKey = this.store === undefined ? undefined : queueKey(vh.name, destination);
      queue = new Queue({
        vhost: vh.name,
        key: destination,
        kind: QueueKind.QUEUE,
        counters: vh.counters.of(destination),
        droppable: false,
        maxPending: 0,
        maxBytes: this.maxQueueBytes,
        storeKey,
      });
      if (storeKey !== undefined) {
        queue.declare();
        this.store!.defineQueue(storeKey);
      }
      vh.queues.set(destination, queue);
    }
    return queue;
  }

  protected tempQueue(vh: VHost, sessionId: string, name: string): Queue {
    const key = tempKey(sessionId, name);
    let queue = vh.queues.get(key);
    if (queue === undefined) {
      this.cap.admit(vh, `/temp-queue/${name}`);
      queue = new Queue({
        vhost: vh.name,
        key,
        kind: QueueKind.TEMP,
        counters: vh.counters.of(TEMPORARY),
        droppable: false,
        maxPending: 0,
        maxBytes: this.maxQueueBytes,
      });
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

  protected topicSubscription(
    vh: VHost,
    topic: string,
    durable: DurableName | undefined,
    recoveredKey?: string,
  ): Queue {
    if (durable !== undefined) {
      const existing = vh.durables.get(durableKey(durable.clientId, durable.name));
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
      } else if (recoveredKey === undefined) {
        this.cap.admit(vh, `durable subscription ${JSON.stringify(durable.name)}`);
      }
    }
    const key = `sub:${String(++this.seq)}`;
    let storeKey: string | undefined;
    if (durable !== undefined && this.store !== undefined) {
      storeKey = recoveredKey;
      if (storeKey === undefined) {
        storeKey = `s\0${this.store.id}\0${Date.now().toString(36)}\0${String(this.seq)}`;
        this.store.defineSubscription(storeKey, vh.name, durable.clientId, durable.name, topic);
      }
    }
    const queue = new Queue({
      vhost: vh.name,
      key,
      kind: QueueKind.TOPIC_SUB,
      counters: vh.counters.of(`/topic/${topic}`),
      droppable: durable === undefined,
      maxPending: durable === undefined ? this.maxTopicPending : 0,
      maxBytes: durable === undefined ? this.maxTopicPendingBytes : this.maxQueueBytes,
      topic,
      durable,
      storeKey,
    });
    vh.addSubscription(queue);
    return queue;
  }

  protected dropSubscription(vh: VHost, queue: Queue): void {
    queue.markDeleted();
    vh.removeSubscription(queue);
    this.unlist(queue);
    if (queue.storeKey !== undefined) this.store!.dropSubscription(queue.storeKey);
    this.empty(queue, 'forget');
  }

  /** @internal A consumer detached: requeue its deliveries, clean up what nobody needs. */
  detach(consumer: Attached): void {
    const queue = consumer.queue;
    const vh = this.vhosts.get(queue.vhost);
    queue.detach(consumer);
    const transient = queue.kind === QueueKind.TOPIC_SUB && queue.durableKey === undefined;
    if (transient) queue.markDeleted();
    for (const entry of consumer.takeAll()) this.requeue(queue, entry);
    if (vh === undefined) return;
    if (transient) {
      this.dropSubscription(vh, queue);
    } else if (queue.kind === QueueKind.QUEUE && queue.disposable) {
      queue.markDeleted();
      vh.queues.delete(queue.key);
    } else {
      this.dispatch(queue);
    }
  }

  /** @internal Dead-letter into `/queue/DLQ.<name>`; true when the store recorded something. */
  deadLetter(queue: Queue, entry: Entry): boolean {
    const message = entry.message;
    const dlq = message === undefined ? undefined : deadLetterQueue(message.destination);
    let stored = false;
    if (message === undefined || dlq === undefined) {
      this.metrics.messageDropped();
      queue.counters.messageDropped();
    } else {
      this.metrics.messageDeadLettered();
      queue.counters.messageDeadLettered();
      // Never refused at the cap: that would lose the dead letter (see queue-cap.ts).
      const target = this.namedQueue(this.vhost(queue.vhost), dlq, false);
      target.counters.messageEnqueued();
      // The copy is stored before the original's removal is recorded.
      stored = this.enqueue(
        target,
        message.redirect(dlq, [ORIGINAL_DESTINATION, message.destination]),
      );
    }
    this.consume(entry);
    return stored || entry.stored;
  }
}
