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
  DestinationKind,
  ORIGINAL_DESTINATION,
  deadLetterQueue,
  encodeMessage,
  parseDestination,
  replyOwner,
} from '@stompede/broker';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { Level, Names, levelOf, nameHash } from '../names.js';
import { InterestProbe } from '../nats/interest.js';
import { type LinkEvent, LinkState, NatsLink } from '../nats/link.js';
import { Publisher } from '../nats/publisher.js';
import { PULL_TIMING, Puller } from '../nats/puller.js';
import { Topology } from '../nats/topology.js';
import {
  type ClusterOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from '../options.js';
import { ClusterAdmin, type ClusterStatus, gaugesOf } from './admin.js';
import type { Held, NodeContext, Route } from './context.js';
import { KeySpace } from './keys.js';
import { Leases } from './leases.js';
import { LiveTopics } from './live-topics.js';
import { BridgedConsumer } from './local-bridge.js';
import { StoredSubscription } from './stored-subscription.js';
import { Transactions, type TxPublish } from './transactions.js';

/** The SEND header that makes a publication idempotent (see docs/cluster.md). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Options of {@link ClusterEngine.start}: the cluster's, plus the broker's engine settings. */
export interface ClusterEngineOptions extends ClusterOptions {
  /** Bytes of message data the node's local part (temp queues, live topics) may hold. */
  readonly memoryLimit?: number;
  /** Deliveries after which a message is dead-lettered; 0 = never. Default 0. */
  readonly maxDeliveries?: number;
  /** Messages a live topic subscription may hold for a slow consumer (oldest dropped beyond). */
  readonly maxTopicPending?: number;
  /** Treat every message as persistent (stored, its RECEIPT after the PubAck). Default false. */
  readonly persistAll?: boolean;
  /** Counters to increment (the broker passes its own). */
  readonly metrics?: Metrics;
  /** Where the node reports connection changes and problems no client sees. */
  readonly log?: (level: 'info' | 'warn', message: string, err?: unknown) => void;
  /** The clock, in ms since the epoch. Default `Date.now`. */
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
  private readonly stored = new Set<StoredSubscription>();
  /** Doorbells: queue high-level subject → subscriptions of that queue on this node. */
  private readonly doorbells = new Map<
    string,
    { sub: { unsubscribe(): void }; subs: Set<StoredSubscription> }
  >();
  private readonly renewTimer: NodeJS.Timeout;
  private publishSeq = 0;
  private readonly persistAll: boolean;
  /** Lease releases in flight (close waits for them). */
  private readonly releasing = new Set<Promise<void>>();
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
    const publisher = new Publisher(link, options.publishTimeout, options.maxInflightBytes);
    const now = engineOptions.now ?? Date.now;
    const ctx: NodeContext = {
      link,
      names,
      options,
      keys: new KeySpace(options.queueShards),
      publisher,
      puller: new Puller(link.nc, `_INBOX.${nodeId}.p`, PULL_TIMING, (msg) => {
        // A message for a subscription that has closed: straight back to its queue.
        if (msg.reply !== undefined && msg.reply !== '') link.nc.publish(msg.reply, '-NAK');
      }),
      topology: new Topology(link.jsm, names, options),
      metrics,
      maxDeliveries: engineOptions.maxDeliveries ?? 0,
      unsettled: new Map<number, Held>(),
      now,
      nodeId,
      deadLetter: (vhost, message, id) => this.deadLetter(vhost, message, id),
      warn: (message, err) => {
        log('warn', message, err);
      },
    };
    this.ctx = ctx;
    this.persistAll = engineOptions.persistAll ?? false;
    this.local = new LocalEngine({
      ...(engineOptions.memoryLimit === undefined
        ? {}
        : { memoryLimit: engineOptions.memoryLimit }),
      ...(engineOptions.maxTopicPending === undefined
        ? {}
        : { maxTopicPending: engineOptions.maxTopicPending }),
      // The bridge applies the delivery limit, dead-lettering into the cluster.
      maxDeliveries: 0,
      metrics,
      now,
    });
    this.probe = new InterestProbe(link.nc, options, names.control(nodeId, 'probe'));
    this.live = new LiveTopics(ctx, this.local, this.probe);
    this.leases = new Leases(ctx);
    this.tx = new Transactions(
      ctx,
      (vhost, session, message) => this.route(vhost, session, message),
      (vhost, message, id) => this.deadLetterRoute(vhost, message, id),
    );
    this.admin = new ClusterAdmin(ctx, this.local, () => this.stored);
    link.nc.subscribe(names.replySubjects(nodeId), {
      callback: (_err, msg) => {
        this.admin.receiveReply(msg);
      },
    });
    link.onReconnect(() => {
      // Pull requests waiting at the old server are gone with the connection.
      ctx.puller.abandonAll();
    });
    // Renew unsettled deliveries well within the ack wait, so only a dead node's come back.
    const every = Math.max(250, Math.floor(options.ackWait / 3));
    this.renewTimer = setInterval(() => {
      const t = now();
      for (const sub of this.stored) sub.renew(t, t - every);
    }, every);
    this.renewTimer.unref();
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
        // A cluster still electing leaders answers with timeouts for a while.
        if (Date.now() >= deadline || !/timeout|no responders|not enabled/i.test(String(err))) {
          await link.close();
          throw err;
        }
        log('warn', `creating the cluster's streams (attempt ${String(attempt)}): ${String(err)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const engine = new ClusterEngine(link, resolved, options);
    engine.tx.start();
    // Replies and control requests from other nodes reach this one from the start.
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
    return { state: { cluster: s }, gauges: gaugesOf(s) };
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
    const route = this.route(vhost, sessionId, message);
    if (route === undefined) return;
    this.ctx.metrics.messagesEnqueued++;
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
    const dest = parseDestination(request.destination);
    switch (dest.kind) {
      case DestinationKind.QUEUE:
        return this.subscribeQueue(request, dest.name, consumer);
      case DestinationKind.TOPIC:
        return request.durable === undefined
          ? this.subscribeLive(request, dest.name, consumer)
          : this.subscribeDurable(request, dest.name, consumer);
      default:
        // Temporary queues and reply addresses: this node's own.
        return this.subscribeLocal(
          { ...request, sessionId: this.localSession(request.sessionId) },
          consumer,
        );
    }
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
    return this.local.replyAddress(vhost, this.localSession(sessionId), tempQueue);
  }

  sessionClosed(vhost: string, sessionId: string): void {
    this.local.sessionClosed(vhost, this.localSession(sessionId));
  }

  purge(vhost: string, destination: string): MaybePromise<number> {
    return this.admin.purge(vhost, destination);
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

  stats(): EngineStats {
    const local = this.local.stats();
    let waiting = 0;
    for (const sub of this.stored) waiting += sub.pendingCounts.waiting;
    return {
      memoryBytes: local.memoryBytes + this.ctx.publisher.inflightBytes,
      messages: local.messages + this.ctx.unsettled.size + waiting,
      queues: local.queues + this.stored.size,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- internals ----

  private async shutdown(): Promise<void> {
    clearInterval(this.renewTimer);
    this.tx.stop();
    for (const sub of [...this.stored]) await sub.close();
    await Promise.all(this.releasing);
    for (const d of this.doorbells.values()) d.sub.unsubscribe();
    this.doorbells.clear();
    await this.local.close();
    this.ctx.puller.close();
    await this.probe.close();
    await this.link.close();
  }

  /** The local engine's name for a session: unique in the cluster, routable to this node. */
  private localSession(sessionId: string): string {
    return `${this.ctx.nodeId}~${sessionId}`;
  }

  /**
   * Where `message` goes and how; undefined when it is dropped at once (expired). Transactions
   * record stored and core routes in their outbox and replay them (transactions.ts).
   */
  private route(vhost: string, sessionId: string, message: Message): Route | undefined {
    const ctx = this.ctx;
    if (this.persistAll) message = message.asPersistent();
    const dest = parseDestination(message.destination);
    if (message.expires > 0 && message.expires <= ctx.now()) {
      ctx.metrics.messagesDropped++;
      return undefined;
    }
    switch (dest.kind) {
      case DestinationKind.QUEUE: {
        const addr = ctx.names.queue(vhost, dest.name);
        return {
          kind: 'stored',
          subject: addr.subject(levelOf(message.priority)),
          payload: this.payload(message),
          msgId: this.messageId(vhost, message),
        };
      }
      case DestinationKind.TOPIC: {
        const subject = ctx.names.topicSubject(vhost, dest.name);
        // Persistent: stored for durable subscriptions (the PubAck says so); live ones get it too.
        return {
          kind: message.persistent ? 'stored' : 'live',
          subject,
          payload: this.payload(message),
          msgId: this.messageId(vhost, message),
        };
      }
      case DestinationKind.TEMP_QUEUE:
        return {
          kind: 'local',
          send: () => promiseOf(this.local.publish(vhost, this.localSession(sessionId), message)),
        };
      default: {
        // A reply address: /reply-queue/<node>~<session>/<name>.
        const owner = replyOwner(dest.name);
        const node = owner.slice(0, owner.indexOf('~'));
        if (node === ctx.nodeId || node === '') {
          return {
            kind: 'local',
            send: () => promiseOf(this.local.publish(vhost, sessionId, message)),
          };
        }
        // At most once, as a temporary queue is: it dies with its session and node.
        return {
          kind: 'core',
          subject: ctx.names.replySubject(node, vhost, dest.name),
          payload: this.payload(message),
          msgId: this.messageId(vhost, message),
        };
      }
    }
  }

  /** The message as stored, checked against the servers' payload limit. */
  private payload(message: Message): Uint8Array {
    const payload = encodeMessage(message);
    const max = this.link.status().maxPayload - 1024;
    if (payload.length > max) {
      throw new StompProtocolError(
        ErrorCode.BODY_TOO_LARGE,
        `message of ${String(payload.length)} bytes is over the cluster's limit of ` +
          `${String(max)} (NATS max_payload less 1 KiB for headers)`,
        { header: 'content-length' },
      );
    }
    return payload;
  }

  /** The JetStream message id of a publication: the producer's idempotency key, or a fresh one. */
  private messageId(vhost: string, message: Message): string {
    const headers = message.headers;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === IDEMPOTENCY_HEADER) {
        return `k.${nameHash(vhost, message.destination, headers[i + 1] ?? '')}`;
      }
    }
    return `${this.ctx.nodeId}.${String(++this.publishSeq)}`;
  }

  private async subscribeQueue(
    request: SubscribeRequest,
    name: string,
    consumer: Consumer,
  ): Promise<ConsumerHandle> {
    const ctx = this.ctx;
    const addr = ctx.names.queue(request.vhost, name);
    const record = { vhost: request.vhost, queue: name };
    for (const level of [Level.NORMAL, Level.HIGH]) {
      await ctx.topology.ensureQueueConsumer(
        addr.stream,
        addr.consumer(level),
        addr.subject(level),
        record,
      );
    }
    const doorbell = addr.subject(Level.HIGH);
    const sub = new StoredSubscription(
      ctx,
      request.vhost,
      request.destination,
      consumer,
      request.autoAck,
      [
        { stream: addr.stream, consumer: addr.consumer(Level.NORMAL) },
        { stream: addr.stream, consumer: addr.consumer(Level.HIGH) },
      ],
      { idPrefix: 'Q-', key: (info) => ctx.keys.queue(info.streamSeq, addr.shard) },
      (s) => {
        this.stored.delete(s);
        const bell = this.doorbells.get(doorbell);
        bell?.subs.delete(s);
        if (bell?.subs.size === 0) {
          bell.sub.unsubscribe();
          this.doorbells.delete(doorbell);
        }
      },
    );
    let bell = this.doorbells.get(doorbell);
    if (bell === undefined) {
      const subs = new Set<StoredSubscription>();
      const natsSub = ctx.link.nc.subscribe(doorbell, {
        callback: () => {
          for (const s of subs) s.ring();
        },
      });
      bell = { sub: natsSub, subs };
      this.doorbells.set(doorbell, bell);
    }
    bell.subs.add(sub);
    this.stored.add(sub);
    sub.start();
    return sub;
  }

  private async subscribeDurable(
    request: SubscribeRequest,
    topic: string,
    consumer: Consumer,
  ): Promise<ConsumerHandle> {
    const ctx = this.ctx;
    const { clientId, name } = request.durable!;
    const lease = ctx.names.durableLease(request.vhost, clientId, name);
    await this.leases.acquire(lease, request.sessionId, name);
    const consumerName = ctx.names.durableConsumer(request.vhost, clientId, name);
    try {
      await ctx.topology.ensureDurableConsumer(consumerName, {
        vhost: request.vhost,
        clientId,
        name,
        topic,
      });
    } catch (err) {
      await this.leases.release(lease);
      throw err;
    }
    const sub = new StoredSubscription(
      ctx,
      request.vhost,
      request.destination,
      consumer,
      request.autoAck,
      [{ stream: ctx.names.topicStream, consumer: consumerName }],
      { idPrefix: `${consumerName}-`, key: (info) => ctx.keys.durable(info.streamSeq) },
      (s) => {
        this.stored.delete(s);
        const released = this.leases.release(lease);
        this.releasing.add(released);
        void released.finally(() => this.releasing.delete(released));
      },
    );
    this.stored.add(sub);
    sub.start();
    return sub;
  }

  private async subscribeLive(
    request: SubscribeRequest,
    pattern: string,
    consumer: Consumer,
  ): Promise<ConsumerHandle> {
    await this.live.attach(request.vhost, pattern);
    try {
      return await this.subscribeLocal(request, consumer, () => {
        this.live.detach(request.vhost, pattern);
      });
    } catch (err) {
      this.live.detach(request.vhost, pattern);
      throw err;
    }
  }

  private async subscribeLocal(
    request: SubscribeRequest,
    consumer: Consumer,
    onClose?: () => void,
  ): Promise<ConsumerHandle> {
    const bridged = new BridgedConsumer(
      this.ctx,
      request.vhost,
      consumer,
      request.autoAck,
      `L${this.ctx.nodeId}-`,
      onClose,
    );
    bridged.handle = await this.local.subscribe(request, bridged);
    return bridged;
  }

  /** Where the dead-letter copy of `message` goes; undefined when it is dropped instead. */
  private deadLetterRoute(vhost: string, message: Message, id: string): TxPublish | undefined {
    const dlq = deadLetterQueue(message.destination);
    if (dlq === undefined) return undefined;
    const copy = message.redirect(dlq, [ORIGINAL_DESTINATION, message.destination]);
    const addr = this.ctx.names.queue(vhost, dlq.slice('/queue/'.length));
    return {
      subject: addr.subject(levelOf(copy.priority)),
      msgId: `dlq.${id}`,
      core: false,
      payload: encodeMessage(copy),
    };
  }

  /** Store a dead-letter copy of `message` (once per `id`). */
  private async deadLetter(vhost: string, message: Message, id: string): Promise<void> {
    const route = this.deadLetterRoute(vhost, message, id);
    if (route === undefined) {
      this.ctx.metrics.messagesDropped++;
      return;
    }
    await this.ctx.publisher.publish(route.subject, route.payload, route.msgId);
  }
}

/** Start a publication along `route`; the promise settles when it is stored or handed on. */
export function send(ctx: NodeContext, route: Route): Promise<void> | undefined {
  switch (route.kind) {
    case 'stored':
      return ctx.publisher.publish(route.subject, route.payload, route.msgId).then(() => undefined);
    case 'live':
    case 'core': {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', route.msgId);
      ctx.link.nc.publish(route.subject, route.payload, { headers: h });
      return undefined;
    }
    case 'local':
      return route.send();
  }
}

function promiseOf(result: MaybePromise<void>): Promise<void> | undefined {
  return result instanceof Promise ? result : undefined;
}
