// MESSAGE frame encoding for the delivery hot path. The part every delivery of a message shares
// (destination, user headers, content-length) is encoded once per protocol version and cached
// beside the Message (a WeakMap, so the Message stays immutable) from its second delivery on;
// each delivery only encodes its own headers (subscription, message-id, ack,
// redelivered, delivery-count). The connection writes deliveries straight into its output buffer
// (message-writer.ts): bodies up to COPY_LIMIT are copied there, so a tick's worth of
// frames is one write; larger bodies are written by reference.
import { Frame, type StompVersion, encodeHeaderToken, escapesApply } from '@stompede/core';
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

const NAME = Object.freeze({ name: true });

/**
 * Copy `text` into `buf` at `off` if every character is printable ASCII other than `:` and `\\`
 * (written the same in every version, nothing to escape or refuse); returns the offset after it,
 * or -1 (bytes may have been written past `off`) for {@link headerText}'s general rule.
 */
function putPlain(buf: Buffer, off: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 58 || c === 92) return -1;
    buf[off + i] = c;
  }
  return off + n;
}

/**
 * A header name (`name`) or value as a MESSAGE frame writes it in `version` (escaped from 1.1
 * on), or undefined when it cannot be written: core's one rule (`encodeHeaderToken`).
 */
export function headerText(text: string, version: StompVersion, name = false): string | undefined {
  const r = encodeHeaderToken(text, version, name ? NAME : undefined);
  return typeof r === 'string' ? r : undefined;
}

/**
 * `frame` without the headers that cannot be written in `version` (core's rule, as for MESSAGE
 * frames in {@link putShared}), and their names: every frame the broker sends treats such a
 * header the same way, left out of the frame (the caller logs it), never the frame dropped.
 */
export function withoutUnwritable(
  frame: Frame,
  version: StompVersion,
): { readonly frame: Frame; readonly left: readonly string[] } {
  const escape = escapesApply(frame.command, version);
  const raw = frame.rawHeaders;
  const kept: [string, string][] = [];
  const left: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const ok =
      typeof encodeHeaderToken(name, version, { name: true, escape }) === 'string' &&
      typeof encodeHeaderToken(value, version, { escape }) === 'string';
    if (ok) kept.push([name, value]);
    else left.push(name);
  }
  return { frame: new Frame(frame.command, kept, frame.body), left };
}

/**
 * Refuse (`ERR_STOMP_INVALID_HEADER_VALUE`) a value the broker will have to write back in
 * `version` and cannot, e.g. a 1.1 `receipt` ending in CR: core's rule, checked when it arrives.
 */
export function checkWritable(
  value: string,
  header: string,
  version: StompVersion,
  frame: Frame,
): void {
  const r = encodeHeaderToken(value, version, { header, frame });
  if (typeof r !== 'string') throw r;
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
  let next = putPlain(buf, off + DESTINATION.length, message.destination);
  if (next >= 0) {
    putBytes(buf, off, DESTINATION);
    off = next;
    buf[off++] = 10;
  } else {
    const dest = headerText(message.destination, version);
    if (dest !== undefined) {
      off = putBytes(buf, off, DESTINATION);
      off = putString(buf, off, dest);
      buf[off++] = 10;
    }
  }
  for (let i = 0; i < raw.length; i += 2) {
    const rawName = raw[i]!;
    const rawValue = raw[i + 1]!;
    // Most headers are plain ASCII: copied as they are scanned. Others take core's rule.
    next = rawName.length === 0 ? -1 : putPlain(buf, off, rawName);
    if (next >= 0) {
      buf[next++] = 58;
      next = putPlain(buf, next, rawValue);
      if (next >= 0) {
        off = next;
        buf[off++] = 10;
        continue;
      }
    }
    const name = headerText(rawName, version, true);
    const value = headerText(rawValue, version);
    // Not reached for messages sent through this broker: SEND refuses a header that the
    // strictest version it speaks cannot carry. A message stored before the broker was set to
    // speak a stricter version may still hold one; a MESSAGE cannot carry it.
    if (name === undefined || value === undefined) continue;
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
