// Recovery's scan: read and check every record of every segment, in order, and rebuild the
// index, the queue keys and the durable subscriptions; damage is reported and cut off.
import {
  copyFileSync,
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  unlinkSync,
} from 'node:fs';
import { MAX_RECORD, RECORD_HEADER, Reader, RecordType, crc32 } from './codec.js';
import { FoundRecords, SeqList } from './found.js';
import { QueueKeys } from './queue-keys.js';
import { SEGMENT_HEADER, type Segment, hasSegmentHeader } from './segment.js';
import type { JournalState } from './state.js';

/** What a scan read. */
export interface ScanStats {
  readonly records: number;
  readonly damaged: number;
}

/** True when `buf` holds only zeros from `from` on (a preallocated tail, never written). */
function zeroTail(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Read and check every record of `files` into `state` (which is empty). */
export function scan(state: JournalState, files: readonly number[]): ScanStats {
  const removed = new SeqList();
  const dropped = new Set<string>();
  const found = new FoundRecords();
  /** Queue keys found, by number (FoundRecords.queue). */
  const keys: string[] = [];
  const keyNo = new Map<string, number>();
  let maxSeq = 0;
  let records = 0;
  let damaged = 0;
  for (let i = 0; i < files.length; i++) {
    const no = files[i]!;
    const seg = state.segment(no);
    const buf = readFileSync(seg.path);
    const last = i === files.length - 1;
    if (!hasSegmentHeader(buf)) {
      damaged++;
      damage(state, seg, buf, 0, last, 'the segment header is missing or damaged');
      continue;
    }
    let o = SEGMENT_HEADER;
    let problem: string | undefined;
    while (o < buf.length) {
      // Zeros written ahead of the records (see Writer.write()): the end of the segment.
      if (buf[o] === 0 && zeroTail(buf, o)) break;
      if (o + RECORD_HEADER > buf.length) {
        problem = 'a record header is cut short';
        break;
      }
      const len = buf.readUInt32LE(o);
      if (len === 0 || len > MAX_RECORD || o + RECORD_HEADER + len > buf.length) {
        problem =
          len === 0 || len > MAX_RECORD ? 'a record length is invalid' : 'a record is cut short';
        break;
      }
      const payload = buf.subarray(o + RECORD_HEADER, o + RECORD_HEADER + len);
      if (crc32(payload) !== buf.readUInt32LE(o + 4)) {
        problem = 'a record fails its checksum';
        break;
      }
      try {
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
            found.push(seq, no, o, RECORD_HEADER + len, q, Math.min(9, priority), expires);
            break;
          }
          case RecordType.REMOVE: {
            const n = r.u32();
            if (n * 8 + 5 > payload.length) throw new RangeError('seq count past the end');
            for (let k = 0; k < n; k++) removed.push(r.f64());
            break;
          }
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
          default:
            throw new RangeError(`unknown record type ${String(payload[0])}`);
        }
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        problem = `a record cannot be decoded (${err.message})`;
        break;
      }
      records++;
      o += RECORD_HEADER + len;
    }
    if (problem !== undefined) {
      damaged++;
      damage(state, seg, buf, o, last, problem);
    }
    seg.size = seg.durable = Math.min(o, buf.length);
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
    const seg = state.byNo.get(found.seg[k]!)!;
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
  return { records, damaged };
}

/** Report damage at `offset` of a segment, keep the bytes that are dropped, cut the file. */
function damage(
  state: JournalState,
  seg: Segment,
  buf: Buffer,
  offset: number,
  last: boolean,
  problem: string,
): void {
  const lost = buf.length - offset;
  const aside = `${seg.path}.damaged-${String(Date.now())}`;
  let kept = false;
  try {
    copyFileSync(seg.path, aside);
    kept = true;
  } catch {
    // best effort: the report below still says what was lost
  }
  const torn = last && problem !== 'a record fails its checksum' && offset > 0;
  const detail = {
    segment: seg.path,
    offset,
    bytesDropped: lost,
    ...(kept ? { copy: aside } : {}),
  };
  if (torn) {
    state.log.warn(
      detail,
      `journal: torn last write (${problem}); the valid prefix is kept. Unsynced writes are never receipted, so no acknowledged message is lost`,
    );
  } else {
    state.log.error(
      detail,
      `journal: ${problem}; the valid prefix is kept, the records after it in this segment are lost`,
    );
  }
  try {
    const fd = openSync(seg.path, 'r+');
    try {
      ftruncateSync(fd, Math.max(offset, 0));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (offset === 0) unlinkSync(seg.path);
  } catch (err) {
    state.log.error({ err, segment: seg.path }, 'journal: cannot cut the damaged segment');
  }
}
