// Journal record encoding. A record is `[u32 payload length][u32 CRC-32 of the payload][payload]`
// (little-endian); the payload's first byte is its type.
import * as zlib from 'node:zlib';
import { Message } from '../message.js';
import { small } from '../small-int.js';

/** Record types. */
export const RecordType = {
  /** A message stored in a queue: seq, priority, expires, queue key, destination, headers, body. */
  ENQUEUE: 1,
  /** Copies consumed: a list of seqs. */
  REMOVE: 2,
  /** A durable subscription: key, vhost, client id, name, topic. */
  SUBSCRIPTION: 3,
  /** A durable subscription deleted, with every message stored for it: key. */
  DROP: 4,
} as const;
/** A record type. */
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Bytes before a record's payload. */
export const RECORD_HEADER = 8;
/** Largest payload accepted when reading (a longer length field is damage). */
export const MAX_RECORD = 1 << 30;

const crcTable = ((): Int32Array => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32js(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const nativeCrc = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE, as zlib and gzip): native when Node has `zlib.crc32` (20.15+), else a table. */
export const crc32: (data: Uint8Array) => number =
  nativeCrc === undefined ? crc32js : (data) => nativeCrc(data);

/** True when a raw record's length and checksum hold. */
export function intact(record: Buffer): boolean {
  return (
    record.length >= RECORD_HEADER &&
    record.readUInt32LE(0) === record.length - RECORD_HEADER &&
    crc32(record.subarray(RECORD_HEADER)) === record.readUInt32LE(4)
  );
}

/** Finish a record: write its length and checksum in the first 8 bytes. */
function seal(buf: Buffer): Buffer {
  const payload = buf.subarray(RECORD_HEADER);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt32LE(crc32(payload), 4);
  return buf;
}

/** An ENQUEUE record. */
export function encodeEnqueue(queueKey: string, seq: number, message: Message): Buffer {
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
  size += message.body.length;
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
  buf.writeUInt32LE(message.body.length, o);
  o += 4;
  buf.set(message.body, o);
  return seal(buf);
}

/** A REMOVE record for `seqs`. */
export function encodeRemove(seqs: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER + 1 + 4 + 8 * seqs.length);
  let o = RECORD_HEADER;
  buf[o++] = RecordType.REMOVE;
  buf.writeUInt32LE(seqs.length, o);
  o += 4;
  for (const s of seqs) {
    buf.writeDoubleLE(s, o);
    o += 8;
  }
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
