// Format 1 of the journal ('STMPJRN1' segments, records `[u32 length][u32 CRC-32][payload]`,
// REMOVE payloads a count and bare seqs), written by stompede 0.1. It is read so that such a
// journal is migrated, never written: recovery reads its segments (a record that fails stops the
// reading of its segment, as format 1 cannot find the next record again), and compaction copies
// their live records into format-2 segments and deletes them, oldest first, from the first start.
import { crc32 } from './checksum.js';
import { RECORD_HEADER, RecordType, seal } from './record.js';

/** Bytes before a format-1 segment's first record. */
export const LEGACY_SEGMENT_HEADER = 16;
/** Bytes before a format-1 record's payload. */
export const LEGACY_RECORD_HEADER = 8;
const MAX_RECORD = 1 << 30;

/** A format-1 record found by {@link legacyRecords}. */
export interface LegacyVisit {
  (payload: Buffer, off: number, len: number): void;
}

/**
 * Walk the records of a format-1 segment, calling `visit` for each whole one with its payload
 * decoded as format 1 (a REMOVE's seqs are handed over one by one through `removed`). Returns
 * where reading stopped: the end, the start of a zero tail, or the first record that fails.
 */
export function legacyRecords(
  buf: Buffer,
  visit: LegacyVisit,
  removed: (seq: number) => void,
): { readonly end: number; readonly clean: boolean } {
  let o = LEGACY_SEGMENT_HEADER;
  while (o < buf.length) {
    if (buf[o] === 0 && zerosFrom(buf, o)) return { end: o, clean: true };
    if (o + LEGACY_RECORD_HEADER > buf.length) return { end: o, clean: false };
    const len = buf.readUInt32LE(o);
    if (len === 0 || len > MAX_RECORD || o + LEGACY_RECORD_HEADER + len > buf.length) {
      return { end: o, clean: false };
    }
    const payload = buf.subarray(o + LEGACY_RECORD_HEADER, o + LEGACY_RECORD_HEADER + len);
    if (crc32(payload) !== buf.readUInt32LE(o + 4)) return { end: o, clean: false };
    if (payload[0] === RecordType.REMOVE) {
      if (payload.length < 5) return { end: o, clean: false };
      const n = payload.readUInt32LE(1);
      if (5 + n * 8 !== payload.length) return { end: o, clean: false };
      for (let k = 0; k < n; k++) removed(payload.readDoubleLE(5 + 8 * k));
    } else {
      visit(payload, o, LEGACY_RECORD_HEADER + len);
    }
    o += LEGACY_RECORD_HEADER + len;
  }
  return { end: o, clean: true };
}

/** True when a raw format-1 record's length and checksum hold. */
export function legacyIntact(record: Buffer): boolean {
  return (
    record.length >= LEGACY_RECORD_HEADER &&
    record.readUInt32LE(0) === record.length - LEGACY_RECORD_HEADER &&
    crc32(record.subarray(LEGACY_RECORD_HEADER)) === record.readUInt32LE(4)
  );
}

/** The format-2 record of a format-1 ENQUEUE record (same payload). */
export function fromLegacy(record: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER + record.length - LEGACY_RECORD_HEADER);
  record.copy(buf, RECORD_HEADER, LEGACY_RECORD_HEADER);
  return seal(buf);
}

function zerosFrom(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
