// Recovery's scratch list of the ENQUEUE records found in the journal, as growable typed-array
// columns rather than one object per record: ≈ 33 bytes a record (more while doubling), freed
// once the index and the queues' packed lists are built.
import { grown } from '../typed-arrays.js';

/** The ENQUEUE records found, in journal order. */
export class FoundRecords {
  n = 0;
  seq = new Float64Array(1024);
  seg = new Uint32Array(1024);
  off = new Uint32Array(1024);
  len = new Uint32Array(1024);
  /** The queue key's number (see `keys` in recover()). */
  queue = new Uint32Array(1024);
  priority = new Uint8Array(1024);
  expires = new Float64Array(1024);

  push(
    seq: number,
    seg: number,
    off: number,
    len: number,
    queue: number,
    priority: number,
    expires: number,
  ): void {
    if (this.n === this.seq.length) this.grow();
    const k = this.n++;
    this.seq[k] = seq;
    this.seg[k] = seg;
    this.off[k] = off;
    this.len[k] = len;
    this.queue[k] = queue;
    this.priority[k] = priority;
    this.expires[k] = expires;
  }

  /**
   * The records' numbers ordered by seq; of a seq found twice (copied by a compaction cut short
   * before it deleted the original) only the later copy, which is the one written last.
   */
  bySeq(): Uint32Array {
    const n = this.n;
    const seq = this.seq;
    let order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = seq[i - 1]! < seq[i]!;
    // Out of order only after compaction (copies of old seqs written after newer ones).
    if (!sorted) order.sort((a, b) => seq[a]! - seq[b]! || a - b);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      if (i + 1 < n && seq[order[i + 1]!] === seq[k]) continue;
      order[w++] = k;
    }
    if (w < n) order = order.slice(0, w);
    return order;
  }

  private grow(): void {
    const size = this.seq.length * 2;
    this.seq = grown(this.seq, size);
    this.seg = grown(this.seg, size);
    this.off = grown(this.off, size);
    this.len = grown(this.len, size);
    this.queue = grown(this.queue, size);
    this.priority = grown(this.priority, size);
    this.expires = grown(this.expires, size);
  }
}

/** Growable list of seqs (the REMOVE records' seqs). */
export class SeqList {
  n = 0;
  seqs = new Float64Array(1024);

  push(seq: number): void {
    if (this.n === this.seqs.length) this.seqs = grown(this.seqs, this.n * 2);
    this.seqs[this.n++] = seq;
  }

  /** The seqs, sorted. */
  sorted(): Float64Array {
    return this.seqs.subarray(0, this.n).sort();
  }
}
