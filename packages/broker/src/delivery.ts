// A delivery whose message-id is a prefix and a number (the in-memory engine's ids). Sessions
// key unacknowledged deliveries by the number and write the id's digits straight into the
// output, so no id string is built per delivery; one is built only if `messageId` is read.
import type { Delivery } from './engine.js';
import type { Message } from './message.js';

/** A {@link Delivery} with `messageId` = `idPrefix` + the decimal digits of `seq`. */
export class SeqDelivery implements Delivery {
  constructor(
    readonly message: Message,
    /** Shared by every delivery of one engine. */
    readonly idPrefix: string,
    /** A safe non-negative integer, unique among the engine's unsettled deliveries. */
    readonly seq: number,
    readonly deliveryCount: number,
    readonly tag: number,
  ) {}

  get messageId(): string {
    return this.idPrefix + String(this.seq);
  }
}

/**
 * The number `text` names when it is `prefix` followed by the canonical decimal digits of a
 * number (no sign, no leading zero), as {@link SeqDelivery.messageId} writes it; otherwise -1.
 */
export function seqOf(text: string, prefix: string): number {
  const start = prefix.length;
  const n = text.length;
  if (n <= start || n > start + 15 || !text.startsWith(prefix)) return -1;
  if (text.charCodeAt(start) === 48 /* 0 */ && n > start + 1) return -1;
  let value = 0;
  for (let i = start; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
