// Journal record framing, format 2. Every record is a 20-byte header and a payload:
//
//   0  u32 sync marker 0xE7C54A52 (bytes 52 4A C5 E7)
//   4  u32 payload length
//   8  u32 CRC-32 of the payload
//  12  u32 CRC-32 of the payload's head: its type and what says what the record is about (an
//      ENQUEUE's seq, priority, expiry and queue key; a REMOVE's count; all of any other record)
//  16  u32 position check: CRC-32 of bytes 0-15, the segment number and the record's offset in
//      it, seeded with the segment's salt (a random number in the segment header)
//  20  payload (codec.ts); its first byte is the type
//
// Why each field: the marker and the position check let a reader that met damage find the next
// record again (resync) without trusting any length: it looks for the marker and accepts a place
// only where the position check holds, and that check cannot be met by bytes a producer chose (a
// message body holding a forged record) without the segment's salt, which never leaves the disk,
// nor by a record copied from elsewhere. A header that holds gives a trustworthy length, so a
// record whose payload is damaged costs that record only; its head CRC still says what was lost
// when the damage is past the head. Numbers are little-endian.
import { crc32 } from './checksum.js';

/** Bytes before a record's payload. */
export const RECORD_HEADER = 20;
/** Largest payload accepted when reading (a longer length field is damage). */
export const MAX_RECORD = 1 << 30;
const SYNC = 0xe7c54a52;
const SYNC_BYTES = Buffer.from([0x52, 0x4a, 0xc5, 0xe7]);

/** Record types. */
export const RecordType = {
  /** A message stored in a queue: seq, priority, expires, queue key, destination, headers, body. */
  ENQUEUE: 1,
  /** Copies consumed: a count, then per seq the seq (f64) and its check (u32, `seqCheck`). */
  REMOVE: 2,
  /** A durable subscription: key, vhost, client id, name, topic. */
  SUBSCRIPTION: 3,
  /** A durable subscription deleted, with every message stored for it: key. */
  DROP: 4,
  /** Damage already reported: segment, offset and length of the damaged bytes, time found. */
  DAMAGE: 5,
  /** A queue created (by an operator or by use), kept while empty and unused: queue key. */
  QUEUE: 6,
  /** A created queue deleted (its messages' REMOVEs come before it): queue key. */
  QUEUE_DELETE: 7,
} as const;
/** A record type. */
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Bytes of an ENQUEUE payload before its queue key: type, seq, priority, expires, key length. */
const ENQUEUE_FIXED = 1 + 8 + 1 + 8 + 4;

/** The length of `payload`'s head (see the header comment), at most its length. */
export function headLength(payload: Buffer): number {
  switch (payload[0]) {
    case RecordType.ENQUEUE:
      if (payload.length < ENQUEUE_FIXED) return payload.length;
      return Math.min(payload.length, ENQUEUE_FIXED + payload.readUInt32LE(ENQUEUE_FIXED - 4));
    case RecordType.REMOVE:
      return Math.min(payload.length, 5);
    default:
      return payload.length;
  }
}

/**
 * Finish a record whose payload is written at {@link RECORD_HEADER}: marker, length and both
 * checksums. Its position check is written by {@link place} once its place is known.
 */
export function seal(buf: Buffer): Buffer {
  const payload = buf.subarray(RECORD_HEADER);
  buf.writeUInt32LE(SYNC, 0);
  buf.writeUInt32LE(payload.length, 4);
  buf.writeUInt32LE(crc32(payload), 8);
  buf.writeUInt32LE(crc32(payload.subarray(0, headLength(payload))), 12);
  return buf;
}

/**
 * {@link seal} for a record whose payload is `buf`'s (from {@link RECORD_HEADER}) followed by
 * `tail`, kept apart (a large body, written from where it is). The payload's head must lie in
 * `buf`.
 */
export function sealWith(buf: Buffer, tail: Buffer): Buffer {
  const payload = buf.subarray(RECORD_HEADER);
  buf.writeUInt32LE(SYNC, 0);
  buf.writeUInt32LE(payload.length + tail.length, 4);
  buf.writeUInt32LE(crc32(tail, crc32(payload)), 8);
  buf.writeUInt32LE(crc32(payload.subarray(0, headLength(payload))), 12);
  return buf;
}

const scratch = Buffer.alloc(24);

function positionCheck(buf: Buffer, o: number, seg: number, off: number, salt: number): number {
  buf.copy(scratch, 0, o, o + 16);
  scratch.writeUInt32LE(seg, 16);
  scratch.writeUInt32LE(off, 20);
  return crc32(scratch, salt);
}

/** Write `record`'s position check for offset `off` of segment `seg` (salt `salt`). */
export function place(record: Buffer, seg: number, off: number, salt: number): void {
  record.writeUInt32LE(positionCheck(record, 0, seg, off, salt), 16);
}

/** What {@link probe} found at an offset. */
export const Probe = {
  /** A whole record whose checksums hold. */
  OK: 0,
  /** The header holds (so does its length), the payload fails its checksum. */
  DAMAGED: 1,
  /** The header holds, the payload runs past the end of the bytes. */
  CUT: 2,
  /** No record header holds here. */
  NONE: 3,
} as const;
export type Probe = (typeof Probe)[keyof typeof Probe];

/**
 * Look at `buf[o..]` as the record at offset `at` (default `o`) of segment `seg`. The payload's
 * length, when the header holds, is `buf.readUInt32LE(o + 4)`.
 */
export function probe(buf: Buffer, o: number, seg: number, salt: number, at = o): Probe {
  if (o + RECORD_HEADER > buf.length || buf.readUInt32LE(o) !== SYNC) return Probe.NONE;
  if (positionCheck(buf, o, seg, at, salt) !== buf.readUInt32LE(o + 16)) return Probe.NONE;
  const len = buf.readUInt32LE(o + 4);
  if (len === 0 || len > MAX_RECORD) return Probe.NONE;
  if (o + RECORD_HEADER + len > buf.length) return Probe.CUT;
  const payload = buf.subarray(o + RECORD_HEADER, o + RECORD_HEADER + len);
  return crc32(payload) === buf.readUInt32LE(o + 8) ? Probe.OK : Probe.DAMAGED;
}

/** True when the head of the (whole, header-checked) record at `o` is intact. */
export function headIntact(buf: Buffer, o: number): boolean {
  const payload = buf.subarray(o + RECORD_HEADER, o + RECORD_HEADER + buf.readUInt32LE(o + 4));
  return crc32(payload.subarray(0, headLength(payload))) === buf.readUInt32LE(o + 12);
}

/**
 * The offset of the first record header that holds in `buf` at or after `from` (`base` is the
 * segment offset of `buf[0]`), or -1.
 */
export function findRecord(buf: Buffer, from: number, seg: number, salt: number, base = 0): number {
  let p = buf.indexOf(SYNC_BYTES, from);
  while (p >= 0) {
    if (probe(buf, p, seg, salt, base + p) !== Probe.NONE) return p;
    p = buf.indexOf(SYNC_BYTES, p + 1);
  }
  return -1;
}

/** True when `record` (header and payload) is whole and intact at `off` of segment `seg`. */
export function recordIntact(record: Buffer, seg: number, off: number, salt: number): boolean {
  return (
    probe(record, 0, seg, salt, off) === Probe.OK &&
    record.length === RECORD_HEADER + record.readUInt32LE(4)
  );
}
