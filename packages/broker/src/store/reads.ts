// Paging reads: stored messages read back by seq, neighbours merged into one read, each record
// checked before it is decoded. A record that cannot be read is reported and comes back
// undefined (the engine drops that message alone).
import type { Message } from '../message.js';
import { decodeEnqueue } from './codec.js';
import { LEGACY_RECORD_HEADER, legacyIntact } from './legacy.js';
import { RECORD_HEADER, recordIntact } from './record.js';
import type { Segment } from './segment.js';
import type { JournalState } from './state.js';
import type { Writer } from './writer.js';

/** Reads of neighbouring records are merged when the gap between them is at most this. */
const READ_GAP = 32 * 1024;
const READ_SPAN = 1024 * 1024;

/** Read the messages `seqs` back, in their order. */
export function load(
  state: JournalState,
  writer: Writer,
  seqs: ArrayLike<number>,
): (Message | undefined)[] {
  const n = seqs.length;
  const out = new Array<Message | undefined>(n).fill(undefined);
  const index = state.index;
  // Where each one is, then read in file order.
  const segOf = new Uint32Array(n);
  const offOf = new Uint32Array(n);
  const lenOf = new Uint32Array(n);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const pos = index.find(seqs[i]!);
    if (pos < 0) {
      state.log.error({ seq: seqs[i] }, 'journal: a stored message cannot be read: not stored');
      continue;
    }
    segOf[i] = index.seg(pos);
    offOf[i] = index.off(pos);
    lenOf[i] = index.len(pos);
    order.push(i);
  }
  order.sort((a, b) => segOf[a]! - segOf[b]! || offOf[a]! - offOf[b]!);
  let i = 0;
  while (i < order.length) {
    const first = order[i]!;
    const no = segOf[first]!;
    const start = offOf[first]!;
    const seg = state.byNo.get(no);
    if (seg === undefined) {
      if (no === 0) {
        // Found damaged earlier (and reported then): dropped now.
        state.log.warn({ seq: seqs[first] }, 'journal: a message reported lost before is dropped');
      } else state.lost(seqs[first]!, no, start, 'its segment is gone');
      i++;
      continue;
    }
    if (start + lenOf[first]! > seg.durable) {
      const record = writer.unwritten(seg, start);
      if (record === undefined) {
        state.lost(seqs[first]!, no, start, 'not found in the unwritten records');
      } else out[first] = decode(state, seg, record, seqs[first]!, start);
      i++;
      continue;
    }
    // Merge neighbours into one read.
    let j = i + 1;
    let end = start + lenOf[first]!;
    while (j < order.length) {
      const r = order[j]!;
      const off = offOf[r]!;
      if (segOf[r] !== no || off + lenOf[r]! > seg.durable) break;
      if (off - end > READ_GAP || off + lenOf[r]! - start > READ_SPAN) break;
      end = Math.max(end, off + lenOf[r]!);
      j++;
    }
    const block = Buffer.allocUnsafe(end - start);
    try {
      const got = seg.readAt(block, start);
      for (let k = i; k < j; k++) {
        const r = order[k]!;
        const at = offOf[r]! - start;
        if (at + lenOf[r]! <= got) {
          out[r] = decode(state, seg, block.subarray(at, at + lenOf[r]!), seqs[r]!, offOf[r]!);
        } else {
          state.lost(seqs[r]!, no, offOf[r]!, 'short read');
        }
      }
    } catch (err) {
      for (let k = i; k < j; k++) {
        const r = order[k]!;
        state.lost(seqs[r]!, no, offOf[r]!, String(err));
      }
    }
    i = j;
  }
  return out;
}

function decode(
  state: JournalState,
  seg: Segment,
  record: Buffer,
  seq: number,
  off: number,
): Message | undefined {
  const legacy = seg.format === 1;
  if (legacy ? !legacyIntact(record) : !recordIntact(record, seg.no, off, seg.salt)) {
    state.lost(seq, seg.no, off, 'the record fails its checksum');
    return undefined;
  }
  try {
    return decodeEnqueue(record.subarray(legacy ? LEGACY_RECORD_HEADER : RECORD_HEADER));
  } catch (err) {
    state.lost(seq, seg.no, off, String(err));
    return undefined;
  }
}
