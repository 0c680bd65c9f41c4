// The journal's group-commit writer. Appends are synchronous and in memory: a record gets its
// offset at once and joins the pending batch; at the end of the current task (a microtask) the
// batch is written, one writev per segment it touches and one fdatasync, and its waiters are
// resolved; writes made meanwhile form the next batch. REMOVEs of a batch share one record.
import { fsyncSync, ftruncateSync, openSync, writevSync, closeSync } from 'node:fs';
import { RecordType, encodeRemove, encodeStrings } from './codec.js';
import {
  ZEROS_MAX,
  closeAsync,
  shortWrite,
  syncData,
  syncDir,
  truncateAsync,
  writeAll,
  writeZeros,
} from './files.js';
import { SEGMENT_HEADER, type Segment, segmentHeader } from './segment.js';
import type { JournalState } from './state.js';

/** Groups up to this size are written synchronously (a copy into the page cache), saving a
 * thread-pool round trip per group; only the fdatasync goes to the pool. */
const SYNC_WRITE = 256 * 1024;

/** Options of the {@link Writer}. */
export interface WriterOptions {
  /** Bytes after which a new segment is started. */
  readonly segmentSize: number;
  /** fdatasync every group before it counts as written. */
  readonly fsync: boolean;
  /** Called after every batch made durable. */
  readonly written: () => void;
}

interface Group {
  readonly seg: Segment;
  readonly bufs: Buffer[];
  readonly offs: number[];
  end: number;
}

class Batch {
  readonly groups: Group[] = [];
  bytes = 0;
  promise: Promise<void> | undefined;
  resolve: (() => void) | undefined;
  reject: ((err: unknown) => void) | undefined;

  wait(): Promise<void> {
    this.promise ??= new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    return this.promise;
  }
}

export class Writer {
  private pending = new Batch();
  private inflight: Batch | undefined;
  private removes: number[] = [];
  private scheduled = false;
  /** The write error that stopped the writer (fail-stop). */
  failed: unknown;
  closed = false;
  private readonly prealloc: number;

  constructor(
    private readonly state: JournalState,
    private readonly options: WriterOptions,
  ) {
    // Extend files with zeros ahead of the records only when syncing: see write().
    this.prealloc = options.fsync
      ? Math.max(16 * 1024, Math.min(ZEROS_MAX, options.segmentSize >> 4))
      : 0;
  }

  /** Bytes written but not yet durable. */
  get pendingBytes(): number {
    return this.pending.bytes + (this.inflight?.bytes ?? 0);
  }

  /** True while anything is appended and not yet durable. */
  get busy(): boolean {
    return this.pending.groups.length > 0 || this.removes.length > 0 || this.inflight !== undefined;
  }

  /** Open the next segment and make it the current one (its header and subscriptions first). */
  startSegment(): void {
    const state = this.state;
    const prev = state.cur;
    const seg = state.segment((state.segs.at(-1)?.no ?? 0) + 1);
    seg.wfd = openSync(seg.path, 'wx');
    seg.created = true;
    if (prev !== undefined) prev.sealed = true;
    state.add(seg);
    state.cur = seg;
    this.put(seg, segmentHeader(seg.no));
    for (const [key, def] of state.subs) {
      this.put(
        seg,
        encodeStrings(RecordType.SUBSCRIPTION, [key, def.vhost, def.clientId, def.name, def.topic]),
      );
    }
  }

  /** Append a record to the current segment (which `state.cur` is afterwards); its offset. */
  append(buf: Buffer): number {
    if (this.closed) throw new Error('the journal is closed');
    const seg = this.state.cur!;
    if (seg.size + buf.length > this.options.segmentSize && seg.size > SEGMENT_HEADER + 4096) {
      this.startSegment();
    }
    return this.put(this.state.cur!, buf);
  }

  /** Record that `seq` was consumed (with the next batch's REMOVE record). */
  remove(seq: number): void {
    this.removes.push(seq);
    this.schedule();
  }

  private put(seg: Segment, buf: Buffer): number {
    const off = seg.size;
    seg.size += buf.length;
    const groups = this.pending.groups;
    let group = groups.at(-1);
    if (group?.seg !== seg) {
      group = { seg, bufs: [], offs: [], end: off };
      groups.push(group);
    }
    group.bufs.push(buf);
    group.offs.push(off);
    group.end = seg.size;
    this.pending.bytes += buf.length;
    this.schedule();
    return off;
  }

  /** Resolves when every write made before the call is durable. */
  sync(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(toError(this.failed));
    if (this.pending.groups.length > 0 || this.removes.length > 0) return this.pending.wait();
    if (this.inflight !== undefined) return this.inflight.wait();
    return Promise.resolve();
  }

  /** The record at `off` of `seg` among the writes not yet durable. */
  unwritten(seg: Segment, off: number): Buffer | undefined {
    for (const batch of [this.inflight, this.pending]) {
      if (batch === undefined) continue;
      for (const g of batch.groups) {
        if (g.seg !== seg) continue;
        const k = g.offs.indexOf(off);
        if (k >= 0) return g.bufs[k];
      }
    }
    return undefined;
  }

  private schedule(): void {
    if (this.scheduled || this.inflight !== undefined) return;
    this.scheduled = true;
    // At the end of the current task, so every write it made (a socket chunk's frames) forms one
    // group, without waiting for the next turn of the event loop.
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.inflight !== undefined) return;
    if (this.removes.length > 0) {
      const seqs = this.removes;
      this.removes = [];
      for (let i = 0; i < seqs.length; i += 65536)
        this.append(encodeRemove(seqs.slice(i, i + 65536)));
      this.scheduled = false;
    }
    const batch = this.pending;
    if (batch.groups.length === 0) {
      this.pending = new Batch();
      batch.resolve?.();
      return;
    }
    this.pending = new Batch();
    this.inflight = batch;
    this.write(batch).then(
      () => {
        this.inflight = undefined;
        batch.resolve?.();
        this.options.written();
        if (this.pending.groups.length > 0 || this.removes.length > 0) this.flush();
      },
      (err: unknown) => {
        this.inflight = undefined;
        this.failed = err;
        this.state.log.error(
          { err },
          'journal: write failed; persistent messages are refused from now on',
        );
        batch.wait().catch(() => undefined);
        batch.reject?.(err);
        this.pending.wait().catch(() => undefined);
        this.pending.reject?.(err);
      },
    );
  };

  private async write(batch: Batch): Promise<void> {
    if (this.failed !== undefined) throw toError(this.failed);
    for (const group of batch.groups) {
      const seg = group.seg;
      const start = group.offs[0]!;
      if (group.end > seg.allocated && this.prealloc > 0) {
        // Extend the file with zeros ahead of the records: an fdatasync of data written over
        // allocated blocks need not commit a change of the file's size (≈ half the cost here).
        const to = Math.max(
          group.end,
          Math.min(group.end + this.prealloc, this.options.segmentSize),
        );
        if (to > group.end) await writeZeros(seg.wfd, group.end, to - group.end);
        seg.allocated = to;
      }
      if (group.end - start <= SYNC_WRITE) {
        const written = writevSync(seg.wfd, group.bufs, start);
        if (written !== group.end - start) throw shortWrite(written, group.end - start);
      } else {
        await writeAll(seg.wfd, group.bufs, start);
      }
      if (seg.allocated < group.end) seg.allocated = group.end;
      if (this.options.fsync) await syncData(seg.wfd);
      if (seg.created) {
        seg.created = false;
        if (this.options.fsync) syncDir(this.state.jdir);
      }
      seg.durable = group.end;
      if (seg.sealed && seg.durable === seg.size && seg.wfd >= 0) {
        const fd = seg.wfd;
        seg.wfd = -1;
        if (seg.allocated > seg.size) await truncateAsync(fd, seg.size);
        await closeAsync(fd);
      }
    }
  }

  /** Write everything appended, then stop taking writes; true when it all became durable. */
  async close(): Promise<boolean> {
    try {
      while (this.failed === undefined && this.busy) await this.sync();
    } catch {
      // reported when it failed
    }
    this.closed = true;
    const clean = this.failed === undefined;
    for (const seg of this.state.segs) {
      if (seg.wfd < 0) continue;
      // A clean stop leaves no preallocated zeros behind.
      if (seg.allocated > seg.size && clean) {
        try {
          ftruncateSync(seg.wfd, seg.size);
          // A checkpoint lists this size: a crash must not bring the zeros back.
          if (this.options.fsync) fsyncSync(seg.wfd);
        } catch {
          // harmless: recovery reads zeros after the last record as the end (and the
          // checkpoint, listing another size, is not used)
        }
      }
      closeSync(seg.wfd);
      seg.wfd = -1;
    }
    return clean;
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
