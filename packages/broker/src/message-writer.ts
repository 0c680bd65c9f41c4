// The MESSAGE frame writer of the delivery hot path: one frame encoded in place in a connection's
// output buffer, with no intermediate string or buffer. The per-delivery headers (subscription,
// message-id, ack, redelivered, delivery-count) are written here; the part every delivery of a
// message shares comes from encode.ts (encoded in place on a message's first delivery in a
// version, cached from its second, so a message delivered once allocates no copy of it).
import type { StompVersion } from '@stompede/core';
import {
  COPY_LIMIT,
  putBytes,
  putDigits,
  putShared,
  putString,
  sharedForDelivery,
  sharedMax,
} from './encode.js';
import type { Message } from './message.js';

/** Where frames are encoded: a connection's outbox (session/outbox.ts). */
export interface ByteSink {
  /** False once the stream is ended or destroyed. */
  readonly open: boolean;
  /** Where the next byte goes in the buffer {@link ByteSink.room} returned. */
  readonly end: number;
  /** A buffer with room for `n` more bytes at {@link ByteSink.end}. */
  room(n: number): Buffer;
  /** Bytes up to `end` are written. */
  commit(end: number): void;
  /** Write what is pending, then `chunk` by reference (not copied). */
  writeByReference(chunk: Uint8Array): void;
}

const MESSAGE_ID = Buffer.from('message-id:');
const ACK = Buffer.from('ack:');
const REDELIVERED = Buffer.from('redelivered:true\n');
const DELIVERY_COUNT = Buffer.from('delivery-count:');
const FIRST_DELIVERY = Buffer.from('delivery-count:1\n');

/**
 * Write one MESSAGE frame into `sink`: `prefix` (`MESSAGE` and the subscription header, encoded),
 * then `message-id` (`idPrefix` followed by the digits of `ackKey`), `ack` (the same id, when
 * `ack`), `redelivered`, `delivery-count`, and the message's shared headers and
 * body. Every frame ends with NUL and LF, as RabbitMQ and ActiveMQ send them.
 */
export function writeMessage(
  sink: ByteSink,
  version: StompVersion,
  prefix: Uint8Array,
  idPrefix: string,
  ackKey: number,
  ack: boolean,
  deliveryCount: number,
  message: Message,
): void {
  if (!sink.open) return;
  const shared = sharedForDelivery(message, version);
  const bodyLength = message.bodyLength;
  const copy = bodyLength <= COPY_LIMIT;
  const idBytes = idPrefix.length * 3 + 17;
  const need =
    prefix.length +
    MESSAGE_ID.length +
    idBytes +
    (ack ? ACK.length + idBytes : 0) +
    REDELIVERED.length +
    DELIVERY_COUNT.length +
    17 +
    (shared === undefined ? sharedMax(message) : shared.length) +
    (copy ? bodyLength + 2 : 0);
  const out = sink.room(need);
  let off = putBytes(out, sink.end, prefix);
  off = putBytes(out, off, MESSAGE_ID);
  const idStart = off;
  off = putString(out, off, idPrefix);
  off = putDigits(out, off, ackKey);
  const idEnd = off;
  out[off++] = 10;
  if (ack) {
    off = putBytes(out, off, ACK);
    for (let i = idStart; i < idEnd; i++) out[off++] = out[i]!;
    out[off++] = 10;
  }
  if (deliveryCount === 1) {
    off = putBytes(out, off, FIRST_DELIVERY);
  } else {
    if (deliveryCount > 1) off = putBytes(out, off, REDELIVERED);
    off = putBytes(out, off, DELIVERY_COUNT);
    off = putDigits(out, off, deliveryCount);
    out[off++] = 10;
  }
  if (shared === undefined) {
    off = putShared(out, off, message, version);
  } else {
    out.set(shared, off);
    off += shared.length;
  }
  if (copy) {
    off = message.copyBody(out, off);
    out[off++] = 0;
    out[off++] = 10;
    sink.commit(off);
    return;
  }
  sink.commit(off);
  const pieces = message.bodyPieces;
  if (pieces === undefined) sink.writeByReference(message.body);
  else for (const piece of pieces) sink.writeByReference(piece);
  const end = sink.room(2);
  off = sink.end;
  end[off++] = 0;
  end[off++] = 10;
  sink.commit(off);
}
