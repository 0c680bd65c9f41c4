// The admin verbs in cluster mode (purge, delete, list, peek) and the cluster's state for the
// admin API and metrics. Queues and durable subscriptions are read from JetStream, so every node
// shows the same numbers for them; temporary queues and live topic subscriptions are the node's
// own and come from its local engine.
import type { ConsumerInfo } from '@nats-io/jetstream';
import {
  type DestinationInfo,
  DestinationKind,
  type Engine,
  type EngineGauge,
  type PeekedMessage,
  decodeMessage,
  parseDestination,
} from '@stompede/broker';
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '@stompede/core';
import { LEVELS } from '../names.js';
import type { LinkStatus } from '../nats/link.js';
import { retrying } from '../nats/retry.js';
import type { DurableRecord } from '../nats/topology.js';
import type { NodeContext } from './context.js';
import type { StoredSubscription } from './stored-subscription.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One stream as the admin API shows it. */
export interface StreamStatus {
  readonly name: string;
  /** The server leading it ('' during an election). */
  readonly leader: string;
  /** Followers, and whether each is current. */
  readonly replicas: readonly { name: string; current: boolean; lag: number }[];
  readonly messages: number;
  readonly bytes: number;
  readonly consumers: number;
}

/** The cluster as one node sees it. */
export interface ClusterStatus {
  /** This node's id. */
  readonly node: string;
  readonly nats: LinkStatus;
  /** The cluster's streams; empty when JetStream does not answer. */
  readonly streams: readonly StreamStatus[];
  /** An error reading the streams, if there was one. */
  readonly streamsError?: string;
  /** Deliveries of this node awaiting their ACK at JetStream. */
  readonly pendingAcks: number;
  /** Messages pulled by this node and not yet delivered (subscriptions' windows closed). */
  readonly pulledWaiting: number;
  /** Bytes of SENDs in flight to JetStream. */
  readonly inflightBytes: number;
  /** Subscriptions of this node reading queues and durable subscriptions. */
  readonly storedSubscriptions: number;
  /** Publications JetStream failed to store (each got an ERROR, or was logged). */
  readonly publishFailures: number;
}

/** The admin side of the cluster engine. */
export class ClusterAdmin {
  /** Told of every deleted destination, from any node (Engine.onDeleted). */
  readonly deleted: ((vhost: string, destination: string) => void)[] = [];

  constructor(
    private readonly ctx: NodeContext,
    private readonly local: Engine,
    private readonly stored: () => ReadonlySet<StoredSubscription>,
  ) {
    // A deleted destination is deleted on every node: a queue's subscribers are detached, a
    // topic's live subscriptions go with it.
    ctx.link.nc.subscribe(ctx.names.control('all', 'delete'), {
      callback: (_err, msg) => {
        const { vhost, destination } = JSON.parse(decoder.decode(msg.data)) as {
          vhost: string;
          destination: string;
        };
        void this.deletedHere(vhost, destination).catch((err: unknown) => {
          ctx.warn(`deleting ${destination} on this node failed`, err);
        });
      },
    });
  }

  /** What deleting `destination` means on this node (from any node's deleteDestination). */
  private async deletedHere(vhost: string, destination: string): Promise<void> {
    for (const listener of this.deleted) listener(vhost, destination);
    if (!destination.startsWith('/queue/')) {
      await this.local.deleteDestination(vhost, destination);
      return;
    }
    const reason = new StompProtocolError(
      ErrorCode.INVALID_STATE,
      `${destination} was deleted by an administrator`,
    );
    for (const sub of [...this.stored()]) {
      if (sub.vhost === vhost && sub.destination === destination) sub.detach(reason);
    }
  }

  /** Tell every node (this one first, before returning) that `destination` is gone. */
  private async announceDeleted(vhost: string, destination: string): Promise<void> {
    await this.deletedHere(vhost, destination);
    this.ctx.link.nc.publish(
      this.ctx.names.control('all', 'delete'),
      encoder.encode(JSON.stringify({ vhost, destination })),
    );
    await this.ctx.link.nc.flush();
  }

  async status(): Promise<ClusterStatus> {
    const ctx = this.ctx;
    let pulledWaiting = 0;
    for (const sub of this.stored()) pulledWaiting += sub.pendingCounts.waiting;
    const base = {
      node: ctx.nodeId,
      nats: ctx.link.status(),
      pendingAcks: ctx.unsettled.size,
      pulledWaiting,
      inflightBytes: ctx.publisher.inflightBytes,
      storedSubscriptions: this.stored().size,
      publishFailures: ctx.publisher.failures,
    };
    try {
      const streams: StreamStatus[] = [];
      for (const name of this.streamNames()) {
        const info = await ctx.link.jsm.streams.info(name);
        streams.push({
          name,
          leader: info.cluster?.leader ?? '',
          replicas: (info.cluster?.replicas ?? []).map((r) => ({
            name: r.name,
            current: r.current,
            lag: r.lag,
          })),
          messages: info.state.messages,
          bytes: info.state.bytes,
          consumers: info.state.consumer_count,
        });
      }
      return { ...base, streams };
    } catch (err) {
      return { ...base, streams: [], streamsError: String(err) };
    }
  }

  /**
   * Remove the waiting messages of a queue: those after the last one its consumer delivered (one
   * purge call when nothing is delivered and unacknowledged, else one deletion per message).
   */
  async purge(vhost: string, destination: string): Promise<number> {
    const dest = parseDestination(destination);
    if (dest.kind !== DestinationKind.QUEUE) return this.local.purge(vhost, destination);
    const purged = await this.removeWaiting(vhost, dest.name);
    // A queue only sent to existed through its messages: once created, it stays until deleted.
    if (purged > 0) await this.createDestination(vhost, destination);
    return purged;
  }

  /** The purge of the queue `name`, which may then be left without messages or consumers. */
  private async removeWaiting(vhost: string, name: string): Promise<number> {
    const ctx = this.ctx;
    const addr = ctx.names.queue(vhost, name);
    let purged = 0;
    for (const level of LEVELS) {
      const subject = addr.subject(level);
      const c = await ctx.topology.consumerInfo(addr.stream, addr.consumer(level));
      if (c === undefined || c.num_ack_pending === 0) {
        purged += (await ctx.link.jsm.streams.purge(addr.stream, { filter: subject })).purged;
        continue;
      }
      for (let seq = c.delivered.stream_seq + 1; ;) {
        const m = await this.nextMessage(addr.stream, subject, seq);
        if (m === undefined) break;
        if (await ctx.link.jsm.streams.deleteMessage(addr.stream, m.seq, false)) purged++;
        seq = m.seq + 1;
      }
    }
    return purged;
  }

  /**
   * Create the queue `destination` as an operator does: its JetStream consumers (one per
   * priority level, as its first subscription would make them) are made now, so it exists,
   * empty and unused included, on every node and across restarts, until deleteDestination
   * deletes them. Resolves to false when they all existed already.
   */
  async createDestination(vhost: string, destination: string): Promise<boolean> {
    const dest = parseDestination(destination);
    if (dest.kind !== DestinationKind.QUEUE) {
      throw new StompInvalidArgumentError(
        `only queues can be created, not ${destination} (a topic exists through its subscriptions)`,
      );
    }
    const ctx = this.ctx;
    const addr = ctx.names.queue(vhost, dest.name);
    let created = false;
    for (const level of LEVELS) {
      const consumer = addr.consumer(level);
      if ((await ctx.topology.consumerInfo(addr.stream, consumer)) !== undefined) continue;
      // This node may have made it before another node deleted it.
      ctx.topology.forget(addr.stream, consumer);
      await ctx.topology.ensureQueueConsumer(addr.stream, consumer, addr.subject(level), {
        vhost,
        queue: dest.name,
      });
      created = true;
    }
    return created;
  }

  /**
   * Whether `destination` exists in the cluster, made on any node (Engine.exists, asked by the
   * permission check of a node that has not seen it): a queue with JetStream consumers (made by
   * a subscription or a create) or with messages; a topic with a durable subscription.
   */
  async exists(vhost: string, destination: string): Promise<boolean> {
    let dest;
    try {
      dest = parseDestination(destination);
    } catch {
      // The command's handler refuses it with its own error.
      return false;
    }
    const ctx = this.ctx;
    if (dest.kind === DestinationKind.TOPIC) {
      const name = dest.name;
      return (await this.durables()).some((c) => {
        const r = record(c);
        return r?.vhost === vhost && r.topic === name;
      });
    }
    if (dest.kind !== DestinationKind.QUEUE) return false;
    const addr = ctx.names.queue(vhost, dest.name);
    for (const level of LEVELS) {
      if ((await ctx.topology.consumerInfo(addr.stream, addr.consumer(level))) !== undefined) {
        return true;
      }
    }
    for (const level of LEVELS) {
      const subject = addr.subject(level);
      const info = await retrying(`looking up ${destination}`, ctx.options.publishTimeout, () =>
        ctx.link.jsm.streams.info(addr.stream, { subjects_filter: subject }),
      );
      if ((info.state.subjects?.[subject] ?? 0) > 0) return true;
    }
    return false;
  }

  async deleteDestination(vhost: string, destination: string): Promise<number> {
    const ctx = this.ctx;
    const dest = parseDestination(destination);
    switch (dest.kind) {
      case DestinationKind.QUEUE: {
        let purged = await this.removeWaiting(vhost, dest.name);
        const addr = ctx.names.queue(vhost, dest.name);
        await this.announceDeleted(vhost, destination);
        for (const level of LEVELS) {
          await ctx.topology.deleteConsumer(addr.stream, addr.consumer(level));
        }
        // Removed with the consumers: what was delivered and not yet acknowledged.
        for (const level of LEVELS) {
          purged += (await ctx.link.jsm.streams.purge(addr.stream, { filter: addr.subject(level) }))
            .purged;
        }
        return purged;
      }
      case DestinationKind.TOPIC: {
        let removed = 0;
        for (const c of await this.durables()) {
          const r = record(c);
          if (r?.vhost !== vhost || r.topic !== dest.name) continue;
          removed += c.num_pending;
          await ctx.topology.deleteConsumer(ctx.names.topicStream, c.name);
        }
        await this.announceDeleted(vhost, destination);
        return removed;
      }
      default:
        return this.local.deleteDestination(vhost, destination);
    }
  }

  async destinations(vhost?: string): Promise<DestinationInfo[]> {
    const ctx = this.ctx;
    const out: DestinationInfo[] = [];
    const queues = new Map<
      string,
      { vhost: string; queue: string; depth: number; unacked: number; kept?: boolean }
    >();
    for (let k = 0; k < ctx.names.shards; k++) {
      const stream = ctx.names.queueStream(k);
      // Messages per subject (undelivered and unacknowledged alike)…
      const info = await ctx.link.jsm.streams.info(stream, { subjects_filter: '>' });
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        const q = ctx.names.parseQueueSubject(subject);
        if (q === undefined || (vhost !== undefined && q.vhost !== vhost)) continue;
        const key = `${q.vhost}\0${q.queue}`;
        const entry = queues.get(key) ?? { vhost: q.vhost, queue: q.queue, depth: 0, unacked: 0 };
        entry.depth += count;
        queues.set(key, entry);
      }
      // …less those delivered and not yet acknowledged, which the consumers count. A queue
      // with consumers (made by its first subscription, or by createDestination) exists, even
      // while empty, until it is deleted.
      for await (const c of ctx.link.jsm.consumers.list(stream)) {
        const q = ctx.names.parseQueueSubject(c.config.filter_subject ?? '');
        if (q === undefined || (vhost !== undefined && q.vhost !== vhost)) continue;
        const key = `${q.vhost}\0${q.queue}`;
        const entry = queues.get(key) ?? { vhost: q.vhost, queue: q.queue, depth: 0, unacked: 0 };
        entry.unacked += c.num_ack_pending;
        entry.depth -= c.num_ack_pending;
        entry.kept = true;
        queues.set(key, entry);
      }
    }
    const attached = this.attachedCounts();
    for (const q of queues.values()) {
      const destination = `/queue/${q.queue}`;
      out.push({
        vhost: q.vhost,
        destination,
        depth: Math.max(0, q.depth),
        unacked: q.unacked,
        consumers: attached.get(`${q.vhost}\0${destination}`) ?? 0,
        ...(q.kept === true ? { declared: true } : {}),
      });
    }
    for (const c of await this.durables()) {
      const r = record(c);
      if (r === undefined || (vhost !== undefined && r.vhost !== vhost)) continue;
      out.push({
        vhost: r.vhost,
        destination: `/topic/${r.topic}`,
        durable: { clientId: r.clientId, name: r.name },
        depth: c.num_pending,
        unacked: c.num_ack_pending,
        consumers: c.num_waiting > 0 ? 1 : 0,
      });
    }
    // The node's own: temporary queues and live topic subscriptions.
    for (const d of await this.local.destinations(vhost)) {
      if (d.destination.startsWith('/queue/')) continue;
      out.push(d);
    }
    return out;
  }

  async peek(vhost: string, destination: string, limit: number): Promise<PeekedMessage[]> {
    const ctx = this.ctx;
    const dest = parseDestination(destination);
    if (dest.kind !== DestinationKind.QUEUE) return this.local.peek(vhost, destination, limit);
    const addr = ctx.names.queue(vhost, dest.name);
    const out: PeekedMessage[] = [];
    for (const level of LEVELS) {
      // From the first message not yet delivered (redeliveries waiting are not shown).
      let seq = 1;
      const c = await ctx.topology.consumerInfo(addr.stream, addr.consumer(level));
      if (c !== undefined) seq = c.delivered.stream_seq + 1;
      while (out.length < limit) {
        const m = await this.nextMessage(addr.stream, addr.subject(level), seq);
        if (m === undefined) break;
        try {
          out.push({
            message: decodeMessage(m.data),
            messageId: 'Q-' + String(ctx.keys.queue(m.seq, addr.shard)),
            deliveryCount: 0,
          });
        } catch {
          // Not a stompede message: skipped.
        }
        seq = m.seq + 1;
      }
    }
    return out;
  }

  /**
   * The first message on `subject` at or after `seq` (the STREAM.MSG.GET request's `next_by_subj`,
   * which servers 2.9 answer; the client library types only its direct-get form).
   */
  private async nextMessage(
    stream: string,
    subject: string,
    seq: number,
  ): Promise<{ seq: number; data: Uint8Array } | undefined> {
    const reply = await this.ctx.link.nc.request(
      `$JS.API.STREAM.MSG.GET.${stream}`,
      encoder.encode(JSON.stringify({ seq, next_by_subj: subject })),
      { timeout: 5000 },
    );
    const r = JSON.parse(decoder.decode(reply.data)) as {
      message?: { seq: number; data?: string };
      error?: { code: number; description: string };
    };
    if (r.message === undefined) {
      if (r.error === undefined || r.error.code === 404) return undefined;
      throw new Error(`reading ${stream}: ${r.error.description}`);
    }
    return { seq: r.message.seq, data: Buffer.from(r.message.data ?? '', 'base64') };
  }

  private streamNames(): string[] {
    const n = this.ctx.names;
    const names: string[] = [];
    for (let k = 0; k < n.shards; k++) names.push(n.queueStream(k));
    names.push(n.topicStream, n.outboxStream, n.leaseStream);
    return names;
  }

  private async durables(): Promise<ConsumerInfo[]> {
    const out: ConsumerInfo[] = [];
    for await (const c of this.ctx.link.jsm.consumers.list(this.ctx.names.topicStream)) {
      out.push(c);
    }
    return out;
  }

  /** This node's subscriptions per queue. */
  private attachedCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const sub of this.stored()) {
      const key = `${sub.vhost}\0${sub.destination}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }
}

/** The cluster status as Prometheus gauges (`stompede_cluster_…`). */
export function gaugesOf(s: ClusterStatus): EngineGauge[] {
  const g: EngineGauge[] = [
    {
      name: 'cluster_nats_connected',
      help: 'This node is connected to NATS (1) or reconnecting (0).',
      value: s.nats.state === 'connected' ? 1 : 0,
    },
    { name: 'cluster_nats_reconnects', help: 'Reconnections to NATS.', value: s.nats.reconnects },
    {
      name: 'cluster_pending_acks',
      help: 'Deliveries of this node awaiting their ACK at JetStream.',
      value: s.pendingAcks,
    },
    {
      name: 'cluster_pulled_waiting',
      help: 'Messages pulled by this node and not yet delivered.',
      value: s.pulledWaiting,
    },
    {
      name: 'cluster_inflight_bytes',
      help: 'Bytes of SENDs this node has in flight to JetStream.',
      value: s.inflightBytes,
    },
    {
      name: 'cluster_publish_failures',
      help: 'Publications JetStream did not store in time (each got an ERROR, or was logged).',
      value: s.publishFailures,
    },
  ];
  for (const st of s.streams) {
    const labels = { stream: st.name };
    g.push(
      {
        name: 'cluster_stream_messages',
        help: 'Messages in a stream.',
        value: st.messages,
        labels,
      },
      { name: 'cluster_stream_bytes', help: 'Bytes in a stream.', value: st.bytes, labels },
      {
        name: 'cluster_stream_replicas_current',
        help: 'Replicas of a stream that are current (the leader included).',
        value: (st.leader === '' ? 0 : 1) + st.replicas.filter((r) => r.current).length,
        labels,
      },
      {
        name: 'cluster_stream_leader',
        help: "The server leading a stream (1 on that server's label).",
        value: st.leader === '' ? 0 : 1,
        labels: { stream: st.name, server: st.leader },
      },
    );
  }
  return g;
}

function record(c: ConsumerInfo): DurableRecord | undefined {
  try {
    const r = JSON.parse(c.config.description ?? '') as Partial<DurableRecord>;
    if (typeof r.vhost !== 'string' || typeof r.topic !== 'string') return undefined;
    return r as DurableRecord;
  } catch {
    return undefined;
  }
}
