// The journal's side of the clean-shutdown checkpoint (file format: checkpoint.ts): write the
// state at a clean close, and at start take it back when it still describes the segments on
// disk exactly.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  TAIL_BYTES,
  type Checkpoint,
  decodeCheckpoint,
  readCheckpointFile,
  removeCheckpoint,
  writeCheckpoint,
} from './checkpoint.js';
import { crc32 } from './checksum.js';
import { QueueKeys } from './queue-keys.js';
import { SEGMENT_HEADER, type SegmentHead, readSegmentHead, segmentPath } from './segment.js';
import { SeqIndex } from './seq-index.js';
import type { JournalState } from './state.js';

/**
 * The clean-shutdown checkpoint, when there is one that can be read (its own checks hold);
 * undefined, saying why, otherwise.
 */
export function readCheckpoint(
  state: JournalState,
  files: readonly number[],
): Checkpoint | undefined {
  const log = state.log;
  let file: Buffer | undefined;
  try {
    file = readCheckpointFile(state.jdir);
  } catch (err) {
    log.warn({ err }, 'journal: cannot read the checkpoint; every record is read instead');
    return undefined;
  }
  if (file === undefined) {
    if (files.length > 0) {
      log.info('journal: no checkpoint (the last stop was not clean); every record is read');
    }
    return undefined;
  }
  try {
    return decodeCheckpoint(file);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    log.warn(
      { reason: err.message },
      `journal: the checkpoint is not used (${err.message}); every record is read instead`,
    );
    return undefined;
  }
}

/**
 * Rebuild `state` from checkpoint `c` when it matches `files` exactly (same segments, sizes and
 * last bytes); false, saying why, otherwise.
 */
export function fromCheckpoint(
  state: JournalState,
  c: Checkpoint,
  files: readonly number[],
): boolean {
  let heads: SegmentHead[];
  try {
    heads = matches(state.jdir, c, files);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    state.log.warn(
      { reason: err.message },
      `journal: the checkpoint is not used (${err.message}); every record is read instead`,
    );
    return false;
  }
  return restore(state, c, heads);
}

/**
 * Throws a RangeError unless the segments on disk are exactly those `c` describes; their formats
 * and salts (from their headers) otherwise.
 */
function matches(jdir: string, c: Checkpoint, files: readonly number[]): SegmentHead[] {
  if (c.segments.length !== files.length || c.segments.some((s, i) => s.no !== files[i])) {
    throw new RangeError('the segments on disk are not those it lists');
  }
  const heads: SegmentHead[] = [];
  for (const s of c.segments) {
    const fd = openSync(segmentPath(jdir, s.no), 'r');
    try {
      const first = Buffer.alloc(Math.min(SEGMENT_HEADER, s.size));
      readSync(fd, first, 0, first.length, 0);
      const head = readSegmentHead(first, s.no);
      if (head === undefined || (head.format === 2 && head.salt === undefined)) {
        throw new RangeError(`segment ${String(s.no)} has a damaged header`);
      }
      heads.push(head);
      if (fstatSync(fd).size !== s.size) {
        throw new RangeError(`segment ${String(s.no)} changed size since`);
      }
      const tail = Buffer.allocUnsafe(Math.min(TAIL_BYTES, s.size));
      if (readSync(fd, tail, 0, tail.length, s.size - tail.length) !== tail.length) {
        throw new RangeError(`segment ${String(s.no)} is cut short`);
      }
      if (crc32(tail) !== s.tail) {
        throw new RangeError(`segment ${String(s.no)} ends with other bytes than it did`);
      }
    } finally {
      closeSync(fd);
    }
  }
  return heads;
}

/** Take the state `c` holds (checked for consistency first); false when it does not hold. */
function restore(state: JournalState, c: Checkpoint, heads: readonly SegmentHead[]): boolean {
  const segs = c.segments.map((s, i) => {
    const seg = state.segment(s.no);
    seg.size = seg.durable = s.size;
    const head = heads[i]!;
    if (head.format === 1) seg.format = 1;
    else seg.salt = head.salt!;
    return seg;
  });
  const byNo = new Map(segs.map((seg) => [seg.no, seg]));
  const { segs: at, offs, lens, metas } = c.index;
  const counts = new Uint32Array(c.keys.length);
  let problem: string | undefined;
  try {
    const index = SeqIndex.unpack(c.index, c.maxSeq);
    for (let i = 0; i < at.length && problem === undefined; i++) {
      const q = metas[i]! >>> 4;
      if (c.keys[q] === undefined || (metas[i]! & 15) > 9) problem = 'an entry of no queue';
      else counts[q]!++;
      if (at[i] === 0) continue; // its copy was lost before the stop
      const seg = byNo.get(at[i]!);
      if (seg === undefined || offs[i]! + lens[i]! > seg.size) {
        problem = 'an entry outside the segments';
      } else {
        seg.live++;
        seg.liveBytes += lens[i]!;
      }
    }
    if (problem === undefined) {
      state.index = index;
      state.keys = QueueKeys.from(c.keys, counts);
    }
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    problem = err.message;
  }
  if (problem !== undefined) {
    state.log.warn(
      { reason: problem },
      `journal: the checkpoint is not used (${problem}); every record is read instead`,
    );
    return false;
  }
  for (const seg of segs) state.add(seg);
  for (const [key, vhost, clientId, name, topic] of c.subscriptions) {
    state.subs.set(key, { vhost, clientId, name, topic });
  }
  for (const key of c.queues) state.queues.add(key);
  state.recoveredMaxSeq = c.maxSeq;
  return true;
}

/**
 * Write the clean-shutdown checkpoint: every write is durable and none can follow, so the
 * state in memory is exactly what a scan of the segments would rebuild.
 */
export function saveCheckpoint(state: JournalState, fsync: boolean): void {
  const started = Date.now();
  try {
    const segments = state.segs.map((seg) => {
      const tail = Buffer.allocUnsafe(Math.min(TAIL_BYTES, seg.size));
      const got = seg.readAt(tail, seg.size - tail.length);
      closeSync(seg.rfd);
      seg.rfd = -1;
      if (got !== tail.length) throw new Error(`segment ${String(seg.no)} is shorter than written`);
      return { no: seg.no, size: seg.size, tail: crc32(tail) };
    });
    writeCheckpoint(
      state.jdir,
      {
        maxSeq: Math.max(state.recoveredMaxSeq, state.index.maxSeq),
        segments,
        subscriptions: [...state.subs].map(([key, d]) => [
          key,
          d.vhost,
          d.clientId,
          d.name,
          d.topic,
        ]),
        queues: [...state.queues],
        keys: state.keys.table,
        index: state.index.pack(),
      },
      fsync,
    );
    state.log.info(
      { messages: state.index.size, segments: segments.length, ms: Date.now() - started },
      'journal: checkpoint written (the next start need not read every record)',
    );
  } catch (err) {
    state.log.warn(
      { err },
      'journal: cannot write the checkpoint; the next start reads every record',
    );
    try {
      removeCheckpoint(state.jdir, fsync);
    } catch {
      // a damaged one is rejected by its checksum
    }
  }
}
