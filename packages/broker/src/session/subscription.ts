// The session side of one subscription: ack mode, prefetch window, unacknowledged deliveries,
// and the per-delivery MESSAGE encoding.
import type { AckMode, StompError, StompVersion } from '@stompede/core';
import { headerText } from '../encode.js';
import type { Consumer, ConsumerHandle, Delivery, MaybePromise, TxOp } from '../engine.js';
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
  /**
   * Write one MESSAGE frame: `message-id` (and 1.2's `ack`) is `idPrefix` followed by the digits
   * of `ackKey` (see `writeMessage` in message-writer.ts).
   */
  writeMessage(
    prefix: Uint8Array,
    idPrefix: string,
    ackKey: number,
    ack: boolean,
    deliveryCount: number,
    message: Message,
  ): void;
  /** End the session with an ERROR for `err`. */
  fail(err: unknown): void;
}

const NONE_UNACKED: ReadonlyMap<AckKey, Delivery> = new Map();

/** A client's subscription, as the engine's {@link Consumer}. */
export class Subscription implements Consumer {
  private consumerHandle: ConsumerHandle | undefined;
  // Made by the first client-mode delivery: an idle subscription's memory counts (an empty Map
  // is ~180 bytes).
  private unackedMap: Map<AckKey, Delivery> | undefined;
  private unackedBytes = 0;
  /** The session's unacknowledged deliveries. */
  private readonly acks: AckIndex<Subscription>;
  private readonly auto: boolean;
  /** `MESSAGE\n` and the subscription header, encoded once. */
  private readonly prefix: Buffer;
  /** The MESSAGE frames carry an `ack` header (client modes in 1.2). */
  private readonly ackHeader: boolean;

  /** The engine's handle of this consumer, once {@link Subscription.attach} gave it. */
  get handle(): ConsumerHandle | undefined {
    return this.consumerHandle;
  }

  /** The engine accepted the subscription: keep its handle (to pause, resume and close it). */
  attach(handle: ConsumerHandle): void {
    this.consumerHandle = handle;
  }

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
    const prefix =
      'MESSAGE\n' +
      ((version !== '1.0' || explicitId) && subId !== undefined
        ? 'subscription:' + subId + '\n'
        : '');
    // Its own memory, not a slice of Buffer's shared 8 KiB pool: a subscription lives long, and
    // a live slice keeps its whole pool alive (1.4 KB per idle connection, measured).
    this.prefix = Buffer.allocUnsafeSlow(Buffer.byteLength(prefix));
    this.prefix.write(prefix);
    this.ackHeader = !this.auto && version === '1.2';
  }

  /** Unacknowledged deliveries by {@link Delivery.ackKey}, in delivery order. */
  get unacked(): ReadonlyMap<AckKey, Delivery> {
    return this.unackedMap ?? NONE_UNACKED;
  }

  ready(_message: Message): boolean {
    if (!this.owner.writable) return false;
    if (this.auto) return true;
    return (
      this.unacked.size < this.prefetch &&
      (this.windowBytes === 0 || this.unackedBytes < this.windowBytes)
    );
  }

  credit(): number {
    if (!this.owner.writable) return 0;
    if (this.auto) return Infinity;
    if (this.windowBytes !== 0 && this.unackedBytes >= this.windowBytes) return 0;
    return Math.max(0, this.prefetch - this.unacked.size);
  }

  deliver(delivery: Delivery): void {
    const key = delivery.ackKey;
    if (!this.auto) {
      (this.unackedMap ??= new Map()).set(key, delivery);
      this.unackedBytes += delivery.message.size;
      this.acks.added(key, this);
    }
    // The message-id (and 1.2's ack header) is written as the prefix and then the key's digits.
    this.owner.writeMessage(
      this.prefix,
      delivery.idPrefix,
      key,
      this.ackHeader,
      delivery.deliveryCount,
      delivery.message,
    );
  }

  /**
   * Take the delivery `key` (and in `client` mode every earlier one) off the unacknowledged list:
   * the deliveries an ACK or NACK of `key` settles, oldest first.
   */
  private take(key: AckKey): Delivery[] {
    const taken: Delivery[] = [];
    const unacked = this.unackedMap;
    if (unacked === undefined) return taken;
    const untrack = (k: AckKey, d: Delivery): void => {
      unacked.delete(k);
      this.unackedBytes -= d.message.size;
      this.acks.removed(k);
      taken.push(d);
    };
    if (this.mode !== 'client') {
      // client-individual: one delivery, no list walk.
      const d = unacked.get(key);
      if (d !== undefined) untrack(key, d);
      return taken;
    }
    if (!unacked.has(key)) return taken;
    for (const [k, d] of unacked) {
      untrack(k, d);
      if (k === key) break;
    }
    return taken;
  }

  /**
   * Settle the delivery `key` (and in `client` mode every earlier one): ACK, or NACK with
   * `requeue`. Returns what the engine returned.
   */
  settle(key: AckKey, nack: boolean, requeue: boolean, awaitDurable = true): MaybePromise<void> {
    const handle = this.consumerHandle;
    const taken = this.take(key);
    let results: Promise<void>[] | undefined;
    if (handle !== undefined) {
      for (const d of taken) {
        const r = nack
          ? handle.nack(d.ackKey, requeue, awaitDurable)
          : handle.ack(d.ackKey, awaitDurable);
        if (r instanceof Promise) (results ??= []).push(r);
      }
    }
    handle?.resume();
    if (results === undefined) return undefined;
    return results.length === 1 ? results[0] : Promise.all(results).then(() => undefined);
  }

  /**
   * The transaction operations an ACK (or NACK) of `key` made inside a transaction stands for,
   * taken off the unacknowledged list now that the transaction commits.
   */
  commitOps(key: AckKey, nack: boolean, requeue: boolean): TxOp[] {
    const handle = this.consumerHandle;
    const taken = this.take(key);
    if (handle === undefined) return [];
    return taken.map((d) =>
      nack
        ? { kind: 'nack', consumer: handle, ackKey: d.ackKey, requeue }
        : { kind: 'ack', consumer: handle, ackKey: d.ackKey },
    );
  }

  /** The engine detached this subscription (its destination was deleted): end the session. */
  detached(reason: StompError): void {
    this.owner.fail(reason);
  }

  /** Detach from the engine: unacknowledged deliveries are requeued. */
  close(): MaybePromise<void> {
    const acks = this.acks;
    for (const k of this.unacked.keys()) acks.removed(k);
    this.unackedMap = undefined;
    this.unackedBytes = 0;
    return this.consumerHandle?.close();
  }
}
