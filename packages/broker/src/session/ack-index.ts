// Which subscription holds the unacknowledged delivery an ACK or NACK names. The id's trailing
// digits are the delivery's ack key (delivery.ts); with few subscriptions, asking each of them is
// cheaper than keeping a second map; beyond SCAN_LIMIT, deliveries are also indexed here,
// connection-wide.
import { ackKeyOf, isIdOf } from '../delivery.js';
import type { Delivery } from '../engine.js';

/** How a session keys an unacknowledged delivery: its {@link Delivery.ackKey}. */
export type AckKey = number;

/** Up to this many subscriptions on a connection, an ACK is found by asking each of them. */
export const SCAN_LIMIT = 8;

/** What the index needs of a subscription. */
export interface Unacked {
  /** Unacknowledged deliveries by ack key. */
  readonly unacked: ReadonlyMap<AckKey, Delivery>;
}

/** The unacknowledged deliveries of one connection, by ack key. */
export class AckIndex<S extends Unacked> {
  // Made when the connection passes SCAN_LIMIT subscriptions (few do).
  private index: Map<AckKey, S> | undefined;

  /** @param subscriptions - the connection's subscriptions by id */
  constructor(private readonly subscriptions: ReadonlyMap<string, S>) {}

  /** `sub` delivered `key`, unacknowledged. */
  added(key: AckKey, sub: S): void {
    if (this.subscriptions.size > SCAN_LIMIT) (this.index ??= new Map()).set(key, sub);
  }

  /** `key` was settled or dropped. */
  removed(key: AckKey): void {
    this.index?.delete(key);
  }

  /**
   * The subscription holding the unacknowledged delivery whose message-id (or 1.2 `ack`) is `id`,
   * and its key; undefined when there is none.
   */
  find(id: string): { readonly sub: S; readonly key: AckKey } | undefined {
    const key = ackKeyOf(id);
    if (key < 0) return undefined;
    const matches = (sub: S): boolean => {
      const d = sub.unacked.get(key);
      return d !== undefined && isIdOf(id, d);
    };
    if (this.index !== undefined) {
      const sub = this.index.get(key);
      if (sub !== undefined && matches(sub)) return { sub, key };
    }
    for (const sub of this.subscriptions.values()) if (matches(sub)) return { sub, key };
    return undefined;
  }

  /** Forget everything (the connection ended). */
  clear(): void {
    this.index = undefined;
  }
}
