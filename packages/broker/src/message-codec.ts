// A Message as bytes and back, for engines that carry or store messages outside the process (a
// clustered engine's wire, a store's records). Neutral: it holds what the message is (destination,
// user headers, body, persistent, priority, absolute expiry), nothing of where it is queued.
//
// Layout (little-endian): [u8 format = 1][u8 flags: bit 0 persistent][u8 priority]
// [f64 expires][u32 n + n bytes destination][u32 count][count × (u32 n + n bytes)] header names
// and values alternately][u32 n + n bytes body]. Strings are UTF-8.
import { StompInvalidArgumentError } from '@stompede/core';
import { Message, type MessageProperties } from './message.js';

const FORMAT = 1;

/** Bytes of the fixed part before the content: format, flags, priority, expires. */
const PROPERTIES = 1 + 1 + 1 + 8;

/** The size of `message` encoded by {@link encodeMessageInto}. */
export function encodedMessageLength(message: Message): number {
  return PROPERTIES + contentLength(message);
}

/**
 * The size of a message's content as {@link encodeContentInto} writes it: what the message is
 * apart from its delivery properties. The journal's ENQUEUE record carries the same content after
 * a head of its own (store/codec.ts), so there is one byte layout of a message, here.
 */
export function contentLength(message: Message): number {
  let size = 4 + Buffer.byteLength(message.destination) + 4 + 4 + message.bodyLength;
  for (const h of message.headers) size += 4 + Buffer.byteLength(h);
  return size;
}

/**
 * Write the content of `message` (`[u32 n + n bytes destination][u32 count][count × (u32 n + n
 * bytes)][u32 n + n bytes body]`) into `buf` at `off`, which has {@link contentLength} bytes of
 * room; returns the offset after it.
 */
export function encodeContentInto(buf: Buffer, off: number, message: Message): number {
  return message.copyBody(buf, encodeContentHeadInto(buf, off, message));
}

/**
 * {@link encodeContentInto} without the body's bytes (the content up to and including the body's
 * length), for a writer that sends a large body from where it is instead of copying it; `buf`
 * has {@link contentLength} minus the body's length bytes of room. Returns the offset after it.
 */
export function encodeContentHeadInto(buf: Buffer, off: number, message: Message): number {
  off = putText(buf, off, message.destination);
  const headers = message.headers;
  off = buf.writeUInt32LE(headers.length, off);
  for (const h of headers) off = putText(buf, off, h);
  return buf.writeUInt32LE(message.bodyLength, off);
}

/**
 * The message whose content {@link encodeContentInto} wrote into `buf` at `off`, with
 * `properties`, and the offset after it. Its body is a view into `buf`. Throws
 * `ERR_STOMP_INVALID_ARGUMENT` when the content runs past `buf`'s end or is malformed.
 */
export function decodeContent(
  buf: Buffer,
  off: number,
  properties: MessageProperties,
): { readonly message: Message; readonly end: number } {
  const end = buf.length;
  const need = (n: number): void => {
    if (n < 0 || off + n > end) throw invalid(`truncated at byte ${String(off)}`);
  };
  const text = (): string => {
    need(4);
    const n = buf.readUInt32LE(off);
    off += 4;
    need(n);
    const s = buf.toString('utf8', off, off + n);
    off += n;
    return s;
  };
  const destination = text();
  need(4);
  const count = buf.readUInt32LE(off);
  off += 4;
  // Each header string takes at least its 4-byte length: a count the bytes cannot hold is damage.
  if (count % 2 !== 0) throw invalid('odd header count');
  need(count * 4);
  const headers = new Array<string>(count);
  for (let i = 0; i < count; i++) headers[i] = text();
  need(4);
  const bodyLength = buf.readUInt32LE(off);
  off += 4;
  need(bodyLength);
  const body = buf.subarray(off, off + bodyLength);
  return {
    message: new Message(destination, headers, body, properties),
    end: off + bodyLength,
  };
}

/**
 * Write `message` into `buf` at `off`, which has {@link encodedMessageLength} bytes of room;
 * returns the offset after it. For a caller that frames messages inside records of its own.
 */
export function encodeMessageInto(buf: Buffer, off: number, message: Message): number {
  buf[off++] = FORMAT;
  buf[off++] = message.persistent ? 1 : 0;
  buf[off++] = message.priority;
  off = buf.writeDoubleLE(message.expires, off);
  return encodeContentInto(buf, off, message);
}

/** `message` as bytes (see {@link decodeMessage}). */
export function encodeMessage(message: Message): Buffer {
  const buf = Buffer.allocUnsafe(encodedMessageLength(message));
  encodeMessageInto(buf, 0, message);
  return buf;
}

/**
 * The message `bytes` hold, as {@link encodeMessage} wrote it. Its body is a view into `bytes`
 * (an engine that keeps the message calls {@link Message.own}). Throws
 * `ERR_STOMP_INVALID_ARGUMENT` for bytes that are not an encoded message.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PROPERTIES) throw invalid('truncated at byte 0');
  const format = buf[0]!;
  if (format !== FORMAT) throw invalid(`unknown format ${String(format)}`);
  const flags = buf[1]!;
  const priority = buf[2]!;
  const expires = buf.readDoubleLE(3);
  if (priority > 9 || !(expires >= 0) || !Number.isFinite(expires)) {
    throw invalid('priority or expiry out of range');
  }
  const { message, end } = decodeContent(buf, PROPERTIES, {
    persistent: (flags & 1) !== 0,
    priority,
    expires,
  });
  if (end !== buf.length) throw invalid('trailing bytes');
  return message;
}

function putText(buf: Buffer, off: number, s: string): number {
  const n = buf.write(s, off + 4);
  buf.writeUInt32LE(n, off);
  return off + 4 + n;
}

function invalid(what: string): StompInvalidArgumentError {
  return new StompInvalidArgumentError(`not an encoded message: ${what}`);
}
