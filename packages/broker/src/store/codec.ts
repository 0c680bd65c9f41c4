// Journal record payloads: their types, encoders and decoders (the framing around a payload is
// record.ts). A payload's first byte is its type; numbers are little-endian, strings a u32 byte
// length and UTF-8.
import { Message } from '../message.js';
import { small } from '../small-int.js';
import { seqCheck } from './checksum.js';
import { RECORD_HEADER, RecordType, seal, sealWith } from './record.js';

/** Bodies of at least this many bytes stay out of the record's head buffer (no copy). */
const BODY_APART = 4096;

/**
 * An ENQUEUE record of `message` for `queueKey` as copy `seq`: one buffer, or for a large body
 * the head and the body itself (the record is their concatenation, written with one writev).
 */
export function encodeEnqueue(queueKey: string, seq: number, message: Message): Buffer[] {
  const headers = message.headers;
  let size = RECORD_HEADER + 1 + 8 + 1 + 8 + 4 + 4 + 4 + 4;
  const keyLen = Buffer.byteLength(queueKey);
  const destLen = Buffer.byteLength(message.destination);
  size += keyLen + destLen;
  const lens: number[] = new Array<number>(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const l = Buffer.byteLength(headers[i]!);
    lens[i] = l;
    size += 4 + l;
  }
  const body = message.body;
  // A large body is written from where it is (a second iovec), not copied into the record.
  const apart = body.length >= BODY_APART;
  if (!apart) size += body.length;
  const buf = Buffer.allocUnsafe(size);
  let o = RECORD_HEADER;
  buf[o++] = RecordType.ENQUEUE;
  buf.writeDoubleLE(seq, o);
  o += 8;
  buf[o++] = message.priority;
  buf.writeDoubleLE(message.expires, o);
  o += 8;
  buf.writeUInt32LE(keyLen, o);
  o += 4;
  o += buf.write(queueKey, o);
  buf.writeUInt32LE(destLen, o);
  o += 4;
  o += buf.write(message.destination, o);
  buf.writeUInt32LE(headers.length, o);
  o += 4;
  for (let i = 0; i < headers.length; i++) {
    buf.writeUInt32LE(lens[i]!, o);
    o += 4;
    o += buf.write(headers[i]!, o);
  }
  buf.writeUInt32LE(body.length, o);
  o += 4;
  if (!apart) {
    buf.set(body, o);
    return [seal(buf)];
  }
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

/** A record of strings only (SUBSCRIPTION, DROP). */
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
  bytes(): Buffer {
    const n = this.u32();
    if (this.o + n > this.buf.length) throw new RangeError('bytes past the end of the record');
    const b = this.buf.subarray(this.o, this.o + n);
    this.o += n;
    return b;
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
  const destination = r.str();
  const n = r.u32();
  if (n > payload.length) throw new RangeError('header count past the end of the record');
  const headers: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) headers[i] = r.str();
  const body = r.bytes();
  return new Message(destination, headers, body, {
    persistent: true,
    priority: head.priority,
    expires: head.expires,
  });
}
