// MESSAGE frame encoding for the delivery hot path. The part every delivery of a message shares
// (destination, user headers, content-length) is encoded once per protocol version and cached
// beside the Message (a WeakMap, so the Message stays immutable) from its second delivery on;
// each delivery only encodes its own headers (subscription, message-id, ack,
// redelivered, delivery-count). The connection writes deliveries straight into its output buffer
// (see Connection.writeDelivery): bodies up to COPY_LIMIT are copied there, so a tick's worth of
// frames is one write; larger bodies are written by reference.
import { type StompVersion, escapeHeader } from '@stompede/core';
import type { Message } from './message.js';

const SMALL_BODY = 4096;

/** Bodies up to this size are copied into the connection's output buffer; larger ones are not. */
export const COPY_LIMIT = 8192;

/**
 * Write `text` into `buf` at `off` as UTF-8 and return the offset after it. ASCII (the usual
 * case: header names, ids, numbers) is copied by a loop, avoiding a native call per string; the
 * caller reserves 3 bytes per character.
 */
export function putString(buf: Buffer, off: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return off - i + buf.write(text, off - i, 'utf8');
    buf[off++] = c;
  }
  return off;
}

/** Write the decimal digits of `n` (a safe non-negative integer) at `off`; returns the offset after. */
export function putDigits(buf: Buffer, off: number, n: number): number {
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  const end = off + digits;
  let i = end;
  do {
    const q = Math.floor(n / 10);
    buf[--i] = 48 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}

/** Copy a short byte string (a header name) into `buf` at `off`; returns the offset after it. */
export function putBytes(buf: Buffer, off: number, bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = 0; i < n; i++) buf[off + i] = bytes[i]!;
  return off + n;
}

/** Escape a header name or value for `version`, or undefined when it cannot be written. */
export function headerText(text: string, version: StompVersion): string | undefined {
  if (version === '1.0') {
    return text.includes('\n') || text.endsWith('\r') ? undefined : text;
  }
  const escaped = escapeHeader(text, version);
  return version === '1.1' && escaped.endsWith('\r') ? undefined : escaped;
}

let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * Most bytes {@link putShared} writes for `message`: 3 per UTF-16 unit (escaping doubles only
 * characters that take 1 byte), plus the fixed text.
 */
export function sharedMax(message: Message): number {
  const raw = message.headers;
  let max = message.destination.length * 3 + 64;
  for (let i = 0; i < raw.length; i++) max += raw[i]!.length * 3 + 2;
  return max;
}

/**
 * Write the part of `message`'s MESSAGE frames that every delivery shares (destination, user
 * headers, content-length, the blank line) in `version` into `buf` at `off`, which has
 * {@link sharedMax} bytes of room; returns the offset after it.
 */
export function putShared(
  buf: Buffer,
  off: number,
  message: Message,
  version: StompVersion,
): number {
  const raw = message.headers;
  const dest = headerText(message.destination, version);
  if (dest !== undefined) {
    off = putBytes(buf, off, DESTINATION);
    off = putString(buf, off, dest);
    buf[off++] = 10;
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerText(raw[i]!, version);
    const value = headerText(raw[i + 1]!, version);
    if (name === undefined || value === undefined || name.length === 0) continue;
    if (version === '1.0' && name.includes(':')) continue;
    off = putString(buf, off, name);
    buf[off++] = 58;
    off = putString(buf, off, value);
    buf[off++] = 10;
  }
  off = putBytes(buf, off, CONTENT_LENGTH);
  off = putDigits(buf, off, message.bodyLength);
  buf[off++] = 10;
  buf[off++] = 10;
  return off;
}

function sharedBlock(message: Message, version: StompVersion): Uint8Array {
  const max = sharedMax(message);
  if (max > scratch.length) scratch = Buffer.allocUnsafe(max);
  const off = putShared(scratch, 0, message, version);
  const bytes = Buffer.allocUnsafe(off);
  scratch.copy(bytes, 0, 0, off);
  return bytes;
}

const DESTINATION = Buffer.from('destination:');
const CONTENT_LENGTH = Buffer.from('content-length:');

/** The cache slot of `version`: 0 = 1.0, 1 = 1.1, 2 = 1.2. */
function slotOf(version: StompVersion): 0 | 1 | 2 {
  return version === '1.2' ? 2 : version === '1.1' ? 1 : 0;
}

type SharedCache = [Uint8Array | undefined, Uint8Array | undefined, Uint8Array | undefined];

/** Shared bytes per message and version, for messages delivered more than once in a version. */
const caches = new WeakMap<Message, SharedCache>();
/**
 * Per version, the message whose shared bytes were last encoded in place rather than cached: its
 * next delivery in that version (typically the next subscription of a topic fan-out) caches them.
 * A message delivered once (a queue's) thus allocates no copy and takes no cache entry.
 */
const lastInlined: (Message | undefined)[] = [undefined, undefined, undefined];

/**
 * The shared bytes of `message` in `version` when they are cached, or when this is the message's
 * second delivery in a row in that version (then they are cached now); undefined when the caller
 * should encode them in place with {@link putShared} (this function then remembers the message).
 */
export function sharedForDelivery(message: Message, version: StompVersion): Uint8Array | undefined {
  const slot = slotOf(version);
  const cached = caches.get(message)?.[slot];
  if (cached !== undefined) return cached;
  if (lastInlined[slot] === message) {
    lastInlined[slot] = undefined;
    return sharedBytes(message, version);
  }
  lastInlined[slot] = message;
  return undefined;
}

/** The shared bytes of `message`'s MESSAGE frames in `version`, from the cache when possible. */
export function sharedBytes(message: Message, version: StompVersion): Uint8Array {
  const slot = slotOf(version);
  let cache = caches.get(message);
  if (cache === undefined) {
    cache = [undefined, undefined, undefined];
    caches.set(message, cache);
  }
  let bytes = cache[slot];
  if (bytes === undefined) {
    bytes = sharedBlock(message, version);
    cache[slot] = bytes;
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
