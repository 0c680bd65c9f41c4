// A STOMP subscription that reads stored messages from JetStream consumers: a `/queue/` (its two
// priority levels) or a durable topic subscription.
//
// The node pulls only what the subscription can take now: its free window (prefetch left, or a
// bounded batch for `auto`) minus what is already owed by open pull requests and waiting here.
// Competing subscriptions on every node pull from the same durable consumer, and JetStream hands
// each message to one pull, so a queue message goes to one consumer cluster-wide.
//
// Priority: a queue has a consumer per level (high = priority 5-9, normal = 4, the default, and
// low = 0-3). The subscription asks each level that may hold messages, highest first, without
// waiting, then waits on the normal level; while it waits, core subscriptions on the high and low
// subjects (the "doorbells") tell the node that such messages arrived.
//
// Settling: ACK publishes `+ACK` to the delivery's reply subject (a request when a RECEIPT waits
// for it); NACK with requeue puts the message back at the head of this subscription's waiting
// messages (a `-NAK` would let JetStream hand newer messages, already pulled, out first) or, past the
// delivery limit or with `requeue:false`, stores a copy in the dead-letter queue and then
// acknowledges the original. Closing NAKs every unsettled delivery for immediate redelivery.
import type { Msg } from '@nats-io/nats-core';
import {
  type Consumer,
  type ConsumerHandle,
  type MaybePromise,
  type Message,
  Message as MessageClass,
  decodeMessage,
} from '@stompede/broker';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import { type AckInfo, AckVerb, ackConfirmed, parseAckSubject, sendAck } from '../nats/ack.js';
import { RETRIED_HEADER } from '../nats/publisher.js';
import { type PullChannel, PullEnd, type PullSink } from '../nats/puller.js';
import { subjectMatches } from '../names.js';
import type { Held, NodeContext } from './context.js';

/** Messages an `auto` subscription may have pulled and not yet written. */
const AUTO_WINDOW = 64;

/** A JetStream consumer a subscription reads. */
export interface Source {
  readonly stream: string;
  readonly consumer: string;
  /**
   * The consumer's subject filter, when a consumer of this name may have read other subjects
   * before: a durable subscription moved to another topic replaces its consumer under the same
   * name, and what the replaced one pulled (parked or caught on this node) is not for this one.
   */
  readonly filter?: string;
}

/** True when `w` was pulled from `source`'s consumer (see Source.filter). */
function from(source: Source, w: Waiting): boolean {
  return (
    source.consumer === w.info.consumer &&
    (source.filter === undefined || subjectMatches(source.filter, w.msg.subject))
  );
}

/** A source, what was pulled from it and not yet delivered, and whether it may hold more. */
interface Level {
  readonly source: Source;
  readonly waiting: Waiting[];
  /** Messages may be waiting there (at start, after a doorbell, after one came from it). */
  maybe: boolean;
}

/** Asks a consumer without Consumer.credit() whether it takes anything now. */
const PROBE = new MessageClass('/queue/-', [], new Uint8Array(0));

/** How a subscription names its deliveries. */
export interface Identity {
  /** The id prefix of its deliveries (see Delivery.idPrefix). */
  readonly idPrefix: string;
  /** The ack key of a delivery of stream message `info` (see keys.ts). */
  key(info: AckInfo): number;
}

/** A pulled message waiting for its subscription's window (or, parked, for a subscription). */
export interface Waiting {
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
    /** The pulled message and its acknowledgment info. */
    readonly msg: Msg,
    readonly info: AckInfo,
    public renewed: number,
    readonly owner: StoredSubscription,
  ) {}

  get deliveryCount(): number {
    return this.info.deliveryCount;
  }

  get reply(): string {
    return this.msg.reply!;
  }

  get stream(): string {
    return this.info.stream;
  }

  get streamSeq(): number {
    return this.info.streamSeq;
  }

  get messageId(): string {
    return this.idPrefix + String(this.ackKey);
  }
}

/** An unsettled delivery to hand out again: clients saw it, so the next delivery counts one more. */
function redelivery(d: StoredDelivery): Waiting {
  return {
    msg: d.msg,
    info: { ...d.info, deliveryCount: d.deliveryCount + 1 },
    message: d.message,
    renewed: d.renewed,
  };
}

/**
 * A pulled message read: its acknowledgment info and its message. Undefined (and settled) when
 * it is not a stompede message: TERM keeps it from blocking its queue.
 */
export function toWaiting(ctx: NodeContext, msg: Msg): Waiting | undefined {
  let info = parseAckSubject(msg.reply ?? '');
  if (info === undefined) return undefined;
  // A copy stored by a publish retried after a timeout may duplicate one stored by the timed-out
  // attempt (publisher.ts): it counts as delivered once already, so clients see redelivered.
  if (msg.headers?.has(RETRIED_HEADER) === true) {
    info = { ...info, deliveryCount: info.deliveryCount + 1 };
  }
  try {
    return { msg, info, message: decodeMessage(msg.data), renewed: Date.now() };
  } catch (err) {
    ctx.warn(`dropping an unreadable message ${info.stream}:${String(info.streamSeq)}`, err);
    sendAck(ctx.link.nc, msg.reply!, AckVerb.TERM);
    ctx.metrics.messageDropped();
    return undefined;
  }
}

/** The engine side of a subscription to stored messages. */
export class StoredSubscription implements ConsumerHandle, PullSink {
  private readonly channel: PullChannel;
  /** Highest priority first. */
  private readonly levels: Level[];
  /** The level whose consumer the subscription waits on (a queue's normal one). */
  private readonly waitLevel: Level;
  private readonly held = new Set<StoredDelivery>();
  private closed = false;
  /** A pull without waiting (a probe of a level) is open. */
  private probing = false;

  constructor(
    private readonly ctx: NodeContext,
    readonly vhost: string,
    /** The destination subscribed to (a queue, or a durable subscription's topic). */
    readonly destination: string,
    private readonly consumer: Consumer,
    private readonly autoAck: boolean,
    /** Highest priority first. */
    private readonly sources: readonly Source[],
    /** The index in `sources` of the consumer to wait on. */
    waitIndex: number,
    private readonly identity: Identity,
    /**
     * Called once when the subscription closes, with what it leaves and the ms before it may go
     * back to the queue (see close()); resolves once all of it is handed back.
     */
    private readonly onClose: (
      sub: StoredSubscription,
      parked: Waiting[],
      delay: number,
    ) => Promise<void> | undefined,
  ) {
    this.channel = ctx.puller.channel(this);
    this.levels = sources.map((source) => ({ source, waiting: [], maybe: true }));
    this.waitLevel = this.levels[waitIndex]!;
  }

  /** Start pulling. */
  start(): void {
    this.pump();
  }

  /** Messages arrived on the level that reads `consumer` (its doorbell). */
  ring(consumer: string): void {
    const level = this.levels.find((l) => l.source.consumer === consumer);
    if (level === undefined) return;
    level.maybe = true;
    this.pump(true);
  }

  // ---- PullSink ----

  onMessage(msg: Msg): void {
    const w = toWaiting(this.ctx, msg);
    if (w === undefined) return;
    const { info, message } = w;
    const max = this.ctx.maxDeliveries;
    if (max > 0 && info.deliveryCount > max) {
      // Delivered too often without an ACK (its consumers died holding it).
      this.deadLetter(msg.reply!, info, message).catch((err: unknown) => {
        this.ctx.warn(`dead-lettering ${info.stream}:${String(info.streamSeq)} failed`, err);
      });
      return;
    }
    const level = this.levelOf(info);
    // More may wait: ask this level again before waiting. JetStream says how many it had not yet
    // handed out; a redelivery hints at more (those are not in that count). Otherwise the waiting
    // request comes next, without a probe answered "nothing left" first: one round trip, a write
    // and a read less per message while the queue keeps up.
    if (info.pending > 0 || info.deliveryCount > 1) level.maybe = true;
    level.waiting.push(w);
    this.drain();
  }

  onEnded(noWait: boolean, why: PullEnd): void {
    if (noWait) this.probing = false;
    if (why === PullEnd.GONE) {
      this.consumerGone();
      return;
    }
    // LOST: unanswered, as when the consumer's leader fails over: ask again. (A consumer deleted
    // through stompede is announced to every node; one deleted while a request waits answers
    // 409, GONE.)
    this.pump();
  }

  /** Detach: the destination is gone (the consumer is told why). */
  detach(reason: StompProtocolError): void {
    if (this.closed) return;
    void this.close();
    this.consumer.detached?.(reason);
  }

  private consumerGone(): void {
    this.detach(
      new StompProtocolError(
        ErrorCode.INVALID_STATE,
        'the destination was deleted (its JetStream consumer is gone)',
      ),
    );
  }

  // ---- ConsumerHandle ----

  ack(ackKey: number, awaitDurable = true): MaybePromise<void> {
    const d = this.take(ackKey);
    if (d === undefined) return;
    this.ctx.metrics.messageAcked();
    // The window reopens when the session says so (resume()).
    if (!awaitDurable) {
      sendAck(this.ctx.link.nc, d.reply, AckVerb.ACK);
      return;
    }
    return ackConfirmed(this.ctx.link.nc, d.reply, this.ctx.options.publishTimeout).catch(
      (err: unknown) => {
        throw new StompProtocolError(
          ErrorCode.UNAVAILABLE,
          `the cluster did not confirm the ACK of ${d.messageId} (${String(err)}); ` +
            'the message may be redelivered',
        );
      },
    );
  }

  nack(ackKey: number, requeue: boolean, awaitDurable = true): MaybePromise<void> {
    const d = this.take(ackKey);
    if (d === undefined) return;
    this.ctx.metrics.messageNacked();
    const max = this.ctx.maxDeliveries;
    if (requeue && !(max > 0 && d.deliveryCount >= max)) {
      this.ctx.metrics.messageRequeued();
      // Requeued here, ahead of what was pulled since (a NAK would let JetStream hand those out
      // first). It goes back to JetStream when this subscription closes, like any message it holds.
      this.insert(this.levelOf(d.info), redelivery(d));
      this.drain();
      return;
    }
    const info: AckInfo = {
      stream: d.stream,
      consumer: '',
      deliveryCount: d.deliveryCount,
      streamSeq: d.streamSeq,
      pending: 0,
    };
    const done = this.deadLetter(d.reply, info, d.message);
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
    // Its unsettled deliveries (a client saw them: the next delivery counts one more) and what
    // was pulled for it go to another subscription of the same queue on this node, or back to
    // the queue (see Subscriptions.park).
    const parked: Waiting[] = [];
    const max = this.ctx.maxDeliveries;
    for (const d of this.held) {
      this.ctx.unsettled.delete(d.ackKey);
      if (max > 0 && d.deliveryCount >= max) {
        // Requeued past the limit: dead-lettered, as a NACK would be.
        this.deadLetter(d.reply, d.info, d.message).catch((err: unknown) => {
          this.ctx.warn(`dead-lettering ${d.messageId} failed`, err);
        });
        continue;
      }
      parked.push(redelivery(d));
    }
    this.held.clear();
    for (const level of this.levels) parked.push(...level.waiting.splice(0));
    // What goes back to the queue goes once this subscription's waiting request has expired
    // (see PULL_TIMING): JetStream would try that stale request first.
    const delay = Math.max(0, this.channel.quietAt() - Date.now());
    this.channel.close();
    // Settles once what it left is handed back: taken by a subscription on this node, or NAKed.
    return this.onClose(this, parked, delay);
  }

  /** True when this open subscription reads the consumer `w` was pulled from (it can take it). */
  reads(w: Waiting): boolean {
    return !this.closed && this.levels.some((l) => from(l.source, w));
  }

  /** Take over messages parked by a subscription of the same queue that closed on this node. */
  adopt(parked: readonly Waiting[]): void {
    for (const w of parked) {
      const level = this.levels.find((l) => from(l.source, w));
      if (level !== undefined) this.insert(level, w);
    }
    this.drain();
  }

  /** Queue `w` on `level` in stream order: ahead of what was pulled since. */
  private insert(level: Level, w: Waiting): void {
    let i = 0;
    while (i < level.waiting.length && level.waiting[i]!.info.streamSeq < w.info.streamSeq) i++;
    level.waiting.splice(i, 0, w);
  }

  private levelOf(info: AckInfo): Level {
    return this.levels.find((l) => l.source.consumer === info.consumer) ?? this.waitLevel;
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
    for (const level of this.levels) {
      for (const w of level.waiting) {
        if (w.renewed < before) {
          w.renewed = now;
          sendAck(nc, w.msg.reply!, AckVerb.WORKING);
        }
      }
    }
  }

  /** The consumers this subscription has a pull request waiting at. */
  waitingSources(): Source[] {
    return this.sources.filter((s) => this.channel.pendingFor(s.consumer) > 0);
  }

  /** Unsettled deliveries and messages pulled but not yet delivered. */
  get pendingCounts(): { held: number; waiting: number } {
    return { held: this.held.size, waiting: this.waitingCount() };
  }

  private take(ackKey: number): StoredDelivery | undefined {
    const d = this.ctx.unsettled.get(ackKey);
    if (!(d instanceof StoredDelivery) || d.owner !== this) return undefined;
    this.ctx.unsettled.delete(ackKey);
    this.held.delete(d);
    return d;
  }

  private waitingCount(): number {
    let n = 0;
    for (const level of this.levels) n += level.waiting.length;
    return n;
  }

  /** Hand waiting messages to the consumer while it takes them; highest level first. */
  private drain(): void {
    const now = Date.now();
    const clock = this.ctx.clock();
    while (!this.closed) {
      const list = this.levels.find((l) => l.waiting.length > 0)?.waiting;
      const w = list?.[0];
      if (list === undefined || w === undefined) break;
      if (w.message.expires > 0 && w.message.expires <= clock) {
        list.shift();
        sendAck(this.ctx.link.nc, w.msg.reply!, AckVerb.ACK);
        this.ctx.metrics.messageDropped();
        continue;
      }
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
    const d = new StoredDelivery(w.message, key, this.identity.idPrefix, w.msg, w.info, now, this);
    if (this.autoAck) {
      sendAck(ctx.link.nc, d.reply, AckVerb.ACK);
      ctx.metrics.messageAcked();
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
      window = this.consumer.ready(PROBE) ? AUTO_WINDOW : 0;
    } else {
      // Without a window size, ask for one at a time while the consumer takes more.
      window = this.consumer.ready(PROBE) ? 1 : 0;
    }
    return window - this.channel.owed - this.waitingCount();
  }

  /**
   * Open pull requests for what the subscription can take. Levels that may hold messages are
   * asked without waiting (as many as the window takes), highest first; when none does, the
   * subscription waits on its normal level with a single request for one message: the only
   * request that can outlive the subscription (JetStream cannot withdraw a waiting request).
   */
  private pump(doorbell = false): void {
    if (this.closed || this.probing) return;
    let credit = this.credit();
    // A doorbell may open one more request even when the window is taken by the waiting one:
    // at most one message beyond the window waits here.
    if (doorbell && credit <= 0) credit = 1;
    if (credit <= 0) return;
    for (const level of this.levels) {
      if (!level.maybe) continue;
      level.maybe = false;
      this.probing = true;
      this.channel.pull(level.source.stream, level.source.consumer, credit, true);
      return;
    }
    const source = this.waitLevel.source;
    if (this.channel.pendingFor(source.consumer) > 0) return;
    this.channel.pull(source.stream, source.consumer, 1);
  }

  /** Store a dead-letter copy, then acknowledge the original. */
  private async deadLetter(reply: string, info: AckInfo, message: Message): Promise<void> {
    await this.ctx.deadLetter(this.vhost, message, `${info.stream}.${String(info.streamSeq)}`);
    this.ctx.metrics.messageDeadLettered();
    sendAck(this.ctx.link.nc, reply, AckVerb.ACK);
  }
}
