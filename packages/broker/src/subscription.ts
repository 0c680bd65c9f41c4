// The session side of one subscription: ack mode, prefetch window, unacknowledged deliveries,
// and the per-delivery MESSAGE encoding.
import type { AckMode } from '@stompede/core';
import type { AckKey, Connection } from './connection.js';
import { SeqDelivery } from './delivery.js';
import { headerText } from './encode.js';
import type { Consumer, ConsumerHandle, Delivery, MaybePromise } from './engine.js';
import type { Message } from './message.js';

/**
 * Up to this many subscriptions on a connection, an ACK is found by asking each of them
 * ({@link Connection.findUnacked}); beyond, deliveries are also indexed in `pendingAcks`.
 */
export const SCAN_LIMIT = 8;

/** A client's subscription, as the engine's {@link Consumer}. */
export class Subscription implements Consumer {
  handle: ConsumerHandle | undefined;
  /**
   * Unacknowledged deliveries by ack key, in delivery order: the message-id, or for a
   * {@link SeqDelivery} its number (see {@link Connection.ackKey}).
   */
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

  deliver(delivery: Delivery): void {
    const conn = this.conn;
    let idText: string;
    let idNumber: number;
    if (delivery instanceof SeqDelivery) {
      idText = delivery.idPrefix;
      idNumber = delivery.seq;
      conn.seqPrefix = idText;
    } else {
      idText = delivery.messageId;
      idNumber = -1;
    }
    if (!this.auto) {
      const key = idNumber < 0 ? idText : idNumber;
      this.unacked.set(key, delivery);
      this.unackedBytes += delivery.message.size;
      if (conn.subscriptions.size > SCAN_LIMIT) conn.pendingAcks.set(key, this);
    }
    conn.writeDelivery(
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
        if (this.conn.pendingAcks.size > 0) this.conn.pendingAcks.delete(key);
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
      if (this.conn.pendingAcks.size > 0) this.conn.pendingAcks.delete(k);
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
    const pending = this.conn.pendingAcks;
    if (pending.size > 0) for (const k of this.unacked.keys()) pending.delete(k);
    this.unacked.clear();
    this.unackedBytes = 0;
    return this.handle?.close();
  }
}
