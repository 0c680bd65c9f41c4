// MESSAGE frame encoding for the delivery hot path. The part every delivery of a message shares
// (destination, user headers, content-length) is encoded once per protocol version and cached
// on the Message; each delivery only encodes its own headers (subscription, message-id, ack,
// redelivered, delivery-count), and small bodies are copied into the same buffer so a delivery
// is one write.
import { type StompVersion, escapeHeader } from '@stompede/core';
import { Message } from './message.js';

const SMALL_BODY = 4096;

/** Escape a header name or value for `version`, or undefined when it cannot be written. */
export function headerText(text: string, version: StompVersion): string | undefined {
  if (version === '1.0') {
    return text.includes('\n') || text.endsWith('\r') ? undefined : text;
  }
  const escaped = escapeHeader(text, version);
  return version === '1.1' && escaped.endsWith('\r') ? undefined : escaped;
}

function sharedBlock(message: Message, version: StompVersion): Uint8Array {
  let text = '';
  const dest = headerText(message.destination, version);
  if (dest !== undefined) text += 'destination:' + dest + '\n';
  const raw = message.headers;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerText(raw[i]!, version);
    const value = headerText(raw[i + 1]!, version);
    if (name === undefined || value === undefined || name.length === 0) continue;
    if (version === '1.0' && name.includes(':')) continue;
    text += name + ':' + value + '\n';
  }
  text += 'content-length:' + String(message.body.length) + '\n\n';
  return Buffer.from(text, 'utf8');
}

/** The shared bytes of `message`'s MESSAGE frames in `version`, from the cache when possible. */
export function sharedBytes(message: Message, version: StompVersion): Uint8Array {
  const slot = Message.slot(version);
  let bytes = message.encoded[slot];
  if (bytes === undefined) {
    bytes = sharedBlock(message, version);
    message.encoded[slot] = bytes;
  }
  return bytes;
}

/**
 * The chunks of one MESSAGE frame: `head` is the per-delivery header text (starting with
 * `MESSAGE\n`), the rest comes from the message.
 */
export function encodeDelivery(
  head: string,
  message: Message,
  version: StompVersion,
): Uint8Array[] {
  const shared = sharedBytes(message, version);
  const body = message.body;
  const headLength = Buffer.byteLength(head, 'utf8');
  if (body.length <= SMALL_BODY) {
    const buf = Buffer.allocUnsafe(headLength + shared.length + body.length + 1);
    buf.write(head, 0, 'utf8');
    buf.set(shared, headLength);
    buf.set(body, headLength + shared.length);
    buf[buf.length - 1] = 0;
    return [buf];
  }
  const buf = Buffer.allocUnsafe(headLength + shared.length);
  buf.write(head, 0, 'utf8');
  buf.set(shared, headLength);
  return [buf, body, NUL];
}

const NUL = Uint8Array.of(0);
