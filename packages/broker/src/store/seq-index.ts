// Where the live copy of each stored message is: (seq → segment, offset, length, and the queue,
// priority and expiry its record holds), packed in typed-array chunks instead of one object per
// message (24 bytes a message, 32 in a chunk holding an expiry, instead of ≈ 100 with an object
// and its array slot). The queue and priority make a clean-shutdown checkpoint a plain dump of
// the index (checkpoint.ts). Seqs are added in rising order, so every chunk is sorted and
// the chunks are ordered: a look-up is two binary searches. A removed slot stays (length 0) until
// half of its chunk is dead; the chunk is then rewritten with its live slots only and merged with a
// small neighbour, so memory stays proportional to the live messages.

/** Slots of a chunk that receives new seqs (the last one); older chunks are cut to fit. */
const CHUNK = 4096;
/** log2(CHUNK): a position is chunk * CHUNK + slot, below 2^32 for any index that fits in memory. */
const SHIFT = 12;
/**
 * A chunk of at least this many slots is rewritten when fewer than half of them are live: at
 * most 40 bytes of index per live message whatever the order of consumption.
 */
const TIDY_MIN = 16;

class Chunk {
  /** Slots in use (live and dead), from 0. */
  n = 0;
  /** Live slots (length > 0). */
  live = 0;
  readonly seqs: Float64Array;
  readonly segs: Uint32Array;
  readonly offs: Uint32Array;
  readonly lens: Uint32Array;
  /** The queue's number << 4 | the priority. */
  readonly metas: Uint32Array;
  /** Absolute expiry times, allocated once a slot of the chunk has one. */
  exps: Float64Array | undefined;

  constructor(capacity: number) {
    this.seqs = new Float64Array(capacity);
    this.segs = new Uint32Array(capacity);
    this.offs = new Uint32Array(capacity);
    this.lens = new Uint32Array(capacity);
    this.metas = new Uint32Array(capacity);
  }

  setExpires(k: number, expires: number): void {
    if (expires === 0 && this.exps === undefined) return;
    this.exps ??= new Float64Array(this.capacity);
    this.exps[k] = expires;
  }

  get capacity(): number {
    return this.seqs.length;
  }

  /** Append the live slots of `from` (their seqs above every seq here). */
  takeLive(from: Chunk): void {
    for (let i = 0; i < from.n; i++) {
      if (from.lens[i] === 0) continue;
      copySlot(from, i, this, this.n++);
      this.live++;
    }
  }
}

/** Copy slot `i` of `from` to slot `k` of `to` (the same chunk when compacting in place). */
function copySlot(from: Chunk, i: number, to: Chunk, k: number): void {
  to.seqs[k] = from.seqs[i]!;
  to.segs[k] = from.segs[i]!;
  to.offs[k] = from.offs[i]!;
  to.lens[k] = from.lens[i]!;
  to.metas[k] = from.metas[i]!;
  if (from.exps !== undefined) to.setExpires(k, from.exps[i]!);
}

/** The live entries of a {@link SeqIndex}, column by column, in seq order. */
export interface PackedIndex {
  readonly seqs: Float64Array;
  readonly segs: Uint32Array;
  readonly offs: Uint32Array;
  readonly lens: Uint32Array;
  /** The queue's number << 4 | the priority. */
  readonly metas: Uint32Array;
  /** Expiry times; undefined when none has one. */
  readonly exps: Float64Array | undefined;
}

/**
 * A packed map from seq to a record's location, for seqs added in rising order. Positions
 * returned by {@link SeqIndex.find} are valid until the next {@link SeqIndex.add} or
 * {@link SeqIndex.remove}.
 */
export class SeqIndex {
  private chunks: Chunk[] = [];
  private count = 0;
  /** The highest seq ever added (0 when none). */
  private top = 0;
  /** Where the last {@link SeqIndex.find} hit (a hint: checked before use). */
  private lastChunk = 0;
  private lastSlot = -1;

  /** Live entries. */
  get size(): number {
    return this.count;
  }

  /**
   * Add `seq` (above every seq added before) at `seg`/`off`, `len` bytes (> 0), of queue number
   * `queue` (below 2^28), with `priority` (0–9) and `expires` (0 = never).
   */
  add(
    seq: number,
    seg: number,
    off: number,
    len: number,
    queue = 0,
    priority = 0,
    expires = 0,
  ): void {
    if (seq <= this.top) {
      throw new RangeError(`seq ${String(seq)} added after ${String(this.top)}: seqs must rise`);
    }
    this.top = seq;
    let c = this.chunks.at(-1);
    if (c === undefined || c.n === c.capacity) {
      c = new Chunk(CHUNK);
      this.chunks.push(c);
    }
    const k = c.n++;
    c.seqs[k] = seq;
    c.segs[k] = seg;
    c.offs[k] = off;
    c.lens[k] = len;
    c.metas[k] = queue * 16 + priority;
    c.setExpires(k, expires);
    c.live++;
    this.count++;
  }

  /** The highest seq ever added (0 when none). */
  get maxSeq(): number {
    return this.top;
  }

  /** The live entries, column by column (a copy). */
  pack(): PackedIndex {
    const all = new Chunk(this.count);
    // An expiry column whenever a chunk has one (zeros for the slots without).
    if (this.chunks.some((c) => c.exps !== undefined)) all.exps = new Float64Array(this.count);
    for (const c of this.chunks) all.takeLive(c);
    const { seqs, segs, offs, lens, metas, exps } = all;
    return { seqs, segs, offs, lens, metas, exps };
  }

  /**
   * An index holding `packed` (seqs rising, lengths > 0), whose seqs continue after `top`.
   * Throws a RangeError when the columns disagree or the seqs do not rise.
   */
  static unpack(packed: PackedIndex, top: number): SeqIndex {
    const n = packed.seqs.length;
    const { seqs, segs, offs, lens, metas, exps } = packed;
    if (
      segs.length !== n ||
      offs.length !== n ||
      lens.length !== n ||
      metas.length !== n ||
      (exps !== undefined && exps.length !== n)
    ) {
      throw new RangeError('index columns of different lengths');
    }
    const index = new SeqIndex();
    for (let i = 0; i < n; i++) {
      if (!(seqs[i]! > (i === 0 ? 0 : seqs[i - 1]!)) || lens[i] === 0) {
        throw new RangeError('index seqs do not rise');
      }
    }
    if (n > 0 && seqs[n - 1]! > top) throw new RangeError('an index seq above the top one');
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK);
      const c = new Chunk(CHUNK);
      c.seqs.set(seqs.subarray(from, to));
      c.segs.set(segs.subarray(from, to));
      c.offs.set(offs.subarray(from, to));
      c.lens.set(lens.subarray(from, to));
      c.metas.set(metas.subarray(from, to));
      if (exps !== undefined) {
        const e = exps.subarray(from, to);
        if (e.some((x) => x !== 0)) {
          c.exps = new Float64Array(CHUNK);
          c.exps.set(e);
        }
      }
      c.n = c.live = to - from;
      index.chunks.push(c);
    }
    index.count = n;
    index.top = top;
    return index;
  }

  /** Call `fn` with every live entry's seq, meta (queue << 4 | priority) and expiry, in seq order. */
  each(fn: (seq: number, meta: number, expires: number) => void): void {
    for (const c of this.chunks) {
      const exps = c.exps;
      for (let i = 0; i < c.n; i++) {
        if (c.lens[i] !== 0) fn(c.seqs[i]!, c.metas[i]!, exps === undefined ? 0 : exps[i]!);
      }
    }
  }

  /** The queue number of the entry at `pos`. */
  queue(pos: number): number {
    return this.chunks[pos >>> SHIFT]!.metas[pos & (CHUNK - 1)]! >>> 4;
  }

  /**
   * The position of live `seq`, or -1. Look-ups mostly walk seqs in order (a page read in, a
   * queue consumed): the slot after the previous hit is tried first, then its chunk.
   */
  find(seq: number): number {
    const chunks = this.chunks;
    let ci = this.lastChunk;
    let c = chunks[ci];
    if (c === undefined || c.n === 0 || seq < c.seqs[0]! || seq > c.seqs[c.n - 1]!) {
      // The last chunk whose first seq is at most `seq` (only the last chunk may be empty).
      let lo = 0;
      let hi = chunks.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        const m = chunks[mid]!;
        if (m.n > 0 && m.seqs[0]! <= seq) lo = mid;
        else hi = mid - 1;
      }
      ci = lo;
      c = chunks[lo];
      if (c === undefined) return -1;
    }
    let i = ci === this.lastChunk ? this.lastSlot + 1 : 0;
    if (i >= c.n || c.seqs[i] !== seq) {
      i = -1;
      let a = 0;
      let b = c.n - 1;
      while (a <= b) {
        const mid = (a + b) >> 1;
        const s = c.seqs[mid]!;
        if (s < seq) a = mid + 1;
        else if (s > seq) b = mid - 1;
        else {
          i = mid;
          break;
        }
      }
      if (i < 0) return -1;
    }
    this.lastChunk = ci;
    this.lastSlot = i;
    return c.lens[i]! > 0 ? ci * CHUNK + i : -1;
  }

  /** The segment of the entry at `pos` (0: its copy was lost). */
  seg(pos: number): number {
    return this.chunks[pos >>> SHIFT]!.segs[pos & (CHUNK - 1)]!;
  }

  off(pos: number): number {
    return this.chunks[pos >>> SHIFT]!.offs[pos & (CHUNK - 1)]!;
  }

  len(pos: number): number {
    return this.chunks[pos >>> SHIFT]!.lens[pos & (CHUNK - 1)]!;
  }

  /**
   * The entry at `pos` now lives at `seg`/`off` (moved by compaction; 0 = lost), `len` bytes long
   * (a migrated record's header is longer).
   */
  move(pos: number, seg: number, off: number, len: number): void {
    const c = this.chunks[pos >>> SHIFT]!;
    c.segs[pos & (CHUNK - 1)] = seg;
    c.offs[pos & (CHUNK - 1)] = off;
    c.lens[pos & (CHUNK - 1)] = len;
  }

  /** Remove the entry at `pos`. */
  remove(pos: number): void {
    const ci = pos >>> SHIFT;
    const c = this.chunks[ci]!;
    c.lens[pos & (CHUNK - 1)] = 0;
    c.live--;
    this.count--;
    if (c.live === 0 || (c.n >= TIDY_MIN && c.live * 2 < c.n)) this.tidy(ci);
  }

  /** Every live entry stored in segment `seg`, in offset order: [seq, off, len] triples. */
  inSegment(seg: number): number[][] {
    const out: number[][] = [];
    for (const c of this.chunks) {
      for (let i = 0; i < c.n; i++) {
        if (c.lens[i]! > 0 && c.segs[i] === seg) out.push([c.seqs[i]!, c.offs[i]!, c.lens[i]!]);
      }
    }
    return out.sort((x, y) => x[1]! - y[1]!);
  }

  /** Rewrite chunk `ci` with its live slots only (merged with a neighbour when they fit in one). */
  private tidy(ci: number): void {
    const chunks = this.chunks;
    const c = chunks[ci]!;
    const last = ci === chunks.length - 1;
    if (last) {
      // It receives new seqs: keep its capacity, move the live slots down.
      let k = 0;
      for (let i = 0; i < c.n; i++) {
        if (c.lens[i] !== 0) copySlot(c, i, c, k++);
      }
      c.n = k;
      return;
    }
    if (c.live === 0) {
      chunks.splice(ci, 1);
      return;
    }
    let lo = ci;
    let hi = ci;
    let total = c.live;
    const prev = chunks[ci - 1];
    if (prev !== undefined && total + prev.live <= CHUNK) {
      lo--;
      total += prev.live;
    }
    const next = chunks[ci + 1];
    if (next !== undefined && ci + 1 < chunks.length - 1 && total + next.live <= CHUNK) {
      hi++;
      total += next.live;
    }
    const packed = new Chunk(total);
    for (let i = lo; i <= hi; i++) packed.takeLive(chunks[i]!);
    chunks.splice(lo, hi - lo + 1, packed);
  }
}
