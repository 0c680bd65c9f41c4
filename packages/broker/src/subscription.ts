// The session side of one subscription: ack mode, prefetch window, unacknowledged deliveries,
// and the per-delivery MESSAGE encoding.
import type { AckMode } from '@stompede/core';
import type { StompError } from '@stompede/core';
import type { AckKey, Connection } from './connection.js';
import { headerText } from './encode.js';
import type { Consumer, ConsumerHandle, Delivery, MaybePromise, TxOp } from './engine.js';
import type { Message } from './message.js';

/**
 * Up to this many subscriptions on a connection, an ACK is found by asking each of them
 * ({@link Connection.findUnacked}); beyond, deliveries are also indexed in `pendingAcks`.
 */
export const SCAN_LIMIT = 8;

/** A client's subscription, as the engine's {@link Consumer}. */
export class Subscription implements Consumer {
  handle: ConsumerHandle | undefined;
  /** Unacknowledged deliveries by {@link Delivery.ackKey}, in delivery order. */
  readonly unacked = new Map<AckKey, Delivery>();
  private unackedBytes = 0;
  private readonly auto: boolean;
  /** `MESSAGE\n` and the subscription header, encoded once. */
  private readonly prefix: Uint8Array;
  /** The MESSAGE frames carry an `ack` header (client modes in 1.2). */
  private readonly ackHeader: boolean;

  constructor(
    readonly conn: Connection,
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
    const subId = headerText(id, conn.version);
    this.prefix = Buffer.from(
      'MESSAGE\n' +
        ((conn.version !== '1.0' || explicitId) && subId !== undefined
          ? 'subscription:' + subId + '\n'
          : ''),
      'utf8',
    );
    this.ackHeader = !this.auto && conn.version === '1.2';
  }

  ready(_message: Message): boolean {
    const conn = this.conn;
    if (!conn.writable) return false;
    if (this.auto) return true;
    return (
      this.unacked.size < this.prefetch &&
      (this.windowBytes === 0 || this.unackedBytes < this.windowBytes)
    );
  }

  credit(): number {
    if (!this.conn.writable) return 0;
    if (this.auto) return Infinity;
    if (this.windowBytes !== 0 && this.unackedBytes >= this.windowBytes) return 0;
    return Math.max(0, this.prefetch - this.unacked.size);
  }

  deliver(delivery: Delivery): void {
    const conn = this.conn;
    const key = delivery.ackKey;
    if (!this.auto) {
      this.unacked.set(key, delivery);
      this.unackedBytes += delivery.message.size;
      if (conn.subscriptions.size > SCAN_LIMIT) conn.pendingAcks.set(key, this);
    }
    // The message-id (and 1.2's ack header) is written as the prefix and then the key's digits.
    conn.writeDelivery(
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
    const pending = this.conn.pendingAcks;
    const untrack = (k: AckKey, d: Delivery): void => {
      this.unacked.delete(k);
      this.unackedBytes -= d.message.size;
      if (pending.size > 0) pending.delete(k);
      taken.push(d);
    };
    if (this.mode !== 'client') {
      // client-individual: one delivery, no list walk.
      const d = this.unacked.get(key);
      if (d !== undefined) untrack(key, d);
      return taken;
    }
    if (!this.unacked.has(key)) return taken;
    for (const [k, d] of this.unacked) {
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
    const handle = this.handle;
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
    const handle = this.handle;
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
    this.conn.fail(reason);
  }

  /** Detach from the engine: unacknowledged deliveries are requeued. */
  close(): MaybePromise<void> {
    const pending = this.conn.pendingAcks;
    if (pending.size > 0) for (const k of this.unacked.keys()) pending.delete(k);
    this.unacked.clear();
    this.unackedBytes = 0;
    return this.handle?.close();
  }
}
