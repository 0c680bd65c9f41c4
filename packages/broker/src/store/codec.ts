// Journal record payloads: their types, encoders and decoders (the framing around a payload is
// record.ts). A payload's first byte is its type; numbers are little-endian, strings a u32 byte
// length and UTF-8.
import type { Message } from '../message.js';
import {
  contentLength,
  decodeContent,
  encodeContentHeadInto,
  encodeContentInto,
} from '../message-codec.js';
import { small } from '../small-int.js';
import { seqCheck } from './checksum.js';
import { RECORD_HEADER, RecordType, seal, sealWith } from './record.js';

/** Bodies of at least this many bytes stay out of the record's head buffer (no copy). */
const BODY_APART = 4096;

/** Bytes of an ENQUEUE record before its queue key (framing, type, seq, priority, expiry, n). */
const ENQUEUE_HEAD = RECORD_HEADER + 1 + 8 + 1 + 8 + 4;

/**
 * An ENQUEUE record: `[type][f64 seq][u8 priority][f64 expires][u32 n + n bytes queue key]` and
 * the message's content as message-codec.ts lays it out (destination, headers, body). One buffer,
 * or for a large body the head and the body itself (the record is their concatenation, written
 * with one writev).
 */
export function encodeEnqueue(queueKey: string, seq: number, message: Message): Buffer[] {
  const keyLen = Buffer.byteLength(queueKey);
  // A large body is written from where it is (a second iovec), not copied into the record.
  const apart = message.bodyLength >= BODY_APART;
  const size = ENQUEUE_HEAD + keyLen + contentLength(message);
  const buf = Buffer.allocUnsafe(apart ? size - message.bodyLength : size);
  let o = RECORD_HEADER;
  buf[o++] = RecordType.ENQUEUE;
  o = buf.writeDoubleLE(seq, o);
  buf[o++] = message.priority;
  o = buf.writeDoubleLE(message.expires, o);
  o = buf.writeUInt32LE(keyLen, o);
  o += buf.write(queueKey, o);
  if (!apart) {
    encodeContentInto(buf, o, message);
    return [seal(buf)];
  }
  encodeContentHeadInto(buf, o, message);
  const body = message.body;
  const tail = Buffer.from(body.buffer, body.byteOffset, body.length);
  return [sealWith(buf, tail), tail];
}

/** Bytes per seq in a REMOVE record. */
const REMOVED = 12;

/** A REMOVE record for `seqs`. */
export function encodeRemove(seqs: ArrayLike<number>): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER + 1 + 4 + REMOVED * seqs.length);
  let o = RECORD_HEADER;
  buf[o++] = RecordType.REMOVE;
  buf.writeUInt32LE(seqs.length, o);
  o += 4;
  for (let i = 0; i < seqs.length; i++) {
    buf.writeDoubleLE(seqs[i]!, o);
    buf.writeUInt32LE(seqCheck(buf, o), o + 8);
    o += REMOVED;
  }
  return seal(buf);
}

/**
 * The seqs of a REMOVE payload, to `out`. With `damaged` (its checksum failed but its head
 * holds), only the seqs whose own check holds; the number of the others is returned.
 */
export function decodeRemove(payload: Buffer, out: (seq: number) => void, damaged = false): number {
  const n = payload.readUInt32LE(1);
  if (5 + n * REMOVED !== payload.length) {
    if (!damaged) throw new RangeError('seq count does not match the record length');
  }
  let bad = 0;
  for (let k = 0, o = 5; k < n; k++, o += REMOVED) {
    if (o + REMOVED > payload.length) {
      bad += n - k;
      break;
    }
    if (damaged && seqCheck(payload, o) !== payload.readUInt32LE(o + 8)) bad++;
    else out(payload.readDoubleLE(o));
  }
  return bad;
}

/** A DAMAGE record: `length` damaged bytes at `offset` of segment `segment`, found at `time`. */
export function encodeDamage(
  segment: number,
  offset: number,
  length: number,
  time: number,
): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER + 1 + 4 + 4 + 4 + 8);
  let o = RECORD_HEADER;
  buf[o++] = RecordType.DAMAGE;
  o = buf.writeUInt32LE(segment, o);
  o = buf.writeUInt32LE(offset, o);
  o = buf.writeUInt32LE(length, o);
  buf.writeDoubleLE(time, o);
  return seal(buf);
}

/** A record of strings only (SUBSCRIPTION, DROP, QUEUE, QUEUE_DELETE). */
export function encodeStrings(type: RecordType, strings: readonly string[]): Buffer {
  let size = RECORD_HEADER + 1;
  for (const s of strings) size += 4 + Buffer.byteLength(s);
  const buf = Buffer.allocUnsafe(size);
  let o = RECORD_HEADER;
  buf[o++] = type;
  for (const s of strings) {
    const n = buf.write(s, o + 4);
    buf.writeUInt32LE(n, o);
    o += 4 + n;
  }
  return seal(buf);
}

/** A bounds-checked reader over a payload; any overrun throws {@link RangeError}. */
export class Reader {
  o = 1;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    return this.buf.readUInt8(this.o++);
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.o);
    this.o += 4;
    return v;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.o);
    this.o += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    if (this.o + n > this.buf.length) throw new RangeError('string past the end of the record');
    const s = this.buf.toString('utf8', this.o, this.o + n);
    this.o += n;
    return s;
  }
}

/** The head of an ENQUEUE payload: what recovery needs without decoding the message. */
export interface EnqueueHead {
  readonly seq: number;
  readonly priority: number;
  readonly expires: number;
  readonly queueKey: string;
}

/** Read the head of an ENQUEUE payload. */
export function readEnqueueHead(r: Reader): EnqueueHead {
  const seq = small(r.f64());
  const priority = r.u8();
  const expires = small(r.f64());
  const queueKey = r.str();
  return { seq, priority, expires, queueKey };
}

/** Decode a whole ENQUEUE payload into its message. */
export function decodeEnqueue(payload: Buffer): Message {
  const r = new Reader(payload);
  const head = readEnqueueHead(r);
  return decodeContent(payload, r.o, {
    persistent: true,
    priority: head.priority,
    expires: head.expires,
  }).message;
}
