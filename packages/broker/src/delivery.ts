// How a session finds the delivery an ACK or NACK names. A delivery's message-id is its engine's
// `idPrefix` followed by the digits of its `ackKey` (see Delivery in engine.ts), and the `ack`
// header the session writes in 1.2 is the same text: the id's trailing digits give the key to look
// up, and the prefix is then checked against the delivery found. No string is built per delivery.
import type { Delivery } from './engine.js';

/**
 * The ack key `id` names: its trailing decimal digits when they are canonical (no leading zero)
 * and a safe integer; otherwise -1.
 */
export function ackKeyOf(id: string): number {
  const n = id.length;
  let start = n;
  while (start > 0) {
    const c = id.charCodeAt(start - 1);
    if (c < 48 || c > 57) break;
    start--;
  }
  if (start === n || n - start > 15) return -1;
  if (id.charCodeAt(start) === 48 /* 0 */ && n - start > 1) return -1;
  let value = 0;
  for (let i = start; i < n; i++) value = value * 10 + (id.charCodeAt(i) - 48);
  return value;
}

/** True when `id` is `delivery`'s message-id (given that {@link ackKeyOf} `id` is its ack key). */
export function isIdOf(id: string, delivery: Delivery): boolean {
  const prefix = delivery.idPrefix;
  let digits = 1;
  for (let p = 10; p <= delivery.ackKey; p *= 10) digits++;
  return id.length === prefix.length + digits && id.startsWith(prefix);
}
