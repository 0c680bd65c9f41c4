// What a node keeps to itself runs on an embedded LocalEngine (memory only): temporary queues and
// the node's share of non-durable topic subscriptions (their fan-out, prefetch, slow-consumer
// drops). This file adapts its deliveries to the cluster: their ack keys move into the node's
// key space (keys.ts), and dead-lettering goes to the cluster's dead-letter queues instead of
// the local engine's own (the local engine runs without a delivery limit; the bridge applies it).
import {
  type Consumer,
  type ConsumerHandle,
  type Delivery,
  type MaybePromise,
  type Message,
  deadLetterQueue,
} from '@stompede/broker';
import type { StompError } from '@stompede/core';
import type { NodeContext } from './context.js';

class BridgedDelivery implements Delivery {
  constructor(
    readonly inner: Delivery,
    readonly ackKey: number,
    readonly idPrefix: string,
  ) {}

  get message(): Message {
    return this.inner.message;
  }

  get deliveryCount(): number {
    return this.inner.deliveryCount;
  }

  get messageId(): string {
    return this.idPrefix + String(this.ackKey);
  }
}

/** A consumer of the local engine standing for a session's consumer. */
export class BridgedConsumer implements Consumer, ConsumerHandle {
  /** Unsettled deliveries by their local key (for the delivery limit and dead-lettering). */
  private readonly unsettled = new Map<number, Delivery>();
  handle: ConsumerHandle | undefined;

  constructor(
    private readonly ctx: NodeContext,
    private readonly vhost: string,
    private readonly outer: Consumer,
    private readonly autoAck: boolean,
    private readonly idPrefix: string,
    /** Called once when the session closes the subscription. */
    private readonly onClose?: () => void,
  ) {}

  // ---- Consumer (called by the local engine) ----

  ready(message: Message): boolean {
    return this.outer.ready(message);
  }

  deliver(delivery: Delivery): void {
    if (!this.autoAck) this.unsettled.set(delivery.ackKey, delivery);
    this.outer.deliver(
      new BridgedDelivery(delivery, this.ctx.keys.local(delivery.ackKey), this.idPrefix),
    );
  }

  detached(reason: StompError): void {
    this.unsettled.clear();
    this.outer.detached?.(reason);
  }

  // ---- ConsumerHandle (called by the session) ----

  ack(ackKey: number, awaitDurable?: boolean): MaybePromise<void> {
    const local = this.ctx.keys.localOf(ackKey);
    if (local < 0 || this.handle === undefined) return;
    this.unsettled.delete(local);
    return this.handle.ack(local, awaitDurable);
  }

  nack(ackKey: number, requeue: boolean, awaitDurable?: boolean): MaybePromise<void> {
    const local = this.ctx.keys.localOf(ackKey);
    const d = this.unsettled.get(local);
    if (local < 0 || d === undefined || this.handle === undefined) return;
    this.unsettled.delete(local);
    const max = this.ctx.maxDeliveries;
    if (requeue && !(max > 0 && d.deliveryCount >= max)) {
      return this.handle.nack(local, true, awaitDurable);
    }
    // Dead-letter it in the cluster (a topic's DLQ is a cluster queue), then settle it here.
    this.ctx.metrics.messageNacked();
    const handle = this.handle;
    const message = d.message;
    if (deadLetterQueue(message.destination) === undefined) {
      this.ctx.metrics.messageDropped();
      return handle.ack(local, false);
    }
    const done = this.ctx
      .deadLetter(this.vhost, message, `L.${this.ctx.nodeId}.${String(d.ackKey)}`)
      .then(() => {
        this.ctx.metrics.messageDeadLettered();
        return handle.ack(local, false);
      });
    if (awaitDurable === false) {
      done.catch((err: unknown) => {
        this.ctx.warn(`dead-lettering ${message.destination} failed`, err);
      });
      return;
    }
    return done;
  }

  resume(): void {
    this.handle?.resume();
  }

  close(): MaybePromise<void> {
    this.unsettled.clear();
    const handle = this.handle;
    if (handle === undefined) return;
    this.handle = undefined;
    this.onClose?.();
    return handle.close();
  }
}
