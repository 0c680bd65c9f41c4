// Compaction: when dead bytes (consumed messages, REMOVE records) are at least `ratio` of the
// journal and at least a segment's worth, the live records of the oldest segment (those the
// index places there) are copied, byte for byte, to the current one, a little at a time, reading
// the segment in order, and the oldest is deleted once the copies are durable (see collect()).
// Segments are thus still deleted oldest-first only, so a REMOVE record never disappears before
// the ENQUEUE it cancels; a crash between copy and delete leaves two copies of a seq, and
// recovery keeps the later one.
import { MAX_RECORD, RECORD_HEADER, RecordType, intact } from './codec.js';
import type { Segment } from './segment.js';
import type { JournalState } from './state.js';
import type { Writer } from './writer.js';

/** Live bytes copied per compaction step (one group of its own, so receipts wait for at most this). */
const COMPACT_STEP = 256 * 1024;
/** Bytes of the oldest segment read per compaction step at most. */
const COMPACT_READ = 4 * COMPACT_STEP;

/** Options of the {@link Compactor}. */
export interface CompactorOptions {
  readonly segmentSize: number;
  /** Dead share of the journal's bytes from which the oldest segment is compacted. */
  readonly ratio: number;
  /** Bytes per second it may copy (in steps of 256 KiB). */
  readonly rate: number;
  /** Delete the segments nothing needs any more. */
  readonly collect: () => void;
}

export class Compactor {
  private readonly delay: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private waiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly state: JournalState,
    private readonly writer: Writer,
    private readonly options: CompactorOptions,
  ) {
    this.delay = Math.floor((COMPACT_STEP * 1000) / options.rate);
  }

  /** True when the dead bytes are worth a compaction of the oldest segment. */
  private wanted(): boolean {
    const segs = this.state.segs;
    const oldest = segs[0];
    if (oldest === undefined || oldest === this.state.cur) return false;
    if (this.writer.failed !== undefined || this.writer.closed || this.stopped) return false;
    let total = 0;
    let live = 0;
    for (const seg of segs) {
      total += seg.size;
      live += seg.liveBytes;
    }
    const dead = total - live;
    // At least a segment's worth must be reclaimable, so a lone small journal is left alone.
    return dead >= this.options.segmentSize && dead >= this.options.ratio * total;
  }

  /** Start a step later when compaction is worth it (called after every durable batch). */
  schedule(): void {
    if (this.running || this.timer !== undefined) return;
    if (!this.wanted()) {
      this.done();
      return;
    }
    this.timer = setTimeout(this.tick, this.delay);
    // Background work keeps no process alive, unless someone waits for it.
    if (this.waiters.length === 0) this.timer.unref();
  }

  /** Resolves once compaction has nothing left to do. */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.timer?.ref();
      this.schedule();
    });
  }

  /** Stop for good (at close). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.done();
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.running || !this.wanted()) {
      this.done();
      return;
    }
    this.running = true;
    this.step(COMPACT_STEP);
    // The step's copies go out as a group of their own; the next step waits for it.
    this.writer.sync().then(
      () => {
        this.running = false;
        this.options.collect();
        this.schedule();
      },
      () => {
        this.running = false;
        this.done();
      },
    );
  };

  private done(): void {
    if (this.running || this.timer !== undefined) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Copy up to `budget` bytes of the oldest segment's live records to the current segment and
   * point the index at the copies. The segment is read in order from where the last step
   * stopped; a record is live at this place when the index has its seq here.
   */
  private step(budget: number): void {
    const seg = this.state.segs[0]!;
    if (seg.durable !== seg.size) return; // its last group is still being written
    const index = this.state.index;
    let copied = 0;
    let read = 0;
    while (seg.scan < seg.size && copied < budget && read < COMPACT_READ) {
      const block = Buffer.allocUnsafe(Math.min(seg.size - seg.scan, COMPACT_READ));
      let got: number;
      try {
        got = seg.readAt(block, seg.scan);
      } catch (err) {
        this.state.log.error({ err, segment: seg.path }, 'journal: cannot read a segment');
        this.byIndex(seg);
        break;
      }
      read += got;
      let o = 0;
      while (o + RECORD_HEADER <= got && copied < budget) {
        const len = block.readUInt32LE(o);
        const end = o + RECORD_HEADER + len;
        if (len === 0 || len > MAX_RECORD || seg.scan + end > seg.size) {
          o = -1;
          break;
        }
        if (end > got) break; // continues in the next block
        const record = block.subarray(o, end);
        if (!intact(record)) {
          o = -1;
          break;
        }
        if (record[RECORD_HEADER] === RecordType.ENQUEUE) {
          const pos = index.find(record.readDoubleLE(RECORD_HEADER + 1));
          if (pos >= 0 && index.seg(pos) === seg.no && index.off(pos) === seg.scan + o) {
            this.relocate(seg, pos, record);
            copied += record.length;
          }
        }
        o = end;
      }
      if (o < 0) {
        // Damaged since recovery checked it: its records can no longer be walked in order.
        this.byIndex(seg);
        break;
      }
      if (o === 0) {
        // One record larger than a block: read it whole.
        const record = Buffer.allocUnsafe(RECORD_HEADER + block.readUInt32LE(0));
        if (seg.readAt(record, seg.scan) < record.length) {
          this.byIndex(seg);
          break;
        }
        const pos =
          record[RECORD_HEADER] === RecordType.ENQUEUE && intact(record)
            ? index.find(record.readDoubleLE(RECORD_HEADER + 1))
            : -1;
        if (pos >= 0 && index.seg(pos) === seg.no && index.off(pos) === seg.scan) {
          this.relocate(seg, pos, record);
          copied += record.length;
        }
        o = record.length;
      }
      seg.scan += o;
    }
    // Read to its end yet something still counted live there: find it through the index.
    if (seg.scan >= seg.size && seg.live > 0) this.byIndex(seg);
    const cur = this.state.cur!;
    seg.until = { seg: cur, end: cur.size };
  }

  /** Copy `record` (the live copy at index position `pos`, in `from`) to the current segment. */
  private relocate(from: Segment, pos: number, record: Buffer): void {
    from.live--;
    from.liveBytes -= record.length;
    const off = this.writer.append(record);
    const to = this.state.cur!;
    this.state.index.move(pos, to.no, off);
    to.live++;
    to.liveBytes += record.length;
  }

  /**
   * Copy, one by one, every live record the index places in `seg` (when the segment cannot be
   * walked in order); an unreadable one is lost: the engine's load of it reports it and drops
   * the message.
   */
  private byIndex(seg: Segment): void {
    const index = this.state.index;
    for (const [seq, off, len] of index.inSegment(seg.no)) {
      const pos = index.find(seq!);
      const record = Buffer.allocUnsafe(len!);
      let ok = false;
      try {
        ok = seg.readAt(record, off!) === len && intact(record);
      } catch {
        ok = false;
      }
      if (ok) {
        this.relocate(seg, pos, record);
      } else {
        seg.live--;
        seg.liveBytes -= len!;
        index.move(pos, 0, off!);
        this.state.lost(seg.no, off!, 'the record fails its checksum (found by compaction)');
      }
    }
    seg.scan = seg.size;
  }
}
