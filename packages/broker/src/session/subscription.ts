// The session side of one subscription: ack mode, prefetch window, unacknowledged deliveries,
// and the per-delivery MESSAGE encoding.
import type { AckMode, StompVersion } from '@stompede/core';
import { SeqDelivery } from '../delivery.js';
import { headerText } from '../encode.js';
import type { Consumer, ConsumerHandle, Delivery, MaybePromise } from '../engine.js';
import type { Message } from '../message.js';
import type { AckIndex, AckKey } from './ack-index.js';

/** The session a subscription delivers on. */
export interface SubscriptionOwner {
  /** The session's version (fixed once connected). */
  readonly version: StompVersion;
  /** False while the session cannot take more output (its stream is full, or it is ending). */
  readonly writable: boolean;
  /** The session's unacknowledged deliveries. */
  readonly acks: AckIndex<Subscription>;
  /** Write one MESSAGE frame (see `writeMessage` in message-writer.ts). */
  writeMessage(
    prefix: Uint8Array,
    idText: string,
    idNumber: number,
    ack: boolean,
    deliveryCount: number,
    message: Message,
  ): void;
}

/** A client's subscription, as the engine's {@link Consumer}. */
export class Subscription implements Consumer {
  handle: ConsumerHandle | undefined;
  /**
   * Unacknowledged deliveries by ack key, in delivery order: the message-id, or for a
   * {@link SeqDelivery} its number (see {@link AckIndex.keyOf}).
   */
  readonly unacked = new Map<AckKey, Delivery>();
  private unackedBytes = 0;
  /** The session's unacknowledged deliveries. */
  private readonly acks: AckIndex<Subscription>;
  private readonly auto: boolean;
  /** `MESSAGE\n` and the subscription header, encoded once. */
  private readonly prefix: Uint8Array;
  /** The MESSAGE frames carry an `ack` header (client modes in 1.2). */
  private readonly ackHeader: boolean;

  constructor(
    private readonly owner: SubscriptionOwner,
    readonly id: string,
    readonly destination: string,
    readonly mode: AckMode,
    readonly explicitId: boolean,
    /** Most unacknowledged messages (client modes). */
    readonly prefetch: number,
    /** Most unacknowledged bytes; 0 = unbounded. */
    readonly windowBytes: number,
    /** The durable subscription's name, if it is one. */
    readonly durableName: string | undefined,
  ) {
    this.auto = mode === 'auto';
    this.acks = owner.acks;
    const version = owner.version;
    // Checked by the SUBSCRIBE handler: always writable.
    const subId = headerText(id, version);
    this.prefix = Buffer.from(
      'MESSAGE\n' +
        ((version !== '1.0' || explicitId) && subId !== undefined
          ? 'subscription:' + subId + '\n'
          : ''),
      'utf8',
    );
    this.ackHeader = !this.auto && version === '1.2';
  }

  ready(_message: Message): boolean {
    if (!this.owner.writable) return false;
    if (this.auto) return true;
    return (
      this.unacked.size < this.prefetch &&
      (this.windowBytes === 0 || this.unackedBytes < this.windowBytes)
    );
  }

  deliver(delivery: Delivery): void {
    const owner = this.owner;
    let idText: string;
    let idNumber: number;
    if (delivery instanceof SeqDelivery) {
      idText = delivery.idPrefix;
      idNumber = delivery.seq;
      this.acks.usePrefix(idText);
    } else {
      idText = delivery.messageId;
      idNumber = -1;
    }
    if (!this.auto) {
      const key = idNumber < 0 ? idText : idNumber;
      this.unacked.set(key, delivery);
      this.unackedBytes += delivery.message.size;
      this.acks.added(key, this);
    }
    owner.writeMessage(
      this.prefix,
      idText,
      idNumber,
      this.ackHeader,
      delivery.deliveryCount,
      delivery.message,
    );
  }

  /**
   * Settle the delivery `key` (and in `client` mode every earlier one): ACK, or NACK with
   * `requeue`. Returns what the engine returned.
   */
  settle(key: AckKey, nack: boolean, requeue: boolean, awaitDurable = true): MaybePromise<void> {
    const handle = this.handle;
    if (this.mode !== 'client') {
      // client-individual: one delivery, no lists.
      const pending = this.unacked.get(key);
      let r: MaybePromise<void> = undefined;
      if (pending !== undefined) {
        this.unacked.delete(key);
        this.unackedBytes -= pending.message.size;
        this.acks.removed(key);
        if (handle !== undefined) {
          r = nack
            ? handle.nack(pending.tag, requeue, awaitDurable)
            : handle.ack(pending.tag, awaitDurable);
        }
      }
      handle?.resume();
      return r instanceof Promise ? r.then(() => undefined) : undefined;
    }
    const results: Promise<void>[] = [];
    const keys: AckKey[] = [];
    for (const k of this.unacked.keys()) {
      keys.push(k);
      if (k === key) break;
    }
    for (const k of keys) {
      const pending = this.unacked.get(k)!;
      this.unacked.delete(k);
      this.unackedBytes -= pending.message.size;
      this.acks.removed(k);
      if (handle === undefined) continue;
      const r = nack
        ? handle.nack(pending.tag, requeue, awaitDurable)
        : handle.ack(pending.tag, awaitDurable);
      if (r instanceof Promise) results.push(r);
    }
    handle?.resume();
    if (results.length > 0) return Promise.all(results).then(() => undefined);
    return undefined;
  }

  /** Detach from the engine: unacknowledged deliveries are requeued. */
  close(): MaybePromise<void> {
    const acks = this.acks;
    for (const k of this.unacked.keys()) acks.removed(k);
    this.unacked.clear();
    this.unackedBytes = 0;
    return this.handle?.close();
  }
}
