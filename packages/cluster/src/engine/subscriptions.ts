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
import { flushWithin } from '../nats/link.js';
import { StoredSubscription, type Waiting, toWaiting } from './stored-subscription.js';

interface Doorbell {
  readonly sub: { unsubscribe(): void };
  readonly subs: Set<StoredSubscription>;
}

/** Attaches consumers to destinations. */
/** A message parked on this node (see Subscriptions.park); `done` once it was handed back. */
interface Parked {
  readonly w: Waiting;
  readonly until: number;
  readonly done: () => void;
}

export class Subscriptions {
  /** The node's subscriptions to stored messages. */
  readonly stored = new Set<StoredSubscription>();
  /** Doorbells: queue high-level subject → subscriptions of that queue on this node. */
  private readonly doorbells = new Map<string, Doorbell>();
  /** Lease releases in flight (close waits for them). */
  private readonly releasing = new Set<Promise<void>>();

  private readonly renewTimer: NodeJS.Timeout;
  /** Messages waiting to go back to their queue (see park), for a subscription started meanwhile. */
  private parkedList: Parked[] = [];
  private parkTimer: NodeJS.Timeout | undefined;
  /**
   * Consumers that a subscription being set up on this node will read (count per consumer): what
   * is parked for them waits for it instead of going back to the queue behind newer messages.
   */
  private readonly starting = new Map<string, number>();
  /** Set while the node shuts down: what would go back to a queue is collected instead. */
  private leftover: string[] | undefined;

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
   * Messages a closing subscription leaves (see StoredSubscription.close): another subscription
   * of the same queue on this node takes them at once, or one that starts within `delay` ms;
   * else they go back to the queue then.
   */
  park(parked: readonly Waiting[], delay: number): Promise<void> | undefined {
    const until = Date.now() + delay + 100;
    const handed: Promise<void>[] = [];
    let naked = false;
    for (const w of parked) {
      if (this.leftover !== undefined) {
        this.leftover.push(w.msg.reply!);
        continue;
      }
      const taker = [...this.stored].find((s) => s.reads(w));
      if (taker !== undefined) taker.adopt([w]);
      else if (delay > 0 || this.starting.has(w.info.consumer)) {
        handed.push(new Promise((done) => this.parkedList.push({ w, until, done })));
      } else {
        sendAck(this.ctx.link.nc, w.msg.reply!, AckVerb.NAK);
        naked = true;
      }
    }
    if (naked) handed.push(this.flushed());
    if (this.parkedList.length > 0 && this.parkTimer === undefined) {
      this.parkTimer = setTimeout(() => {
        this.parkTimer = undefined;
        this.unpark(Date.now());
      }, delay + 100);
      this.parkTimer.unref();
    }
    return handed.length === 0 ? undefined : Promise.all(handed).then(() => undefined);
  }

  /** Resolves once the server has what this node sent so far (bounded; never rejects). */
  private flushed(): Promise<void> {
    return flushWithin(this.ctx.link.nc, this.ctx.options.publishTimeout);
  }

  /**
   * Parked messages whose time has come go back to their queue, oldest first (JetStream
   * redelivers in the order the NAKs arrive), unless a subscription that will read them is
   * being set up on this node.
   */
  private unpark(now: number): void {
    const due: Parked[] = [];
    const keep: Parked[] = [];
    let next = Infinity;
    for (const p of this.parkedList) {
      if (this.starting.has(p.w.info.consumer)) keep.push(p);
      else if (p.until <= now) due.push(p);
      else {
        keep.push(p);
        next = Math.min(next, p.until);
      }
    }
    this.parkedList = keep;
    due.sort((a, b) => a.w.info.streamSeq - b.w.info.streamSeq);
    for (const p of due) sendAck(this.ctx.link.nc, p.w.msg.reply!, AckVerb.NAK);
    if (due.length > 0) {
      void this.flushed().then(() => {
        for (const p of due) p.done();
      });
    }
    if (next !== Infinity) void this.park([], Math.max(0, next - now - 100));
  }

  /**
   * Hold back what is parked for `consumers` while a subscription that reads them is set up
   * (its JetStream consumers are created first, which takes round trips): it takes them when it
   * starts. Returns the release, to call once it started or failed.
   */
  private reserve(consumers: readonly string[]): () => void {
    for (const c of consumers) this.starting.set(c, (this.starting.get(c) ?? 0) + 1);
    return () => {
      for (const c of consumers) {
        const n = (this.starting.get(c) ?? 1) - 1;
        if (n > 0) this.starting.set(c, n);
        else this.starting.delete(c);
      }
      this.unpark(Date.now());
    };
  }

  /**
   * A message that reached a subscription just after it closed (it was on its way). Back to the
   * queue it is counted once more than clients saw: JetStream counted its delivery to this node.
   * It goes back with what its queue's closed subscriptions parked, not ahead of them: those are
   * older.
   */
  caught(msg: Msg): void {
    const w = toWaiting(this.ctx, msg);
    if (w === undefined) return;
    const now = Date.now();
    let until = now;
    for (const p of this.parkedList) {
      if (p.w.info.consumer === w.info.consumer) until = Math.max(until, p.until);
    }
    void this.park([w], Math.max(0, until - now - 100));
  }

  /**
   * Close every subscription and give back every lease. Resolves to the reply subjects of the
   * deliveries that must go back to their queues; messages that still reach the node's closed
   * subscriptions (see Puller.settled) are added to the same list.
   */
  async close(): Promise<string[]> {
    clearInterval(this.renewTimer);
    this.leftover = [];
    for (const sub of [...this.stored]) await sub.close();
    clearTimeout(this.parkTimer);
    for (const p of this.parkedList) {
      this.leftover.push(p.w.msg.reply!);
      p.done();
    }
    this.parkedList = [];
    await Promise.all(this.releasing);
    for (const d of this.doorbells.values()) d.sub.unsubscribe();
    this.doorbells.clear();
    return this.leftover;
  }

  private async queue(
    request: SubscribeRequest,
    name: string,
    consumer: Consumer,
  ): Promise<ConsumerHandle> {
    const ctx = this.ctx;
    const addr = ctx.names.queue(request.vhost, name);
    const record = { vhost: request.vhost, queue: name };
    const release = this.reserve(LEVELS.map((l) => addr.consumer(l)));
    try {
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
        (s, parked, delay) => {
          this.stored.delete(s);
          const handed = this.park(parked, delay);
          for (const b of bells) {
            const bell = this.doorbells.get(b.subject);
            bell?.subs.delete(s);
            if (bell?.subs.size === 0) {
              bell.sub.unsubscribe();
              this.doorbells.delete(b.subject);
            }
          }
          return handed;
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
    } finally {
      release();
    }
  }

  /** Start `sub`, giving it what closed subscriptions of its queue parked on this node. */
  private start(sub: StoredSubscription): void {
    this.stored.add(sub);
    const mine = this.parkedList.filter((p) => sub.reads(p.w));
    if (mine.length > 0) {
      this.parkedList = this.parkedList.filter((p) => !sub.reads(p.w));
      sub.adopt(mine.map((p) => p.w));
      for (const p of mine) p.done();
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
    const consumerName = ctx.names.durableConsumer(request.vhost, clientId, name);
    const release = this.reserve([consumerName]);
    try {
      await this.leases.acquire(lease, request.sessionId, name);
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
        [
          {
            stream: ctx.names.topicStream,
            consumer: consumerName,
            filter: ctx.names.topicFilter(request.vhost, topic),
          },
        ],
        0,
        { idPrefix: `${consumerName}-`, key: (info) => ctx.keys.durable(info.streamSeq) },
        (s, parked, delay) => {
          this.stored.delete(s);
          const handed = this.park(parked, delay);
          const released = this.leases.release(lease);
          this.releasing.add(released);
          void released.finally(() => this.releasing.delete(released));
          return handed;
        },
      );
      this.start(sub);
      return sub;
    } finally {
      release();
    }
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
