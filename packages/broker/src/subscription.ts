// The session side of one subscription: ack mode, prefetch window, unacknowledged deliveries,
// and the per-delivery MESSAGE encoding.
import type { AckMode } from '@stompede/core';
import type { Connection } from './connection.js';
import { encodeDelivery, headerText } from './encode.js';
import type { Consumer, ConsumerHandle, Delivery, MaybePromise } from './engine.js';
import type { Message } from './message.js';

interface Pending {
  readonly tag: number;
  readonly size: number;
}

/** A client's subscription, as the engine's {@link Consumer}. */
export class Subscription implements Consumer {
  handle: ConsumerHandle | undefined;
  /** Unacknowledged deliveries by ack key (the message-id), in delivery order. */
  readonly unacked = new Map<string, Pending>();
  private unackedBytes = 0;
  private readonly auto: boolean;
  private readonly headPrefix: string;

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
    this.headPrefix =
      'MESSAGE\n' +
      ((conn.version !== '1.0' || explicitId) && subId !== undefined
        ? 'subscription:' + subId + '\n'
        : '');
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
    const id = delivery.messageId;
    let head = this.headPrefix + 'message-id:' + id + '\n';
    if (!this.auto) {
      if (conn.version === '1.2') head += 'ack:' + id + '\n';
      const size = delivery.message.size;
      this.unacked.set(id, { tag: delivery.tag, size });
      this.unackedBytes += size;
      conn.pendingAcks.set(id, this);
    }
    if (delivery.deliveryCount > 1) head += 'redelivered:true\n';
    head += 'delivery-count:' + String(delivery.deliveryCount) + '\n';
    conn.writeMessage(encodeDelivery(head, delivery.message, conn.version));
  }

  /**
   * Settle the delivery `key` (and in `client` mode every earlier one): ACK, or NACK with
   * `requeue`. Returns what the engine returned.
   */
  settle(key: string, nack: boolean, requeue: boolean): MaybePromise<void> {
    const handle = this.handle;
    const results: Promise<void>[] = [];
    const keys: string[] = [];
    if (this.mode === 'client') {
      for (const k of this.unacked.keys()) {
        keys.push(k);
        if (k === key) break;
      }
    } else if (this.unacked.has(key)) {
      keys.push(key);
    }
    for (const k of keys) {
      const pending = this.unacked.get(k)!;
      this.unacked.delete(k);
      this.unackedBytes -= pending.size;
      this.conn.pendingAcks.delete(k);
      if (handle === undefined) continue;
      const r = nack ? handle.nack(pending.tag, requeue) : handle.ack(pending.tag);
      if (r instanceof Promise) results.push(r);
    }
    handle?.resume();
    if (results.length > 0) return Promise.all(results).then(() => undefined);
    return undefined;
  }

  /** Detach from the engine: unacknowledged deliveries are requeued. */
  close(): MaybePromise<void> {
    for (const k of this.unacked.keys()) this.conn.pendingAcks.delete(k);
    this.unacked.clear();
    this.unackedBytes = 0;
    return this.handle?.close();
  }
}
