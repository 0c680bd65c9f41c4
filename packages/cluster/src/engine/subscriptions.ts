// A node's subscriptions: to queues and durable subscriptions (stored in JetStream, read by
// pulling), to live topics (core NATS into the local engine), and to temporary queues (local).
import type { Consumer, ConsumerHandle, Engine, SubscribeRequest } from '@stompede/broker';
import { DestinationKind, parseDestination } from '@stompede/broker';
import { LEVELS, Level } from '../names.js';
import type { NodeContext } from './context.js';
import type { Leases } from './leases.js';
import type { LiveTopics } from './live-topics.js';
import { BridgedConsumer } from './local-bridge.js';
import type { Msg } from '@nats-io/nats-core';
import { AckVerb, sendAck } from '../nats/ack.js';
import { StoredSubscription, type Waiting, toWaiting } from './stored-subscription.js';

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
  /**
   * Messages of subscriptions that closed, waiting for another subscription of their queue on
   * this node, or to go back to their queue once the closed pull channel retires.
   */
  private parkedList: { readonly w: Waiting; readonly channel: number }[] = [];
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
      const t = Date.now();
      for (const sub of this.stored) sub.renew(t, t - every);
      for (const { w } of this.parkedList) {
        if (w.renewed < t - every) {
          w.renewed = t;
          sendAck(ctx.link.nc, w.msg.reply!, AckVerb.WORKING);
        }
      }
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
        return this.local(request, consumer);
    }
  }

  /**
   * True while JetStream holds a message one of the node's subscriptions has asked for and not
   * yet received (it is on its way): a consumer with messages pending and a request waiting.
   */
  async deliverable(): Promise<boolean> {
    for (const sub of this.stored) {
      for (const source of sub.waitingSources()) {
        const info = await this.ctx.topology.consumerInfo(source.stream, source.consumer);
        if (info !== undefined && info.num_pending > 0 && info.num_waiting > 0) return true;
      }
    }
    return false;
  }

  /**
   * Messages a closing subscription leaves (see StoredSubscription.close), or that its pull
   * channel caught after it closed: to another subscription of the same queue on this node at
   * once, or back to the queue when that channel retires.
   */
  park(parked: readonly Waiting[], channel: number): void {
    for (const w of parked) {
      const taker = [...this.stored].find((s) => s.reads(w.info.consumer));
      if (taker !== undefined) taker.adopt([w]);
      else this.parkedList.push({ w, channel });
    }
    if (!this.ctx.puller.listening(channel)) this.retired(channel);
  }

  /** A message caught by the pull channel `channel` of a closed subscription. */
  caught(msg: Msg, channel: number): void {
    const w = toWaiting(this.ctx, msg);
    if (w !== undefined) this.park([w], channel);
  }

  /** The closed pull channel `channel` brings nothing more: its parked messages go back. */
  retired(channel: number): void {
    const keep: typeof this.parkedList = [];
    for (const p of this.parkedList) {
      if (p.channel === channel) sendAck(this.ctx.link.nc, p.w.msg.reply!, AckVerb.NAK);
      else keep.push(p);
    }
    this.parkedList = keep;
  }

  /** Close every subscription (unsettled deliveries go back) and give back every lease. */
  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    for (const sub of [...this.stored]) await sub.close();
    for (const p of this.parkedList) sendAck(this.ctx.link.nc, p.w.msg.reply!, AckVerb.NAK);
    this.parkedList = [];
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
    for (const level of LEVELS) {
      await ctx.topology.ensureQueueConsumer(
        addr.stream,
        addr.consumer(level),
        addr.subject(level),
        record,
      );
    }
    // Doorbells: the levels the subscription does not wait on tell it when messages arrive.
    const bells = LEVELS.filter((l) => l !== Level.NORMAL).map((l) => ({
      subject: addr.subject(l),
      consumer: addr.consumer(l),
    }));
    const sub = new StoredSubscription(
      ctx,
      request.vhost,
      request.destination,
      consumer,
      request.autoAck,
      LEVELS.map((l) => ({ stream: addr.stream, consumer: addr.consumer(l) })),
      LEVELS.indexOf(Level.NORMAL),
      { idPrefix: 'Q-', key: (info) => ctx.keys.queue(info.streamSeq, addr.shard) },
      (s, parked, channel) => {
        this.stored.delete(s);
        this.park(parked, channel);
        for (const b of bells) {
          const bell = this.doorbells.get(b.subject);
          bell?.subs.delete(s);
          if (bell?.subs.size === 0) {
            bell.sub.unsubscribe();
            this.doorbells.delete(b.subject);
          }
        }
      },
    );
    for (const b of bells) {
      let bell = this.doorbells.get(b.subject);
      if (bell === undefined) {
        const subs = new Set<StoredSubscription>();
        const natsSub = ctx.link.nc.subscribe(b.subject, {
          callback: () => {
            for (const s of subs) s.ring(b.consumer);
          },
        });
        bell = { sub: natsSub, subs };
        this.doorbells.set(b.subject, bell);
      }
      bell.subs.add(sub);
    }
    this.start(sub);
    return sub;
  }

  /** Start `sub`, giving it what closed subscriptions of its queue left on this node. */
  private start(sub: StoredSubscription): void {
    this.stored.add(sub);
    const mine = this.parkedList.filter((p) => sub.reads(p.w.info.consumer));
    if (mine.length > 0) {
      this.parkedList = this.parkedList.filter((p) => !sub.reads(p.w.info.consumer));
      sub.adopt(mine.map((p) => p.w));
    }
    sub.start();
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
      0,
      { idPrefix: `${consumerName}-`, key: (info) => ctx.keys.durable(info.streamSeq) },
      (s, parked, channel) => {
        this.stored.delete(s);
        this.park(parked, channel);
        const released = this.leases.release(lease);
        this.releasing.add(released);
        void released.finally(() => this.releasing.delete(released));
      },
    );
    this.start(sub);
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
