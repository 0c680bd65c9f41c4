// The cluster engine: a broker node that keeps no message state of its own. Queues and durable
// subscriptions live in JetStream (replicated streams and durable consumers), live topic traffic
// rides core NATS, and what belongs to one node's sessions (temporary queues, the fan-out to its
// own live topic subscribers) runs on an embedded local engine. docs/cluster.md has the picture.
import { randomBytes } from 'node:crypto';
import {
  type Consumer,
  type ConsumerHandle,
  type DestinationInfo,
  type Engine,
  type EngineReport,
  type EngineStats,
  LocalEngine,
  type MaybePromise,
  type Message,
  Metrics,
  type PeekedMessage,
  type SubscribeRequest,
  type TxOp,
} from '@stompede/broker';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { Names } from '../names.js';
import { InterestProbe } from '../nats/interest.js';
import { transient, unavailable } from '../nats/retry.js';
import { type LinkEvent, LinkState, NatsLink, flushWithin } from '../nats/link.js';
import { AckVerb, parseAckSubject, sendAck } from '../nats/ack.js';
import { Publisher } from '../nats/publisher.js';
import { PULL_TIMING, Puller } from '../nats/puller.js';
import { Topology } from '../nats/topology.js';
import {
  type ClusterOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from '../options.js';
import { ClusterAdmin, type ClusterStatus, gaugesOf } from './admin.js';
import { clusterReportOf } from './cluster-report.js';
import type { Held, NodeContext } from './context.js';
import { KeySpace } from './keys.js';
import { Leases } from './leases.js';
import { LiveTopics } from './live-topics.js';
import { Replies } from './replies.js';
import { Router, send } from './router.js';
import { Subscriptions } from './subscriptions.js';
import { Transactions } from './transactions.js';

/** Options of {@link ClusterEngine.start}: the cluster's, plus the broker's engine settings. */
export interface ClusterEngineOptions extends ClusterOptions {
  /** Bytes of message data the node's local part (temp queues, live topics) may hold. */
  readonly memoryLimit?: number;
  /** Deliveries after which a message is dead-lettered; 0 = never. Default 0. */
  readonly maxDeliveries?: number;
  /** Messages a live topic subscription may hold for a slow consumer (oldest dropped beyond). */
  readonly maxTopicPending?: number;
  /** Bytes a live topic subscription may hold for a slow consumer (oldest dropped beyond). */
  readonly maxTopicPendingBytes?: number;
  /** Treat every message as persistent (stored, its RECEIPT after the PubAck). Default false. */
  readonly persistAll?: boolean;
  /**
   * Temporary queues a virtual host may hold on this node (the node's own, see docs/cluster.md
   * for the shared queues). Default 10,000; 0 = no limit.
   */
  readonly maxQueues?: number;
  /** Counters to increment (the broker passes its own). */
  readonly metrics?: Metrics;
  /** Where the node reports connection changes and problems no client sees. */
  readonly log?: (level: 'info' | 'warn', message: string, err?: unknown) => void;
  /** The clock messages expire by, in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** A stompede node's engine in cluster mode. Create one with {@link ClusterEngine.start}. */
export class ClusterEngine implements Engine {
  private readonly ctx: NodeContext;
  private readonly local: LocalEngine;
  private readonly live: LiveTopics;
  private readonly probe: InterestProbe;
  private readonly leases: Leases;
  private readonly tx: Transactions;
  private readonly admin: ClusterAdmin;
  private readonly router: Router;
  private readonly replies: Replies;
  private readonly subscriptions: Subscriptions;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly link: NatsLink,
    private readonly options: ResolvedClusterOptions,
    engineOptions: ClusterEngineOptions,
  ) {
    const names = new Names(options.prefix, options.queueShards);
    const metrics = engineOptions.metrics ?? new Metrics();
    const log = engineOptions.log ?? (() => undefined);
    const nodeId = randomBytes(8).toString('hex');
    const publisher = new Publisher(
      link,
      options.publishTimeout,
      options.maxInflightBytes,
      `_INBOX.${nodeId}.a`,
    );
    const now = engineOptions.now ?? Date.now;
    const ctx: NodeContext = {
      link,
      names,
      options,
      keys: new KeySpace(options.queueShards),
      publisher,
      puller: new Puller(link.nc, `_INBOX.${nodeId}.p`, PULL_TIMING, (msg) => {
        this.subscriptions.caught(msg);
      }),
      topology: new Topology(link.jsm, names, options),
      metrics,
      maxDeliveries: engineOptions.maxDeliveries ?? 0,
      unsettled: new Map<number, Held>(),
      clock: now,
      nodeId,
      deadLetter: (vhost, message, id) => this.router.deadLetter(vhost, message, id),
      warn: (message, err) => {
        log('warn', message, err);
      },
    };
    this.ctx = ctx;
    this.local = new LocalEngine({
      ...(engineOptions.memoryLimit === undefined
        ? {}
        : { memoryLimit: engineOptions.memoryLimit }),
      ...(engineOptions.maxTopicPending === undefined
        ? {}
        : { maxTopicPending: engineOptions.maxTopicPending }),
      ...(engineOptions.maxTopicPendingBytes === undefined
        ? {}
        : { maxTopicPendingBytes: engineOptions.maxTopicPendingBytes }),
      ...(engineOptions.maxQueues === undefined ? {} : { maxQueues: engineOptions.maxQueues }),
      logger: {
        warn: (_detail, message) => {
          log('warn', message);
        },
      },
      // The bridge applies the delivery limit, dead-lettering into the cluster.
      maxDeliveries: 0,
      metrics,
      now,
    });
    this.probe = new InterestProbe(link.nc, options, names.control(nodeId, 'probe'));
    this.live = new LiveTopics(ctx, this.local, this.probe);
    this.leases = new Leases(ctx);
    this.replies = new Replies(ctx, this.local);
    this.router = new Router(ctx, this.local, this.replies, engineOptions.persistAll ?? false);
    this.subscriptions = new Subscriptions(ctx, this.local, this.live, this.leases);
    this.tx = new Transactions(
      ctx,
      (vhost, session, message) => this.router.route(vhost, session, message),
      (vhost, message, id) => this.router.deadLetterRoute(vhost, message, id),
    );
    this.admin = new ClusterAdmin(ctx, this.local, () => this.subscriptions.stored);
    link.onReconnect(() => {
      // Pull requests waiting at the old server are gone with the connection.
      ctx.puller.abandonAll();
    });
  }

  /**
   * Connect to NATS (waiting up to `connectTimeout`), create or check the cluster's streams, and
   * return the engine. Throws an Error saying what is wrong when NATS cannot be used.
   */
  static async start(options: ClusterEngineOptions): Promise<ClusterEngine> {
    const resolved = resolveClusterOptions(options);
    const log = options.log ?? (() => undefined);
    const link = await NatsLink.open(resolved, (e: LinkEvent) => {
      switch (e.type) {
        case 'waiting':
          log('warn', `waiting for NATS (attempt ${String(e.attempt)}): ${e.error}`);
          break;
        case 'disconnected':
          log('warn', `NATS connection to ${e.server} lost; reconnecting`);
          break;
        case 'reconnected':
          log('info', `NATS connection restored (${e.server})`);
          break;
        case 'error':
          log('warn', `NATS: ${e.error}`);
          break;
      }
    });
    const topology = new Topology(
      link.jsm,
      new Names(resolved.prefix, resolved.queueShards),
      resolved,
    );
    const deadline = Date.now() + resolved.connectTimeout;
    for (let attempt = 1; ; attempt++) {
      try {
        await topology.ensureStreams();
        await topology.ensureOutboxConsumer();
        break;
      } catch (err) {
        // A cluster still electing leaders answers with timeouts, or finds no suitable peers
        // for an R3 stream until every server has joined the meta group: transient.
        if (Date.now() >= deadline || !transient(err)) {
          await link.close();
          throw err;
        }
        log('warn', `creating the cluster's streams (attempt ${String(attempt)}): ${String(err)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const engine = new ClusterEngine(link, resolved, options);
    engine.tx.start();
    // Control requests from other nodes reach this one from the start.
    await engine.probe.confirm();
    log('info', `cluster node ${engine.ctx.nodeId} connected to ${link.status().server ?? '?'}`);
    return engine;
  }

  /** This node's id in the cluster. */
  get nodeId(): string {
    return this.ctx.nodeId;
  }

  /** The cluster's state as this node sees it (for the admin API). */
  clusterStatus(): Promise<ClusterStatus> {
    return this.admin.status();
  }

  /** For the admin API: the cluster status, and gauges for /metrics. */
  async report(): Promise<EngineReport> {
    const s = await this.admin.status();
    return { state: { cluster: s }, gauges: gaugesOf(s), cluster: clusterReportOf(s) };
  }

  /** Ready while connected to NATS (a node without it can store nothing). */
  ready(): boolean {
    return this.link.state === LinkState.CONNECTED;
  }

  // ---- Engine ----

  publish(
    vhost: string,
    sessionId: string,
    message: Message,
    awaitDurable = true,
  ): MaybePromise<void> {
    const route = this.router.route(vhost, sessionId, message);
    if (route === undefined) return;
    this.ctx.metrics.messageEnqueued();
    const done = send(this.ctx, route);
    if (done === undefined) return;
    if (awaitDurable) return done;
    done.catch((err: unknown) => {
      this.ctx.warn(`publishing to ${message.destination} failed`, err);
    });
    // Nobody waits for storage; the producer waits only while too much is in flight.
    return this.ctx.publisher.room();
  }

  subscribe(request: SubscribeRequest, consumer: Consumer): MaybePromise<ConsumerHandle> {
    return this.subscriptions.subscribe(request, consumer).catch((err: unknown) => {
      throw unavailable(`subscribing to ${request.destination}`, err);
    });
  }

  commit(
    vhost: string,
    sessionId: string,
    ops: readonly TxOp[],
    awaitDurable = true,
  ): MaybePromise<void> {
    return this.tx.commit(vhost, sessionId, ops, awaitDurable);
  }

  async unsubscribeDurable(vhost: string, clientId: string, name: string): Promise<boolean> {
    try {
      return await this.deleteDurable(vhost, clientId, name);
    } catch (err) {
      throw unavailable(`deleting durable subscription ${JSON.stringify(name)}`, err);
    }
  }

  private async deleteDurable(vhost: string, clientId: string, name: string): Promise<boolean> {
    const ctx = this.ctx;
    const lease = ctx.names.durableLease(vhost, clientId, name);
    // Taking the lease proves nobody is attached (and keeps anyone from attaching meanwhile).
    try {
      await this.leases.acquire(lease, 'unsubscribe', name);
    } catch (err) {
      if (err instanceof StompProtocolError && err.code === ErrorCode.INVALID_STATE) {
        throw new StompProtocolError(
          ErrorCode.INVALID_STATE,
          `durable subscription ${JSON.stringify(name)} is in use by another connection`,
        );
      }
      throw err;
    }
    try {
      const consumer = ctx.names.durableConsumer(vhost, clientId, name);
      return await ctx.topology.deleteConsumer(ctx.names.topicStream, consumer);
    } finally {
      await this.leases.release(lease);
    }
  }

  replyAddress(vhost: string, sessionId: string, tempQueue: string): string {
    return this.replies.address(vhost, sessionId, tempQueue);
  }

  sessionClosed(vhost: string, sessionId: string): void {
    this.replies.sessionClosed(vhost, sessionId);
    this.local.sessionClosed(vhost, sessionId);
  }

  purge(vhost: string, destination: string): MaybePromise<number> {
    return this.admin.purge(vhost, destination);
  }

  exists(vhost: string, destination: string): MaybePromise<boolean> {
    return this.admin.exists(vhost, destination);
  }

  onDeleted(listener: (vhost: string, destination: string) => void): void {
    this.admin.deleted.push(listener);
  }

  createDestination(vhost: string, destination: string): MaybePromise<boolean> {
    return this.admin.createDestination(vhost, destination);
  }

  deleteDestination(vhost: string, destination: string): MaybePromise<number> {
    return this.admin.deleteDestination(vhost, destination);
  }

  destinations(vhost?: string): MaybePromise<DestinationInfo[]> {
    return this.admin.destinations(vhost);
  }

  peek(vhost: string, destination: string, limit: number): MaybePromise<PeekedMessage[]> {
    return this.admin.peek(vhost, destination, limit);
  }

  async flush(): Promise<void> {
    await this.link.nc.flush();
  }

  /**
   * Resolves once the node has done what it was asked so far: its publications are stored, and
   * every message JetStream could already hand to one of its subscriptions has arrived (for
   * tests and tools that must tell "not delivered" from "not delivered yet"). Gives up quietly
   * after `timeout` ms.
   */
  async settled(timeout = 5000): Promise<void> {
    const deadline = Date.now() + timeout;
    await this.ctx.publisher.drained();
    await this.link.nc.flush();
    while (Date.now() < deadline) {
      if (!(await this.subscriptions.deliverable())) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // Messages the server wrote before answering the flush have been read by now.
    await this.link.nc.flush();
  }

  stats(): EngineStats {
    const local = this.local.stats();
    let waiting = 0;
    for (const sub of this.subscriptions.stored) waiting += sub.pendingCounts.waiting;
    return {
      memoryBytes: local.memoryBytes + this.ctx.publisher.inflightBytes,
      messages: local.messages + this.ctx.unsettled.size + waiting,
      queues: local.queues + this.subscriptions.stored.size,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- internals ----

  private async shutdown(): Promise<void> {
    this.tx.stop();
    const back = await this.subscriptions.close();
    await this.local.close();
    if (back.length > 0) await this.giveBack(back);
    this.ctx.puller.close();
    await this.probe.close();
    await this.link.close();
  }

  /**
   * NAK the deliveries `back` names (and what still reaches the closed subscriptions meanwhile),
   * oldest first, once JetStream has ended every pull request this node left waiting: a message
   * redelivered to one of those after the connection closed would be lost until the ack wait, or
   * mishandled by nats-server 2.9.10 (delivered twice, in our tests). The node listens until then,
   * renewing what it holds. When NATS is away, the ack wait returns them instead.
   */
  private async giveBack(back: string[]): Promise<void> {
    const nc = this.link.nc;
    const renew = (): void => {
      for (const reply of back) sendAck(nc, reply, AckVerb.WORKING);
    };
    renew();
    const timer = setInterval(renew, Math.max(250, Math.floor(this.options.ackWait / 3)));
    try {
      await this.ctx.puller.settled();
    } finally {
      clearInterval(timer);
    }
    const seq = (reply: string): number => parseAckSubject(reply)?.streamSeq ?? 0;
    for (const reply of [...back].sort((a, b) => seq(a) - seq(b))) sendAck(nc, reply, AckVerb.NAK);
    await flushWithin(nc, this.options.publishTimeout);
  }
}
