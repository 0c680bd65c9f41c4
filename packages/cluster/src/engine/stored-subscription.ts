// A STOMP subscription that reads stored messages from JetStream consumers: a `/queue/` (its two
// priority levels) or a durable topic subscription.
//
// The node pulls only what the subscription can take now: its free window (prefetch left, or a
// bounded batch for `auto`) minus what is already owed by open pull requests and waiting here.
// Competing subscriptions on every node pull from the same durable consumer, and JetStream hands
// each message to one pull, so a queue message goes to one consumer cluster-wide.
//
// Priority: a queue has a consumer per level (high = priority 5-9). The subscription asks the
// high level first (without waiting), then waits on the normal level; while it waits, a core
// subscription on the high subject (the "doorbell") tells the node that high messages arrived.
//
// Settling: ACK publishes `+ACK` to the delivery's reply subject (a request when a RECEIPT waits
// for it); NACK publishes `-NAK` (JetStream redelivers it ahead of newer messages) or, past the
// delivery limit or with `requeue:false`, stores a copy in the dead-letter queue and then
// acknowledges the original. Closing NAKs every unsettled delivery for immediate redelivery.
import type { Msg } from '@nats-io/nats-core';
import {
  type Consumer,
  type ConsumerHandle,
  type MaybePromise,
  type Message,
  decodeMessage,
} from '@stompede/broker';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import {
  type AckInfo,
  AckVerb,
  ackConfirmed,
  parseAckSubject,
  sendAck,
  sendNakDelay,
} from '../nats/ack.js';
import { type PullChannel, PullEnd, type PullSink } from '../nats/puller.js';
import type { Held, NodeContext } from './context.js';

/** Messages an `auto` subscription may have pulled and not yet written. */
const AUTO_WINDOW = 64;

/** A JetStream consumer a subscription reads. */
export interface Source {
  readonly stream: string;
  readonly consumer: string;
}

/** How a subscription names its deliveries. */
export interface Identity {
  /** The id prefix of its deliveries (see Delivery.idPrefix). */
  readonly idPrefix: string;
  /** The ack key of a delivery of stream message `info` (see keys.ts). */
  key(info: AckInfo): number;
}

/** A pulled message waiting for its subscription's window. */
interface Waiting {
  readonly msg: Msg;
  readonly info: AckInfo;
  readonly message: Message;
  renewed: number;
}

class StoredDelivery implements Held {
  constructor(
    readonly message: Message,
    readonly ackKey: number,
    readonly idPrefix: string,
    readonly deliveryCount: number,
    readonly reply: string,
    readonly stream: string,
    readonly streamSeq: number,
    public renewed: number,
    readonly owner: StoredSubscription,
  ) {}

  get messageId(): string {
    return this.idPrefix + String(this.ackKey);
  }
}

/** The engine side of a subscription to stored messages. */
export class StoredSubscription implements ConsumerHandle, PullSink {
  private readonly channel: PullChannel;
  private readonly high: Waiting[] = [];
  private readonly normal: Waiting[] = [];
  private readonly held = new Set<StoredDelivery>();
  private closed = false;
  /** A high-level pull without waiting is open. */
  private probing = false;
  /** High-level messages may be waiting (at start, after a doorbell, after a full probe). */
  private highMaybe: boolean;
  private lastMessage: Message | undefined;

  constructor(
    private readonly ctx: NodeContext,
    readonly vhost: string,
    /** The destination subscribed to (a queue, or a durable subscription's topic). */
    readonly destination: string,
    private readonly consumer: Consumer,
    private readonly autoAck: boolean,
    /** Normal level first; a queue's high level second. */
    private readonly sources: readonly Source[],
    private readonly identity: Identity,
    /** Called once when the subscription closes (the engine forgets it). */
    private readonly onClose: (sub: StoredSubscription) => void,
  ) {
    this.channel = ctx.puller.channel(this);
    this.highMaybe = sources.length > 1;
  }

  /** Start pulling. */
  start(): void {
    this.pump();
  }

  /** High-level messages arrived for this queue (the doorbell). */
  ring(): void {
    this.highMaybe = true;
    this.pump(true);
  }

  // ---- PullSink ----

  onMessage(msg: Msg): void {
    const info = parseAckSubject(msg.reply ?? '');
    if (info === undefined) return;
    if (this.closed) {
      sendAck(this.ctx.link.nc, msg.reply!, AckVerb.NAK);
      return;
    }
    let message: Message;
    try {
      message = decodeMessage(msg.data);
    } catch (err) {
      // Not ours to read (published by something else): keep it from blocking the queue.
      this.ctx.warn(`dropping an unreadable message ${info.stream}:${String(info.streamSeq)}`, err);
      sendAck(this.ctx.link.nc, msg.reply!, AckVerb.TERM);
      this.ctx.metrics.messagesDropped++;
      return;
    }
    const max = this.ctx.maxDeliveries;
    if (max > 0 && info.deliveryCount > max) {
      // Delivered too often without an ACK (its consumers died holding it).
      this.deadLetter(msg.reply!, info, message).catch((err: unknown) => {
        this.ctx.warn(`dead-lettering ${info.stream}:${String(info.streamSeq)} failed`, err);
      });
      return;
    }
    const waiting: Waiting = { msg, info, message, renewed: this.ctx.now() };
    if (this.sources.length > 1 && info.consumer === this.sources[1]!.consumer) {
      // More may follow: ask the high level again before waiting on the normal one.
      this.highMaybe = true;
      this.high.push(waiting);
    } else {
      this.normal.push(waiting);
    }
    this.drain();
  }

  onEnded(noWait: boolean, why: PullEnd): void {
    if (noWait) this.probing = false;
    if (why === PullEnd.GONE) {
      this.consumerGone();
      return;
    }
    if (why === PullEnd.LOST) {
      // Silent: its consumer's leader failed over (pull again), or the consumer was deleted.
      void this.checkConsumers();
      return;
    }
    this.pump();
  }

  private async checkConsumers(): Promise<void> {
    try {
      for (const s of this.sources) {
        if ((await this.ctx.topology.consumerInfo(s.stream, s.consumer)) === undefined) {
          this.consumerGone();
          return;
        }
      }
    } catch {
      // JetStream does not answer now: pull again, the next silence checks again.
    }
    this.pump();
  }

  private consumerGone(): void {
    if (this.closed) return;
    const reason = new StompProtocolError(
      ErrorCode.INVALID_STATE,
      'the destination was deleted (its JetStream consumer is gone)',
    );
    void this.close();
    this.consumer.detached?.(reason);
  }

  // ---- ConsumerHandle ----

  ack(ackKey: number, awaitDurable = true): MaybePromise<void> {
    const d = this.take(ackKey);
    if (d === undefined) return;
    this.ctx.metrics.messagesAcked++;
    this.pump();
    if (!awaitDurable) {
      sendAck(this.ctx.link.nc, d.reply, AckVerb.ACK);
      return;
    }
    return ackConfirmed(this.ctx.link.nc, d.reply, this.ctx.options.publishTimeout).catch(
      (err: unknown) => {
        throw new StompProtocolError(
          ErrorCode.INVALID_STATE,
          `the cluster did not confirm the ACK of ${d.messageId} (${String(err)}); ` +
            'the message may be redelivered',
        );
      },
    );
  }

  nack(ackKey: number, requeue: boolean, awaitDurable = true): MaybePromise<void> {
    const d = this.take(ackKey);
    if (d === undefined) return;
    this.ctx.metrics.messagesNacked++;
    const max = this.ctx.maxDeliveries;
    if (requeue && !(max > 0 && d.deliveryCount >= max)) {
      this.ctx.metrics.messagesRequeued++;
      sendAck(this.ctx.link.nc, d.reply, AckVerb.NAK);
      this.pump();
      return;
    }
    const info: AckInfo = {
      stream: d.stream,
      consumer: '',
      deliveryCount: d.deliveryCount,
      streamSeq: d.streamSeq,
    };
    const done = this.deadLetter(d.reply, info, d.message);
    this.pump();
    if (awaitDurable) return done;
    done.catch((err: unknown) => {
      this.ctx.warn(`dead-lettering ${d.messageId} failed`, err);
    });
  }

  resume(): void {
    this.drain();
  }

  close(): MaybePromise<void> {
    if (this.closed) return;
    this.closed = true;
    // Back to the queue, counted as delivered (redelivered:true next time) — once this
    // subscription's waiting pull requests have expired (see PULL_TIMING), at once if none is.
    const delay = Math.max(0, this.channel.quietAt() - this.ctx.now());
    this.channel.close();
    const nc = this.ctx.link.nc;
    const back = (reply: string): void => {
      if (delay === 0) sendAck(nc, reply, AckVerb.NAK);
      else sendNakDelay(nc, reply, delay + 100);
    };
    for (const d of this.held) {
      this.ctx.unsettled.delete(d.ackKey);
      back(d.reply);
    }
    this.held.clear();
    for (const w of [...this.high.splice(0), ...this.normal.splice(0)]) back(w.msg.reply!);
    this.onClose(this);
  }

  /**
   * Take an unsettled delivery out of this subscription for a transaction, which settles it
   * through its reply subject (transactions.ts). Undefined when `ackKey` is not one of ours.
   */
  claim(ackKey: number): Held | undefined {
    const d = this.take(ackKey);
    if (d !== undefined) this.pump();
    return d;
  }

  // ---- internals ----

  /** Tell JetStream that deliveries older than `before` are still being worked on. */
  renew(now: number, before: number): void {
    const nc = this.ctx.link.nc;
    for (const d of this.held) {
      if (d.renewed < before) {
        d.renewed = now;
        sendAck(nc, d.reply, AckVerb.WORKING);
      }
    }
    for (const list of [this.high, this.normal]) {
      for (const w of list) {
        if (w.renewed < before) {
          w.renewed = now;
          sendAck(nc, w.msg.reply!, AckVerb.WORKING);
        }
      }
    }
  }

  /** Unsettled deliveries and messages pulled but not yet delivered. */
  get pendingCounts(): { held: number; waiting: number } {
    return { held: this.held.size, waiting: this.high.length + this.normal.length };
  }

  private take(ackKey: number): StoredDelivery | undefined {
    const d = this.ctx.unsettled.get(ackKey);
    if (!(d instanceof StoredDelivery) || d.owner !== this) return undefined;
    this.ctx.unsettled.delete(ackKey);
    this.held.delete(d);
    return d;
  }

  /** Hand waiting messages to the consumer while it takes them; high level first. */
  private drain(): void {
    const now = this.ctx.now();
    while (!this.closed) {
      const list = this.high.length > 0 ? this.high : this.normal;
      const w = list[0];
      if (w === undefined) break;
      if (w.message.expires > 0 && w.message.expires <= now) {
        list.shift();
        sendAck(this.ctx.link.nc, w.msg.reply!, AckVerb.ACK);
        this.ctx.metrics.messagesDropped++;
        continue;
      }
      this.lastMessage = w.message;
      if (!this.consumer.ready(w.message)) break;
      list.shift();
      this.deliver(w, now);
    }
    this.pump();
  }

  private deliver(w: Waiting, now: number): void {
    const ctx = this.ctx;
    let key = this.identity.key(w.info);
    if (ctx.unsettled.has(key)) key = ctx.keys.spare();
    const d = new StoredDelivery(
      w.message,
      key,
      this.identity.idPrefix,
      w.info.deliveryCount,
      w.msg.reply!,
      w.info.stream,
      w.info.streamSeq,
      now,
      this,
    );
    if (this.autoAck) {
      sendAck(ctx.link.nc, d.reply, AckVerb.ACK);
      ctx.metrics.messagesAcked++;
    } else {
      ctx.unsettled.set(key, d);
      this.held.add(d);
    }
    this.consumer.deliver(d);
  }

  /** How many more messages to ask for now. */
  private credit(): number {
    let window: number;
    if (this.consumer.credit !== undefined) {
      window = Math.min(this.consumer.credit(), AUTO_WINDOW);
    } else if (this.autoAck) {
      window = AUTO_WINDOW;
    } else {
      // Without a window size, ask for one at a time while the consumer takes more.
      window = this.lastMessage === undefined || this.consumer.ready(this.lastMessage) ? 1 : 0;
    }
    return window - this.channel.owed - this.high.length - this.normal.length;
  }

  /** Open pull requests for what the subscription can take. */
  private pump(doorbell = false): void {
    if (this.closed) return;
    let credit = this.credit();
    // A doorbell may open one more request even when the window is taken by a waiting pull:
    // at most one message beyond the window waits here.
    if (doorbell && credit <= 0 && !this.probing) credit = 1;
    if (credit <= 0) return;
    const [normal, high] = this.sources;
    if (high !== undefined && this.highMaybe && !this.probing) {
      this.probing = true;
      this.highMaybe = false;
      this.channel.pull(high.stream, high.consumer, credit, true);
      return;
    }
    if (this.probing) return;
    // One waiting request at a time, unless the window is large enough to keep two busy.
    const waiting = this.channel.pendingFor(normal!.consumer);
    if (waiting >= 2 || (waiting === 1 && credit < 8)) return;
    this.channel.pull(normal!.stream, normal!.consumer, credit);
  }

  /** Store a dead-letter copy, then acknowledge the original. */
  private async deadLetter(reply: string, info: AckInfo, message: Message): Promise<void> {
    await this.ctx.deadLetter(this.vhost, message, `${info.stream}.${String(info.streamSeq)}`);
    this.ctx.metrics.messagesDeadLettered++;
    sendAck(this.ctx.link.nc, reply, AckVerb.ACK);
  }
}
