// Recovery's scan: read and check every record of every segment, in order, and rebuild the
// index, the queue keys and the durable subscriptions. Damage costs only the records it touched:
// the walk (walk.ts) goes on past it and every intact REMOVE is applied, wherever it is. Damage
// at the very end of the journal is a torn write (a crash in the middle of a group: never synced,
// so never receipted): it is cut off and logged at info with what it held. After a clean stop
// there is none: the checkpoint's sizes say how far every segment was synced. Damage anywhere
// else is reported as an error with exactly what it cost (damage.ts), and left in place.
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { Reader } from './codec.js';
import { type DamageReport, reportScanDamage } from './damage.js';
import { FoundRecords, SeqList } from './found.js';
import { legacyRecords } from './legacy.js';
import { QueueKeys } from './queue-keys.js';
import { RecordType, findRecord } from './record.js';
import { SEGMENT_HEADER, type Segment, readSegmentHead } from './segment.js';
import type { JournalState } from './state.js';
import { type Region, walkSegment } from './walk.js';

/** What a scan read and found. */
export interface ScanResult {
  readonly records: number;
  /** Damage in the middle of the journal (reported as errors). */
  readonly damage: DamageReport;
}

interface Read {
  readonly seg: Segment;
  readonly length: number;
  readonly regions: Region[];
  /** Where its records end (a zero tail starts there). */
  readonly end: number;
  /** Intact records in it. */
  readonly records: number;
  /** The header cannot be used (no record of it can be checked). */
  readonly headless: boolean;
  /** Headless, and empty, zeros or the start of a header (a crash while it was created). */
  readonly blank: boolean;
}

/**
 * Read and check every record of `files` into `state` (which is empty). `synced`: how many bytes
 * of each segment a clean stop had synced (its checkpoint's sizes), when one did.
 */
export function scan(
  state: JournalState,
  files: readonly number[],
  synced: ReadonlyMap<number, number> = new Map(),
): ScanResult {
  const removed = new SeqList();
  const dropped = new Set<string>();
  const found = new FoundRecords();
  const notes = new Set<string>();
  /** Queue keys found, by number (FoundRecords.queue). */
  const keys: string[] = [];
  const keyNo = new Map<string, number>();
  let maxSeq = 0;
  let records = 0;
  const reads: Read[] = [];
  const remove = (seq: number): void => {
    if (seq > maxSeq) maxSeq = seq;
    removed.push(seq);
  };

  for (const no of files) {
    const seg = state.segment(no);
    const buf = readFileSync(seg.path);
    const visit = (payload: Buffer, off: number, len: number): void => {
      records++;
      try {
        apply(payload, off, len);
      } catch (err) {
        // It passed its checks, yet cannot be read: written by a newer format, or a bug.
        records--;
        state.damaged(1, 0);
        state.log.error(
          { segment: no, offset: off, err },
          'journal: a record that passes its checks cannot be read (written by a newer version?); it is skipped',
        );
      }
    };
    const apply = (payload: Buffer, off: number, len: number): void => {
      const r = new Reader(payload);
      switch (payload[0]) {
        case RecordType.ENQUEUE: {
          const seq = r.f64();
          const priority = r.u8();
          const expires = r.f64();
          const key = r.str();
          if (seq > maxSeq) maxSeq = seq;
          let q = keyNo.get(key);
          if (q === undefined) {
            q = keys.length;
            keys.push(key);
            keyNo.set(key, q);
          }
          found.push(seq, no, off, len, q, Math.min(9, priority), expires);
          break;
        }
        case RecordType.REMOVE:
          // Format 2 only: format 1 hands its seqs over through `remove` below.
          for (let k = 0, o = 5, n = payload.readUInt32LE(1); k < n; k++, o += 12) {
            remove(payload.readDoubleLE(o));
          }
          break;
        case RecordType.SUBSCRIPTION: {
          const key = r.str();
          const def = { vhost: r.str(), clientId: r.str(), name: r.str(), topic: r.str() };
          if (!dropped.has(key)) state.subs.set(key, def);
          break;
        }
        case RecordType.DROP: {
          const key = r.str();
          dropped.add(key);
          state.subs.delete(key);
          break;
        }
        case RecordType.QUEUE:
          state.queues.add(r.str());
          break;
        case RecordType.QUEUE_DELETE:
          state.queues.delete(r.str());
          break;
        case RecordType.DAMAGE:
          notes.add(`${String(r.u32())}:${String(r.u32())}`);
          break;
        default:
          throw new RangeError(`unknown record type ${String(payload[0])}`);
      }
    };
    const before = records;
    const head = readSegmentHead(buf, no);
    let regions: Region[] = [];
    let end = buf.length;
    let headless = false;
    let blank = false;
    if (head?.format === 1) {
      seg.format = 1;
      const r = legacyRecords(buf, visit, remove);
      end = r.end;
      if (!r.clean) {
        regions = [
          {
            seg: no,
            off: r.end,
            end: buf.length,
            tail: true,
            records: [],
            unknown: buf.length - r.end,
          },
        ];
      }
    } else {
      let salt = head?.salt;
      // Both copies of the header damaged: the salt that checks the records is the one.
      for (const s of head?.salts ?? []) {
        if (salt === undefined && findRecord(buf, SEGMENT_HEADER, no, s) >= 0) salt = s;
      }
      if (salt === undefined) {
        headless = true;
        blank = isBlank(buf);
      } else {
        seg.salt = salt;
        ({ regions, end } = walkSegment(buf, no, salt, visit));
      }
    }
    reads.push({
      seg,
      length: buf.length,
      regions,
      end,
      records: records - before,
      headless,
      blank,
    });
  }

  const present = new Set(files);
  for (const [no, size] of synced) {
    if (size > SEGMENT_HEADER && !present.has(no)) missingSegment(state, no, size);
  }
  // Damage after the last intact record of the journal is a torn write, unless a clean stop
  // synced it; any other is damage.
  let lastValid = -1;
  for (let i = 0; i < reads.length; i++) if (reads[i]!.records > 0) lastValid = i;
  const middle: Region[] = [];
  const torn: Region[] = [];
  for (let i = 0; i < reads.length; i++) {
    const read = reads[i]!;
    const seg = read.seg;
    const clean = synced.get(seg.no) ?? 0;
    if (read.headless) {
      // Blank (a crash while it was created) only with nothing intact after it and no record
      // synced by a clean stop; else damage.
      if (read.blank && clean <= SEGMENT_HEADER && (i > lastValid || read.length === 0)) {
        cut(state, seg, 0, true);
        if (read.length > 0) {
          state.log.info(
            { segment: seg.path, bytes: read.length },
            'journal: a segment cut short while it was created (a crash) is deleted',
          );
        }
      } else moveAside(state, seg, read.length);
      continue;
    }
    // Zeros after the records (preallocated, then a crash) are the end.
    let size = read.end;
    let tornHere = false;
    if (read.end < clean) read.regions.push(missing(seg.no, read.end, clean));
    for (const region of read.regions) {
      if (region.tail && i >= lastValid && region.off >= clean) {
        torn.push(region);
        tornHere = true;
        size = Math.min(size, region.off);
        // Acknowledgements of a cut REMOVE whose own checks hold were made: they stand.
        for (const rec of region.records) for (const seq of rec.removed ?? []) remove(seq);
      } else {
        middle.push(region);
        for (const rec of region.records) {
          if (rec.type === RecordType.ENQUEUE && rec.seq !== undefined && rec.seq > maxSeq) {
            maxSeq = rec.seq;
          }
          for (const seq of rec.removed ?? []) remove(seq);
        }
      }
    }
    const last = i === reads.length - 1;
    // Nothing intact here nor after: nothing to keep (no damage reported in it), unless the
    // writer can go on in it.
    if (i > lastValid && clean === 0 && (!last || seg.format === 1)) {
      cut(state, seg, 0, true);
      continue;
    }
    // Cut what is dropped, so the next start does not meet it again; the newest segment's zero
    // tail stays (the writer goes on over it).
    if (size < read.length && (tornHere || !last)) cut(state, seg, size, false);
    seg.size = seg.durable = size;
    state.add(seg);
  }

  // Which queues survive: named queues, and durable subscriptions still defined.
  const accepted = keys.map((key) => {
    if (dropped.has(key)) return false;
    return key.startsWith('q\0') || state.subs.has(key);
  });
  // The live records in seq order go to the index, with their queue's number.
  const order = found.bySeq();
  const gone = removed.sorted();
  const counts = new Uint32Array(keys.length);
  let g = 0;
  let orphans = 0;
  for (let i = 0; i < order.length; i++) {
    const k = order[i]!;
    const seq = found.seq[k]!;
    while (g < gone.length && gone[g]! < seq) g++;
    if (g < gone.length && gone[g] === seq) continue;
    const q = found.queue[k]!;
    if (!accepted[q]) {
      if (!dropped.has(keys[q]!)) orphans++;
      continue;
    }
    const len = found.len[k]!;
    const seg = state.byNo.get(found.seg[k]!);
    if (seg === undefined) continue; // in a segment cut away as torn
    seg.live++;
    seg.liveBytes += len;
    state.index.add(seq, seg.no, found.off[k]!, len, q, found.priority[k], found.expires[k]);
    counts[q]!++;
  }
  state.keys = QueueKeys.from(keys, counts);
  state.recoveredMaxSeq = maxSeq;
  if (orphans > 0) {
    state.log.error(
      { messages: orphans },
      'journal: messages of a durable subscription whose definition was lost are dropped',
    );
  }
  const damage = reportScanDamage(state, { torn, middle, notes, removed: gone, dropped });
  return { records, damage };
}

/**
 * Bytes a clean stop synced that are no longer there (the segment is shorter, or zeros where
 * records were): damage of unknown content.
 */
function missing(seg: number, end: number, synced: number): Region {
  return { seg, off: end, end: synced, tail: false, records: [], unknown: synced - end };
}

/** A segment a clean stop listed, deleted since (by hand?): reported, as nothing of it is left. */
function missingSegment(state: JournalState, no: number, bytes: number): void {
  state.damaged(1, 0);
  state.log.error(
    { segment: no, bytes },
    `journal: segment ${String(no)} (${String(bytes)} bytes at the last clean stop) is missing: the messages stored in it are lost and the acknowledgements recorded in it undone`,
  );
}

/** Cut `seg`'s file to `size` bytes (durably), or delete it. */
function cut(state: JournalState, seg: Segment, size: number, remove: boolean): void {
  try {
    if (remove) {
      unlinkSync(seg.path);
      return;
    }
    const fd = openSync(seg.path, 'r+');
    try {
      ftruncateSync(fd, size);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    state.log.error({ err, segment: seg.path }, 'journal: cannot cut a torn segment');
  }
}

/** True when `buf` is empty, zeros, or the start of a segment header (being created). */
function isBlank(buf: Buffer): boolean {
  if (buf.length >= SEGMENT_HEADER) return buf.every((b) => b === 0);
  const magic = Buffer.from('STMPJRN2', 'latin1');
  return (
    buf.every((b) => b === 0) ||
    buf.subarray(0, 8).equals(magic.subarray(0, Math.min(8, buf.length)))
  );
}

/**
 * A segment whose header is unreadable (no record of it can be checked): renamed aside (so the
 * journal goes on without it, and its bytes stay for a look), and reported.
 */
function moveAside(state: JournalState, seg: Segment, bytes: number): void {
  const aside = `${seg.path}.damaged`;
  try {
    renameSync(seg.path, aside);
  } catch (err) {
    state.log.error({ err, segment: seg.path }, 'journal: cannot move a damaged segment aside');
  }
  state.damaged(1, 0);
  state.log.error(
    { segment: seg.no, bytes, copy: aside },
    `journal: segment ${String(seg.no)} has an unreadable header, so none of its ${String(bytes)} bytes can be checked: the messages stored in it are lost and the acknowledgements recorded in it undone; it is moved aside to ${aside}`,
  );
}
