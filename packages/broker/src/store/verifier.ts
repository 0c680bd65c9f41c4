// Verification in the background after a start from the clean-shutdown checkpoint, which read no
// record: every record of the segments the checkpoint listed is read and checked, a little at a
// time (`rate` bytes per second), so that damage made while the broker was stopped is found now
// rather than by the next crash's scan. What it finds is reported as recovery reports it, and
// the journal is made to say again what the damaged records said, as far as the state in memory
// (which the checkpoint holds exactly) knows it: the REMOVEs of every consumed message stored up
// to the damage, the DROPs of deleted subscriptions, the current subscriptions, the deletions of
// created queues, the current created queues, and a DAMAGE record; so a later scan rebuilds the same state, and reports the damage as known.
import { Reader, encodeDamage, encodeRemove, encodeStrings } from './codec.js';
import { Fate, reportFoundDamage } from './damage.js';
import { RecordType } from './record.js';
import { SEGMENT_HEADER, type Segment } from './segment.js';
import type { JournalState } from './state.js';
import { type DamagedRecord, type Region, walkSegment } from './walk.js';
import type { Writer } from './writer.js';

/** Seqs per restated REMOVE record. */
const REMOVES_PER_RECORD = 65536;

export class Verifier {
  private queue: { readonly no: number; readonly size: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private stopped = false;
  /** What was done, for the summary line. */
  private done = { segments: 0, bytes: 0, skipped: 0, regions: 0, messagesLost: 0, started: 0 };

  constructor(
    private readonly state: JournalState,
    private readonly writer: Writer,
    /** Bytes read per second at most. */
    private readonly rate: number,
  ) {}

  /** Verify `segments` (as the checkpoint listed them), oldest first, in the background. */
  start(segments: readonly { readonly no: number; readonly size: number }[]): void {
    this.queue = [...segments];
    const bytes = segments.reduce((n, s) => n + s.size, 0);
    this.done.started = Date.now();
    if (segments.length > 0) {
      this.state.log.info(
        { segments: segments.length, bytes, rate: this.rate },
        `journal: background verification started: ${String(segments.length)} segments, ${String(bytes)} bytes, at most ${String(this.rate)} bytes/s`,
      );
    }
    this.next(0);
  }

  /** Resolves once every segment is verified (for tests). */
  verified(): Promise<void> {
    if (this.timer === undefined) return Promise.resolve();
    this.timer.ref();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stop(): void {
    if (this.timer !== undefined && !this.stopped) {
      this.state.log.info(
        { segments: this.done.segments, left: this.queue.length, foundBy: 'verification' },
        `journal: background verification stopped with the store, ${String(this.queue.length)} segments unchecked (the next start through the checkpoint checks them)`,
      );
    }
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.finish();
  }

  private next(delay: number): void {
    if (this.stopped || this.queue.length === 0) {
      if (this.timer !== undefined && !this.stopped) this.summary();
      this.timer = undefined;
      this.finish();
      return;
    }
    this.timer = setTimeout(this.step, delay);
    if (this.waiters.length === 0) this.timer.unref();
  }

  /** The end of a verification run: what it read and found (info when clean, else warn). */
  private summary(): void {
    const d = this.done;
    const fields = {
      segments: d.segments,
      bytes: d.bytes,
      skipped: d.skipped,
      damaged: d.regions,
      messagesLost: d.messagesLost,
      ms: Date.now() - d.started,
      foundBy: 'verification',
    };
    const text = `journal: background verification done: ${String(d.segments)} segments (${String(d.bytes)} bytes) checked, ${String(d.skipped)} skipped (deleted meanwhile, or of format 1)`;
    if (d.regions === 0) this.state.log.info(fields, `${text}; no damage`);
    else {
      this.state.log.warn(
        fields,
        `${text}; damage in ${String(d.regions)} places cost ${String(d.messagesLost)} messages (see the errors above)`,
      );
    }
  }

  private finish(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private readonly step = (): void => {
    const { no, size } = this.queue.shift()!;
    const seg = this.state.byNo.get(no);
    // Deleted meanwhile (consumed or compacted): nothing of it matters any more.
    if (seg === undefined || seg.format !== 2) {
      this.done.skipped++;
      this.next(0);
      return;
    }
    const buf = this.read(seg, size);
    if (buf !== undefined) {
      this.check(seg, buf);
      this.done.segments++;
      this.done.bytes += buf.length;
    }
    this.next(Math.ceil((size * 1000) / this.rate));
  };

  private read(seg: Segment, size: number): Buffer | undefined {
    const buf = Buffer.allocUnsafe(size);
    try {
      return buf.subarray(0, seg.readAt(buf, 0));
    } catch (err) {
      this.state.log.error(
        { err, segment: seg.path },
        'journal: cannot read a segment to verify it',
      );
      return undefined;
    }
  }

  private check(seg: Segment, buf: Buffer): void {
    const notes = new Set<string>();
    const { regions } = walkSegment(buf, seg.no, seg.salt, (payload) => {
      if (payload[0] === RecordType.DAMAGE) {
        const r = new Reader(payload);
        notes.add(`${String(r.u32())}:${String(r.u32())}`);
      }
    });
    for (const region of regions) {
      if (notes.has(`${String(region.seg)}:${String(region.off)}`) || this.noted(region)) continue;
      this.done.regions++;
      this.done.messagesLost += reportFoundDamage(this.state, region, (rec) => this.fate(seg, rec));
      this.restate(seg.no, region);
    }
  }

  /** Whether a later segment's DAMAGE record names `region` (it was reported before). */
  private noted(region: Region): boolean {
    for (const seg of this.state.segs) {
      if (seg.no <= region.seg || seg.format !== 2) continue;
      const buf = this.read(seg, Math.min(seg.durable, seg.size));
      if (buf === undefined) continue;
      const hit = { found: false };
      walkSegment(buf, seg.no, seg.salt, (payload) => {
        if (payload[0] !== RecordType.DAMAGE) return;
        const r = new Reader(payload);
        if (r.u32() === region.seg && r.u32() === region.off) hit.found = true;
      });
      if (hit.found) return true;
    }
    return false;
  }

  /** A damaged ENQUEUE: lost when it was the live copy (then dropped from the index now). */
  private fate(seg: Segment, rec: DamagedRecord): Fate {
    const index = this.state.index;
    const pos = index.find(rec.seq!);
    if (pos < 0) return Fate.CONSUMED;
    if (index.seg(pos) !== seg.no || index.off(pos) !== rec.off) return Fate.COPIED;
    const len = index.len(pos);
    seg.live--;
    seg.liveBytes -= len;
    index.move(pos, 0, rec.off, len);
    return Fate.LOST;
  }

  /** Append what the damaged records of `region` (in segment `no`) may have said. */
  private restate(no: number, region: Region): void {
    const state = this.state;
    const dead: number[] = [];
    const subs = new Set<string>();
    const queues = new Set<string>();
    for (const seg of state.segs) {
      if (seg.no > no || seg.format !== 2) continue;
      const buf = this.read(seg, Math.min(seg.durable, seg.size));
      if (buf === undefined) continue;
      walkSegment(
        buf,
        seg.no,
        seg.salt,
        (payload) => {
          if (payload[0] === RecordType.ENQUEUE) {
            const seq = payload.readDoubleLE(1);
            if (state.index.find(seq) < 0) dead.push(seq);
          } else if (payload[0] === RecordType.SUBSCRIPTION) {
            subs.add(new Reader(payload).str());
          } else if (payload[0] === RecordType.QUEUE) {
            queues.add(new Reader(payload).str());
          }
        },
        SEGMENT_HEADER,
      );
    }
    for (let i = 0; i < dead.length; i += REMOVES_PER_RECORD) {
      this.writer.append(encodeRemove(dead.slice(i, i + REMOVES_PER_RECORD)));
    }
    for (const key of subs) {
      if (!state.subs.has(key)) this.writer.append(encodeStrings(RecordType.DROP, [key]));
    }
    for (const [key, d] of state.subs) {
      this.writer.append(
        encodeStrings(RecordType.SUBSCRIPTION, [key, d.vhost, d.clientId, d.name, d.topic]),
      );
    }
    for (const key of queues) {
      if (!state.queues.has(key)) this.writer.append(encodeStrings(RecordType.QUEUE_DELETE, [key]));
    }
    for (const key of state.queues) this.writer.append(encodeStrings(RecordType.QUEUE, [key]));
    this.writer.append(encodeDamage(region.seg, region.off, region.end - region.off, Date.now()));
  }
}
