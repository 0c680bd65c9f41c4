// JetStream's acknowledgment protocol. A delivered message carries a reply subject
// `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>` (servers
// from 2.10 may add a domain and account hash after `$JS.ACK`); publishing a verb to it settles
// that delivery. Any connection may publish it, which is what lets a COMMIT replayed by another
// node still acknowledge the messages the transaction named.
import type { NatsConnection } from '@nats-io/nats-core';

/** What a delivery's reply subject says. */
export interface AckInfo {
  readonly stream: string;
  readonly consumer: string;
  /** Times the message has been delivered, this delivery included. */
  readonly deliveryCount: number;
  /** The message's sequence in its stream. */
  readonly streamSeq: number;
  /**
   * Messages the consumer had not yet delivered to anyone when it delivered this one (JetStream's
   * count; messages waiting for redelivery are not in it).
   */
  readonly pending: number;
}

/** Parse a `$JS.ACK…` reply subject; undefined when it is not one. */
export function parseAckSubject(subject: string): AckInfo | undefined {
  const t = subject.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  let i: number;
  if (t.length === 9) i = 2;
  else if (t.length >= 11) i = 4;
  else return undefined;
  const deliveryCount = Number(t[i + 2]);
  const streamSeq = Number(t[i + 3]);
  const pending = Number(t[i + 6]);
  if (
    !Number.isSafeInteger(deliveryCount) ||
    !Number.isSafeInteger(streamSeq) ||
    !Number.isSafeInteger(pending)
  ) {
    return undefined;
  }
  return { stream: t[i]!, consumer: t[i + 1]!, deliveryCount, streamSeq, pending };
}

const encoder = new TextEncoder();
const ACK = encoder.encode('+ACK');
const NAK = encoder.encode('-NAK');
const WPI = encoder.encode('+WPI');
const TERM = encoder.encode('+TERM');

/** The verbs a node sends. */
export const AckVerb = { ACK: 0, NAK: 1, WORKING: 2, TERM: 3 } as const;
/** An {@link AckVerb}. */
export type AckVerb = (typeof AckVerb)[keyof typeof AckVerb];

const PAYLOADS = [ACK, NAK, WPI, TERM] as const;

/** Send `verb` for the delivery `reply`; fire and forget. */
export function sendAck(nc: NatsConnection, reply: string, verb: AckVerb): void {
  nc.publish(reply, PAYLOADS[verb]);
}

/**
 * Acknowledge `reply` and wait until the consumer's leader confirms it (a RECEIPT waits for it).
 * Throws on a timeout: the ACK may or may not have been applied.
 */
export async function ackConfirmed(
  nc: NatsConnection,
  reply: string,
  timeout: number,
): Promise<void> {
  await nc.request(reply, ACK, { timeout });
}

/** NAK with a redelivery delay in ms. */
export function sendNakDelay(nc: NatsConnection, reply: string, delayMs: number): void {
  nc.publish(reply, encoder.encode(`-NAK {"delay":${String(Math.round(delayMs * 1e6))}}`));
}
