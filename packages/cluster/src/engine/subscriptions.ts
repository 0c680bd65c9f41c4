// A node's subscriptions: to queues and durable subscriptions (stored in JetStream, read by
// pulling), to live topics (core NATS into the local engine), and to temporary queues (local).
import type { Consumer, ConsumerHandle, Engine, SubscribeRequest } from '@stompede/broker';
import { DestinationKind, parseDestination } from '@stompede/broker';
import { Level } from '../names.js';
import type { NodeContext } from './context.js';
import type { Leases } from './leases.js';
import type { LiveTopics } from './live-topics.js';
import { BridgedConsumer } from './local-bridge.js';
import { localSession } from './router.js';
import { StoredSubscription } from './stored-subscription.js';

interface Doorbell {
  readonly sub: { unsubscribe(): void };
  readonly subs: Set<StoredSubscription>;
}

/** Attaches consumers to destinations. */
export class Subscriptions {
  /** The node's subscriptions to stored messages. */
  readonly stored = new Set<StoredSubscription>();
  /** Doorbells: queue high-level subject → subscriptions of that queue on this node. */
  private readonly doorbells = new Map<string, Doorbell>();
  /** Lease releases in flight (close waits for them). */
  private readonly releasing = new Set<Promise<void>>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly ctx: NodeContext,
    private readonly localEngine: Engine,
    private readonly topics: LiveTopics,
    private readonly leases: Leases,
  ) {
    // Renew unsettled deliveries well within the ack wait, so only a dead node's come back.
    const every = Math.max(250, Math.floor(ctx.options.ackWait / 3));
    this.renewTimer = setInterval(() => {
      const t = ctx.now();
      for (const sub of this.stored) sub.renew(t, t - every);
    }, every);
    this.renewTimer.unref();
  }

  /** Attach `consumer` to the request's destination. */
  subscribe(request: SubscribeRequest, consumer: Consumer): Promise<ConsumerHandle> {
    const dest = parseDestination(request.destination);
    switch (dest.kind) {
      case DestinationKind.QUEUE:
        return this.queue(request, dest.name, consumer);
      case DestinationKind.TOPIC:
        return request.durable === undefined
          ? this.live(request, dest.name, consumer)
          : this.durable(request, dest.name, consumer);
      default:
        // Temporary queues and reply addresses: this node's own.
        return this.local(
          { ...request, sessionId: localSession(this.ctx.nodeId, request.sessionId) },
          consumer,
        );
    }
  }

  /** Close every subscription (unsettled deliveries go back) and give back every lease. */
  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    for (const sub of [...this.stored]) await sub.close();
    await Promise.all(this.releasing);
    for (const d of this.doorbells.values()) d.sub.unsubscribe();
    this.doorbells.clear();
  }

  private async queue(
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

  private async durable(
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

  private async live(
    request: SubscribeRequest,
    pattern: string,
    consumer: Consumer,
  ): Promise<ConsumerHandle> {
    await this.topics.attach(request.vhost, pattern);
    try {
      return await this.local(request, consumer, () => {
        this.topics.detach(request.vhost, pattern);
      });
    } catch (err) {
      this.topics.detach(request.vhost, pattern);
      throw err;
    }
  }

  private async local(
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
    bridged.handle = await this.localEngine.subscribe(request, bridged);
    return bridged;
  }
}
