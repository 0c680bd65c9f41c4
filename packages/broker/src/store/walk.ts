// Walking a format-2 segment's bytes record by record, past damage: a record whose header holds
// but whose payload fails costs that record only (its length is known), and bytes where no
// header holds are skipped to the next place where one does (record.ts). What could not be read
// is returned as damaged regions, with what can still be told about the records in them.
import { Reader, decodeRemove } from './codec.js';
import { Probe, RECORD_HEADER, RecordType, findRecord, headIntact, probe } from './record.js';
import { SEGMENT_HEADER } from './segment.js';

/** A record of a damaged region whose header holds. */
export interface DamagedRecord {
  readonly off: number;
  readonly len: number;
  /** Its type, when its head is intact. */
  readonly type: RecordType | undefined;
  /** An ENQUEUE's seq and queue key, when its head is intact. */
  readonly seq?: number;
  readonly key?: string;
  /** A REMOVE's seqs whose own checks hold (and the count of those that do not). */
  readonly removed?: readonly number[];
  readonly unreadable?: number;
}

/** Bytes of a segment that could not be read as whole, intact records. */
export interface Region {
  readonly seg: number;
  readonly off: number;
  end: number;
  /** No intact record follows it in its segment. */
  tail: boolean;
  /** Its records whose header holds. */
  readonly records: DamagedRecord[];
  /** Bytes in it where no record header holds (content unknown). */
  unknown: number;
}

/** What {@link walkSegment} hands over for each intact record. */
export type RecordVisit = (payload: Buffer, off: number, len: number) => void;

/**
 * Walk the records of segment `seg` in `buf` (its bytes from offset 0, or from `from`), calling
 * `visit` for each intact one in order. Returns the damaged regions and where the records end
 * (the start of a zero tail, or the end of `buf`).
 */
export function walkSegment(
  buf: Buffer,
  seg: number,
  salt: number,
  visit: RecordVisit,
  from = SEGMENT_HEADER,
): { readonly regions: Region[]; readonly end: number } {
  const regions: Region[] = [];
  let region: Region | undefined;
  const damaged = (off: number): Region => {
    if (region?.end !== off) {
      region = { seg, off, end: off, tail: false, records: [], unknown: 0 };
      regions.push(region);
    }
    return region;
  };
  let o = from;
  while (o < buf.length) {
    // Zeros written ahead of the records (see Writer): the end of the segment.
    if (buf[o] === 0 && zerosFrom(buf, o)) break;
    const p = probe(buf, o, seg, salt);
    if (p === Probe.OK) {
      const len = RECORD_HEADER + buf.readUInt32LE(o + 4);
      visit(buf.subarray(o + RECORD_HEADER, o + len), o, len);
      o += len;
      continue;
    }
    const r = damaged(o);
    if (p === Probe.NONE) {
      const next = findRecord(buf, o + 1, seg, salt);
      const end = next < 0 ? buf.length : next;
      r.unknown += end - o;
      r.end = o = end;
      continue;
    }
    const len = Math.min(RECORD_HEADER + buf.readUInt32LE(o + 4), buf.length - o);
    r.records.push(identify(buf, o, len));
    r.end = o += len;
  }
  const last = regions.at(-1);
  if (last !== undefined && last.end >= o) last.tail = true;
  return { regions, end: o };
}

/** What can be told of the damaged (or cut) record at `o`. */
function identify(buf: Buffer, o: number, len: number): DamagedRecord {
  // A cut record's head may still be whole: its CRC says so (headIntact reads what there is).
  if (!headIntact(buf, o)) return { off: o, len, type: undefined };
  const payload = buf.subarray(o + RECORD_HEADER, o + len);
  try {
    switch (payload[0]) {
      case RecordType.ENQUEUE: {
        const r = new Reader(payload);
        const seq = r.f64();
        r.u8();
        r.f64();
        return { off: o, len, type: RecordType.ENQUEUE, seq, key: r.str() };
      }
      case RecordType.REMOVE: {
        const removed: number[] = [];
        const unreadable = decodeRemove(payload, (s) => removed.push(s), true);
        return { off: o, len, type: RecordType.REMOVE, removed, unreadable };
      }
      default:
        return { off: o, len, type: payload[0] as RecordType };
    }
  } catch {
    return { off: o, len, type: undefined };
  }
}

function zerosFrom(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
