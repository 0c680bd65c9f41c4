// The journal's group-commit writer. Appends are synchronous and in memory: a record gets its
// offset (and its position check, record.ts) at once and joins the pending batch; at the end of
// the current task (a microtask) the batch is written, one writev per segment it touches and one
// fdatasync, and its waiters are resolved; writes made meanwhile form the next batch. REMOVEs of
// a batch share one record.
//
// One fdatasync per message at most: a REMOVE alone starts no batch (nothing waits for it unless
// someone calls sync(), e.g. an ACK with a RECEIPT); it rides with the next one, or is written
// after LAZY_MS, or once LAZY_MAX are waiting. A record consumed before it was written (a message
// delivered and auto-acknowledged in the task that published it) is taken back: neither it nor
// its REMOVE reaches the disk (see cancel()).
//
// A full disk (ENOSPC, EDQUOT) does not stop the writer: the batch stays where it is, its waiters
// wait, and it is written again (positional writes, so a retry rewrites the same bytes) when
// {@link Writer.retry} is called: by the disk monitor once space is back, and after a segment is
// deleted. Any other write error stops it for good (fail-stop: persistent messages are refused).
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync } from 'node:fs';
import { StompProtocolError, ErrorCode } from '@stompede/core';
import { encodeRemove, encodeStrings } from './codec.js';
import {
  type WriteIO,
  ZEROS_MAX,
  closeAsync,
  isNoSpace,
  syncDir,
  truncateAsync,
  writeFully,
  writeZeros,
} from './files.js';
import { RecordType, place } from './record.js';
import { SEGMENT_HEADER, type Segment, newSalt, segmentHeader } from './segment.js';
import type { JournalState } from './state.js';

/** Groups up to this size are written synchronously (a copy into the page cache), saving a
 * thread-pool round trip per group; only the fdatasync goes to the pool. */
const SYNC_WRITE = 256 * 1024;
/** Seqs per REMOVE record at most. */
const REMOVES_PER_RECORD = 65536;
/** REMOVEs nothing waits for are written with the next batch, or after this many ms... */
const LAZY_MS = 200;
/** ... or once this many wait. */
const LAZY_MAX = 4096;

/** Options of the {@link Writer}. */
export interface WriterOptions {
  /** Bytes after which a new segment is started. */
  readonly segmentSize: number;
  /** fdatasync every group before it counts as written. */
  readonly fsync: boolean;
  /** The file writes (tests stage a full disk with their own). */
  readonly io: WriteIO;
  /** Called after every batch made durable, with its size and the zeros written ahead of it. */
  readonly written: (bytes: number) => void;
  /** Bytes the disk holds above its free-space limit, not counted yet (zeros ahead take no more). */
  readonly spare: () => number;
  /** Called when a write found the disk full (the batch waits for {@link Writer.retry}). */
  readonly full: (err: unknown) => void;
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
  /** Zero bytes written ahead of its records. */
  ahead = 0;
  /** Groups already durable (a batch retried after a full disk starts there). */
  done = 0;
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

  fail(err: unknown): void {
    this.wait().catch(() => undefined);
    this.reject?.(err);
  }
}

export class Writer {
  private pending = new Batch();
  private inflight: Batch | undefined;
  private removes: number[] = [];
  private scheduled = false;
  private lazy: ReturnType<typeof setTimeout> | undefined;
  /** The write error that stopped the writer (fail-stop). */
  failed: unknown;
  /** The in-flight batch waits for disk space. */
  blocked = false;
  closed = false;
  /** No zeros are written ahead of the records (the disk is nearly full). */
  lowSpace = false;
  private readonly prealloc: number;

  constructor(
    private readonly state: JournalState,
    private readonly options: WriterOptions,
  ) {
    // Extend files with zeros ahead of the records only when syncing: see writeGroup().
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

  /**
   * Open the next segment and make it the current one (its header, subscriptions and created
   * queues first).
   */
  startSegment(): void {
    const state = this.state;
    const prev = state.cur;
    const seg = state.segment((state.segs.at(-1)?.no ?? 0) + 1);
    seg.salt = newSalt();
    seg.wfd = openSync(seg.path, 'wx');
    seg.created = true;
    if (prev !== undefined) prev.sealed = true;
    state.add(seg);
    state.cur = seg;
    this.put(seg, segmentHeader(seg.no, seg.salt), false);
    for (const [key, def] of state.subs) {
      this.put(
        seg,
        encodeStrings(RecordType.SUBSCRIPTION, [key, def.vhost, def.clientId, def.name, def.topic]),
      );
    }
    for (const key of state.queues) this.put(seg, encodeStrings(RecordType.QUEUE, [key]));
  }

  /**
   * Go on appending to `seg`, the newest segment as recovered (so that a start writes no new
   * segment, which a nearly full disk may not have room for).
   */
  resume(seg: Segment): void {
    seg.wfd = openSync(seg.path, 'r+');
    // Bytes past its end are zeros written ahead (or nothing): they are written over.
    seg.allocated = Math.max(seg.size, fstatSync(seg.wfd).size);
    this.state.cur = seg;
  }

  /**
   * Append a record to the current segment (which `state.cur` is afterwards); its offset. A
   * record may come in pieces (its head, then a large body written from where it is).
   */
  append(record: Buffer | readonly Buffer[]): number {
    if (this.closed) throw new Error('the journal is closed');
    const seg = this.state.cur!;
    const length = Buffer.isBuffer(record) ? record.length : total(record);
    if (seg.size + length > this.options.segmentSize && seg.size > SEGMENT_HEADER + 4096) {
      this.startSegment();
    }
    return this.put(this.state.cur!, record);
  }

  /** Record that `seq` was consumed (with the next batch's REMOVE record, see LAZY_MS). */
  remove(seq: number): void {
    this.removes.push(seq);
    if (this.removes.length >= LAZY_MAX) this.schedule();
    else this.lazy ??= setTimeout(this.flushLazy, LAZY_MS).unref();
  }

  private readonly flushLazy = (): void => {
    this.lazy = undefined;
    if (this.removes.length > 0) this.schedule();
  };

  /**
   * Take back the record of `len` bytes at `off` of `seg` when it is the last one appended and is
   * not yet being written (its message was consumed at once): true when it was taken back, and
   * the caller records no REMOVE for it.
   */
  cancel(seg: Segment, off: number, len: number): boolean {
    if (seg !== this.state.cur || off + len !== seg.size) return false;
    const groups = this.pending.groups;
    const group = groups.at(-1);
    if (group?.seg !== seg) return false;
    // Its pieces: the last record start and what follows it.
    let k = group.offs.length - 1;
    while (k > 0 && group.offs[k]! < 0) k--;
    if (group.offs[k] !== off) return false;
    group.bufs.length = k;
    group.offs.length = k;
    group.end = off;
    if (group.bufs.length === 0) groups.pop();
    seg.size = off;
    this.pending.bytes -= len;
    return true;
  }

  private put(seg: Segment, record: Buffer | readonly Buffer[], placed = true): number {
    const off = seg.size;
    const pieces = Buffer.isBuffer(record) ? [record] : record;
    if (placed) place(pieces[0]!, seg.no, off, seg.salt);
    const groups = this.pending.groups;
    let group = groups.at(-1);
    if (group?.seg !== seg) {
      group = { seg, bufs: [], offs: [], end: off };
      groups.push(group);
    }
    for (const piece of pieces) {
      group.bufs.push(piece);
      // A record's first piece has its offset, the rest -1.
      group.offs.push(seg.size === off ? off : -1);
      seg.size += piece.length;
      this.pending.bytes += piece.length;
    }
    group.end = seg.size;
    this.schedule();
    return off;
  }

  /** Resolves when every write made before the call is durable. */
  sync(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(toError(this.failed));
    if (this.pending.groups.length > 0 || this.removes.length > 0) {
      this.schedule(); // lazy REMOVEs alone have no batch scheduled
      return this.pending.wait();
    }
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
        if (k < 0) continue;
        let end = k + 1;
        while (g.offs[end] === -1) end++;
        return end === k + 1 ? g.bufs[k] : Buffer.concat(g.bufs.slice(k, end));
      }
    }
    return undefined;
  }

  /**
   * Forget the writes not yet made to `seg`, which is being deleted (nothing in it is live: they
   * are REMOVEs and the like, needed no more).
   */
  discard(seg: Segment): void {
    for (const batch of [this.inflight, this.pending]) {
      if (batch === undefined) continue;
      for (let i = batch.groups.length - 1; i >= batch.done; i--) {
        const g = batch.groups[i]!;
        if (g.seg !== seg) continue;
        batch.bytes -= g.end - g.offs[0]!;
        batch.groups.splice(i, 1);
      }
    }
  }

  /** Write the batch that waits for disk space again (nothing when none waits). */
  retry(): void {
    const batch = this.inflight;
    if (!this.blocked || batch === undefined) return;
    this.blocked = false;
    this.run(batch);
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
    if (this.lazy !== undefined) {
      clearTimeout(this.lazy);
      this.lazy = undefined;
    }
    if (this.removes.length > 0) {
      const seqs = this.removes;
      this.removes = [];
      for (let i = 0; i < seqs.length; i += REMOVES_PER_RECORD) {
        this.append(encodeRemove(seqs.slice(i, i + REMOVES_PER_RECORD)));
      }
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
    this.run(batch);
  };

  /** The last write attempt (settles whatever its outcome). */
  private attempt: Promise<void> = Promise.resolve();

  private run(batch: Batch): void {
    this.attempt = this.write(batch).then(
      () => {
        this.inflight = undefined;
        batch.resolve?.();
        this.options.written(batch.bytes + batch.ahead);
        // REMOVEs alone go on waiting (see LAZY_MS), unless someone waits for them.
        const waited = this.pending.promise !== undefined;
        // (A batch waited for may also have become empty: its records were taken back.)
        if (this.pending.groups.length > 0 || waited) this.flush();
        else if (this.removes.length > 0) this.lazy ??= setTimeout(this.flushLazy, LAZY_MS).unref();
      },
      (err: unknown) => {
        if (isNoSpace(err) && !this.closed) {
          // It stays in flight; its waiters wait for space.
          this.blocked = true;
          this.options.full(err);
          return;
        }
        this.inflight = undefined;
        this.blocked = false;
        this.failed = err;
        this.state.log.error(
          { err },
          'journal: write failed; persistent messages are refused from now on',
        );
        batch.fail(err);
        this.pending.fail(err);
      },
    );
  }

  private async write(batch: Batch): Promise<void> {
    if (this.failed !== undefined) throw toError(this.failed);
    for (; batch.done < batch.groups.length; batch.done++) {
      batch.ahead += await this.writeGroup(batch.groups[batch.done]!);
    }
  }

  /** Write one group and make it durable; the zero bytes written ahead of it. */
  private async writeGroup(group: Group): Promise<number> {
    const seg = group.seg;
    const io = this.options.io;
    const start = group.offs[0]!;
    let ahead = 0;
    if (group.end > seg.allocated && this.prealloc > 0 && !this.lowSpace) {
      // Extend the file with zeros ahead of the records: an fdatasync of data written over
      // allocated blocks need not commit a change of the file's size (≈ half the cost here).
      // Never more than the disk's spare room above its limit, and counted as written: zeros the
      // free-space estimate does not see could take the whole margin the limit keeps for
      // acknowledgements before the next reading (seen: refused with 0 bytes free on a tmpfs).
      const room = this.options.spare() - (group.end - start);
      const to = Math.max(
        group.end,
        Math.min(group.end + this.prealloc, group.end + room, this.options.segmentSize),
      );
      try {
        if (to > group.end) await writeZeros(io, seg.wfd, group.end, to - group.end);
        ahead = to - group.end;
        seg.allocated = to;
      } catch (err) {
        if (!isNoSpace(err)) throw err;
        // No room for zeros ahead: the records themselves may still fit.
        this.lowSpace = true;
      }
    }
    await writeFully(
      io,
      seg.wfd,
      group.bufs,
      start,
      group.end - start,
      group.end - start <= SYNC_WRITE,
    );
    if (seg.allocated < group.end) seg.allocated = group.end;
    if (this.options.fsync) await io.fdatasync(seg.wfd);
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
    return ahead;
  }

  /**
   * Write everything appended, then stop taking writes; true when it all became durable. Writes
   * that still wait for disk space are given up: their waiters fail with ERR_STOMP_DISK_FULL.
   */
  async close(): Promise<boolean> {
    while (this.failed === undefined && this.busy) {
      if (this.inflight === undefined) this.flush();
      else if (this.blocked) this.retry();
      // Settles when the batch is written, or waits for space again.
      await this.attempt;
      if (this.blocked) {
        const err = new StompProtocolError(
          ErrorCode.DISK_FULL,
          'the broker stopped while its journal waited for disk space; the write was not made',
        );
        this.failed = err;
        this.inflight?.fail(err);
        this.pending.fail(err);
        this.inflight = undefined;
        this.blocked = false;
      }
    }
    this.closed = true;
    clearTimeout(this.lazy);
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

function total(pieces: readonly Buffer[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
