// Paging reads: stored messages read back by seq, neighbours merged into one read, each record
// checked before it is decoded. A record that cannot be read is reported and comes back
// undefined (the engine drops that message alone).
import type { Message } from '../message.js';
import { RECORD_HEADER, crc32, decodeEnqueue } from './codec.js';
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
      state.lost(no, start, 'its segment is gone');
      i++;
      continue;
    }
    if (start + lenOf[first]! > seg.durable) {
      const record = writer.unwritten(seg, start);
      if (record === undefined) state.lost(no, start, 'not found in the unwritten records');
      else out[first] = decode(state, record, no, start);
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
          out[r] = decode(state, block.subarray(at, at + lenOf[r]!), no, offOf[r]!);
        } else {
          state.lost(no, offOf[r]!, 'short read');
        }
      }
    } catch (err) {
      for (let k = i; k < j; k++) state.lost(no, offOf[order[k]!]!, String(err));
    }
    i = j;
  }
  return out;
}

function decode(
  state: JournalState,
  record: Buffer,
  seg: number,
  off: number,
): Message | undefined {
  const len = record.readUInt32LE(0);
  const payload = record.subarray(RECORD_HEADER);
  if (len !== payload.length || crc32(payload) !== record.readUInt32LE(4)) {
    state.lost(seg, off, 'the record fails its checksum');
    return undefined;
  }
  try {
    return decodeEnqueue(payload);
  } catch (err) {
    state.lost(seg, off, String(err));
    return undefined;
  }
}
