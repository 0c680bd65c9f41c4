// The streams and consumers a cluster needs, created on first use by whichever node gets there
// first (JetStream's create is idempotent for an identical configuration, so nodes racing to
// create the same consumer all succeed), and checked against the node's configuration at start.
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Names } from '../names.js';
import type { ResolvedClusterOptions } from '../options.js';
import { apiCode } from './publisher.js';
import { retrying } from './retry.js';

/** Nanoseconds, as JetStream's API counts durations. */
const ns = (ms: number): number => ms * 1e6;

/** What a durable subscription's consumer description records (the admin API reads it). */
export interface DurableRecord {
  readonly vhost: string;
  readonly clientId: string;
  readonly name: string;
  readonly topic: string;
}

/** What a queue consumer's description records. */
export interface QueueRecord {
  readonly vhost: string;
  readonly queue: string;
}

/** Creates and checks the cluster's streams and consumers. */
export class Topology {
  private readonly known = new Set<string>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly names: Names,
    private readonly options: ResolvedClusterOptions,
  ) {}

  /** Every stream the cluster uses, with the configuration this node expects. */
  streamConfigs(): (Partial<StreamConfig> & { name: string })[] {
    const o = this.options;
    const n = this.names;
    const common: Partial<StreamConfig> = {
      storage: StorageType.File,
      num_replicas: o.replicas,
      duplicate_window: ns(o.duplicateWindow),
      max_age: ns(o.maxAge),
      max_bytes: o.maxStreamBytes,
      discard: DiscardPolicy.New,
    };
    const streams: (Partial<StreamConfig> & { name: string })[] = [];
    for (let k = 0; k < n.shards; k++) {
      streams.push({
        ...common,
        name: n.queueStream(k),
        subjects: [n.queueSubjects(k)],
        retention: RetentionPolicy.Workqueue,
        description: `stompede queues, shard ${String(k)} of ${String(n.shards)}`,
      });
    }
    streams.push({
      ...common,
      name: n.topicStream,
      subjects: [n.topicSubjects],
      retention: RetentionPolicy.Interest,
      description: 'stompede topics (kept for durable subscriptions)',
    });
    streams.push({
      ...common,
      name: n.outboxStream,
      subjects: [n.outboxSubject],
      retention: RetentionPolicy.Workqueue,
      max_age: 0,
      description: 'stompede committed transactions being applied',
    });
    streams.push({
      ...common,
      name: n.leaseStream,
      subjects: [n.leaseSubjects],
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      max_age: 0,
      discard: DiscardPolicy.Old,
      description: 'stompede durable subscription leases',
    });
    return streams;
  }

  /**
   * Create the streams, or check existing ones: settings a node may change (replicas, limits,
   * the duplicate window) are updated; a stream that cannot serve (other retention, other
   * subjects) stops the node with a message naming it.
   */
  async ensureStreams(): Promise<void> {
    for (const config of this.streamConfigs()) {
      const name = config.name;
      try {
        await this.jsm.streams.add(config);
        continue;
      } catch (err) {
        if (apiCode(err) !== 10058) throw err;
      }
      const existing = (await this.jsm.streams.info(name)).config;
      if (
        existing.retention !== config.retention ||
        JSON.stringify(existing.subjects) !== JSON.stringify(config.subjects)
      ) {
        throw new Error(
          `stream ${name} exists with retention ${existing.retention} and subjects ` +
            `${JSON.stringify(existing.subjects)}; this node needs ${String(config.retention)} ` +
            `and ${JSON.stringify(config.subjects)} (another prefix, or a different queueShards?)`,
        );
      }
      await this.jsm.streams.update(name, { ...existing, ...config });
    }
  }

  /** Create (or update to this node's settings) the consumer of one level of a queue. */
  async ensureQueueConsumer(
    stream: string,
    consumer: string,
    subject: string,
    record: QueueRecord,
  ): Promise<void> {
    const key = `${stream}/${consumer}`;
    if (this.known.has(key)) return;
    await this.retry(`subscribing to /queue/${record.queue}`, () =>
      this.jsm.consumers.add(stream, {
        ...this.consumerBase(),
        durable_name: consumer,
        filter_subject: subject,
        deliver_policy: DeliverPolicy.All,
        description: JSON.stringify(record),
      }),
    );
    this.known.add(key);
  }

  /**
   * The durable subscription's consumer: created when missing, replaced when it exists for
   * another topic (as ActiveMQ does). Resolves to true when it was created or replaced.
   */
  async ensureDurableConsumer(consumer: string, record: DurableRecord): Promise<boolean> {
    const stream = this.names.topicStream;
    const filter = this.names.topicFilter(record.vhost, record.topic);
    const existing = await this.consumerFilter(stream, consumer);
    if (existing === filter) return false;
    if (existing !== undefined) await this.deleteConsumer(stream, consumer);
    await this.retry(`attaching durable subscription ${JSON.stringify(record.name)}`, () =>
      this.jsm.consumers.add(stream, {
        ...this.consumerBase(),
        durable_name: consumer,
        filter_subject: filter,
        deliver_policy: DeliverPolicy.New,
        description: JSON.stringify(record),
      }),
    );
    return true;
  }

  /** The outbox's consumer (shared by every node). */
  async ensureOutboxConsumer(): Promise<void> {
    await this.jsm.consumers.add(this.names.outboxStream, {
      ...this.consumerBase(),
      durable_name: 'apply',
      deliver_policy: DeliverPolicy.All,
    });
  }

  /** The filter subject of a consumer, or undefined when it does not exist. */
  async consumerFilter(stream: string, consumer: string): Promise<string | undefined> {
    const info = await this.consumerInfo(stream, consumer);
    return info === undefined ? undefined : (info.config.filter_subject ?? '');
  }

  /** A consumer's state, or undefined when it does not exist. */
  async consumerInfo(stream: string, consumer: string): Promise<ConsumerInfo | undefined> {
    return this.retry(`reading consumer ${consumer}`, async () => {
      try {
        return await this.jsm.consumers.info(stream, consumer);
      } catch (err) {
        if (apiCode(err) === 10014 || /not found/i.test(String(err))) return undefined;
        throw err;
      }
    });
  }

  /** Delete a consumer; false when it did not exist. */
  async deleteConsumer(stream: string, consumer: string): Promise<boolean> {
    this.known.delete(`${stream}/${consumer}`);
    return this.retry(`deleting consumer ${consumer}`, async () => {
      try {
        return await this.jsm.consumers.delete(stream, consumer);
      } catch (err) {
        if (apiCode(err) === 10014 || /not found/i.test(String(err))) return false;
        throw err;
      }
    });
  }

  private retry<T>(action: string, call: () => Promise<T>): Promise<T> {
    return retrying(action, this.options.publishTimeout, call);
  }

  /** Forget that a consumer exists (it was deleted elsewhere). */
  forget(stream: string, consumer: string): void {
    this.known.delete(`${stream}/${consumer}`);
  }

  private consumerBase(): Partial<ConsumerConfig> {
    return {
      ack_policy: AckPolicy.Explicit,
      ack_wait: ns(this.options.ackWait),
      // Redelivery limits and prefetch are the nodes' (dead-lettering, per-subscription windows).
      max_deliver: -1,
      max_ack_pending: -1,
      max_waiting: 4096,
    };
  }
}
