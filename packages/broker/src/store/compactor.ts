// Compaction: when dead bytes (consumed messages, REMOVE records) are at least `ratio` of the
// journal and at least a segment's worth, the live records of the oldest segment (those the
// index places there) are copied, byte for byte, to the current one, a little at a time, reading
// the segment in order, and the oldest is deleted once the copies are durable (see collect()).
// Segments are thus still deleted oldest-first only, so a REMOVE record never disappears before
// the ENQUEUE it cancels; a crash between copy and delete leaves two copies of a seq, and
// recovery keeps the later one.
import { fromLegacy, legacyIntact } from './legacy.js';
import { Probe, RECORD_HEADER, RecordType, probe, recordIntact } from './record.js';
import type { Segment } from './segment.js';
import type { JournalState } from './state.js';
import type { Writer } from './writer.js';

/** Live bytes copied per compaction step (one group of its own, so receipts wait for at most this). */
const COMPACT_STEP = 256 * 1024;
/** Dead bytes worth a compaction when disk space is short. */
const URGENT_MIN = 256 * 1024;
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
  /** Bytes that may be written now without filling the disk (checked while it is short). */
  readonly room: () => number;
}

export class Compactor {
  private readonly delay: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private waiters: (() => void)[] = [];
  private stopped = false;
  /** Disk space is short: compact as soon as the dead bytes are worth it, however few. */
  urgent = false;

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
    if (oldest.format === 1) return true; // migrated from the first start
    let total = 0;
    let live = 0;
    for (const seg of segs) {
      total += seg.size;
      live += seg.liveBytes;
    }
    const dead = total - live;
    // Short of space, only a compaction whose copies fit: the copies come before the deletion.
    if (this.urgent && oldest.liveBytes + COMPACT_STEP > this.options.room()) return false;
    // At least a segment's worth must be reclaimable, so a lone small journal is left alone;
    // short of space, any worthwhile amount.
    const least = this.urgent
      ? Math.min(URGENT_MIN, this.options.segmentSize)
      : this.options.segmentSize;
    return dead >= least && dead >= this.options.ratio * total;
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
    // A format-1 segment is migrated whole (its records cannot be walked as format 2).
    if (seg.format === 1) this.byIndex(seg);
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
      const view = block.subarray(0, got);
      let o = 0;
      let broken = false;
      while (o < got && copied < budget) {
        const p = probe(view, o, seg.no, seg.salt, seg.scan + o);
        if (p === Probe.CUT) break; // continues in the next block
        if (p !== Probe.OK) {
          broken = true;
          break;
        }
        const end = o + RECORD_HEADER + view.readUInt32LE(o + 4);
        const record = view.subarray(o, end);
        this.copyIfLive(seg, record, seg.scan + o);
        copied += record.length;
        o = end;
      }
      if (broken) {
        // Damaged: its records can no longer be walked in order.
        this.byIndex(seg);
        break;
      }
      if (o === 0) {
        // One record larger than a block: read it whole.
        const record = Buffer.allocUnsafe(RECORD_HEADER + view.readUInt32LE(4));
        if (
          seg.readAt(record, seg.scan) < record.length ||
          !recordIntact(record, seg.no, seg.scan, seg.salt)
        ) {
          this.byIndex(seg);
          break;
        }
        this.copyIfLive(seg, record, seg.scan);
        o = record.length;
      }
      seg.scan += o;
    }
    // Read to its end yet something still counted live there: find it through the index.
    if (seg.scan >= seg.size && seg.live > 0) this.byIndex(seg);
    const cur = this.state.cur!;
    seg.until = { seg: cur, end: cur.size };
  }

  /** Copy the intact `record` at `off` of `seg` when it is the live copy of its seq. */
  private copyIfLive(seg: Segment, record: Buffer, off: number): void {
    if (record[RECORD_HEADER] !== RecordType.ENQUEUE) return;
    const index = this.state.index;
    const pos = index.find(record.readDoubleLE(RECORD_HEADER + 1));
    if (pos >= 0 && index.seg(pos) === seg.no && index.off(pos) === off) {
      this.relocate(seg, pos, record);
    }
  }

  /** Copy `record` (the live copy at index position `pos`, in `from`) to the current segment. */
  private relocate(from: Segment, pos: number, record: Buffer): void {
    from.live--;
    from.liveBytes -= this.state.index.len(pos);
    const off = this.writer.append(record);
    const to = this.state.cur!;
    this.state.index.move(pos, to.no, off, record.length);
    to.live++;
    to.liveBytes += record.length;
  }

  /**
   * Copy, one by one, every live record the index places in `seg` (when the segment cannot be
   * walked in order, or is of format 1); an unreadable one is lost, and reported.
   */
  private byIndex(seg: Segment): void {
    const index = this.state.index;
    for (const [seq, off, len] of index.inSegment(seg.no)) {
      const pos = index.find(seq!);
      const record = Buffer.allocUnsafe(len!);
      let ok = false;
      try {
        ok =
          seg.readAt(record, off!) === len &&
          (seg.format === 1 ? legacyIntact(record) : recordIntact(record, seg.no, off!, seg.salt));
      } catch {
        ok = false;
      }
      if (ok) {
        this.relocate(seg, pos, seg.format === 1 ? fromLegacy(record) : record);
      } else {
        this.state.lost(seq!, seg.no, off!, 'the record fails its checksum (found by compaction)');
        seg.live--;
        seg.liveBytes -= len!;
        index.move(pos, 0, off!, len!);
      }
    }
    seg.scan = seg.size;
  }
}
