// Which subscription holds the unacknowledged delivery an ACK or NACK names. With few
// subscriptions, asking each of them is cheaper than keeping a second map; beyond SCAN_LIMIT,
// deliveries are also indexed here, connection-wide.
import { seqOf } from '../delivery.js';

/** How a session keys an unacknowledged delivery (see {@link AckIndex.keyOf}). */
export type AckKey = string | number;

/** Up to this many subscriptions on a connection, an ACK is found by asking each of them. */
export const SCAN_LIMIT = 8;

/** What the index needs of a subscription. */
export interface Unacked {
  /** Unacknowledged deliveries by ack key. */
  readonly unacked: ReadonlyMap<AckKey, unknown>;
}

/** The unacknowledged deliveries of one connection, by ack key. */
export class AckIndex<S extends Unacked> {
  private readonly index = new Map<AckKey, S>();
  /** The id prefix of the `SeqDelivery` deliveries made on this connection, if any. */
  private seqPrefix: string | undefined;

  /** @param subscriptions - the connection's subscriptions by id */
  constructor(private readonly subscriptions: ReadonlyMap<string, S>) {}

  /** Deliveries on this connection carry ids of `prefix` followed by digits (`SeqDelivery`). */
  usePrefix(prefix: string): void {
    this.seqPrefix = prefix;
  }

  /**
   * The key under which the delivery an ACK or NACK names (by its `id` or `message-id`) is held:
   * the number of a `SeqDelivery` id, or the text itself.
   */
  keyOf(text: string): AckKey {
    const prefix = this.seqPrefix;
    if (prefix === undefined) return text;
    const seq = seqOf(text, prefix);
    return seq < 0 ? text : seq;
  }

  /** `sub` delivered `key`, unacknowledged. */
  added(key: AckKey, sub: S): void {
    if (this.subscriptions.size > SCAN_LIMIT) this.index.set(key, sub);
  }

  /** `key` was settled or dropped. */
  removed(key: AckKey): void {
    if (this.index.size > 0) this.index.delete(key);
  }

  /** The subscription holding the unacknowledged delivery `key`, if any. */
  find(key: AckKey): S | undefined {
    if (this.index.size > 0) {
      const sub = this.index.get(key);
      if (sub !== undefined) return sub;
    }
    for (const sub of this.subscriptions.values()) if (sub.unacked.has(key)) return sub;
    return undefined;
  }

  /** Forget everything (the connection ended). */
  clear(): void {
    this.index.clear();
  }
}
