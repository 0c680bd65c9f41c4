// The journal: an append-only log of checksummed records in numbered segment files, written in
// groups (one writev and one fdatasync for every write made while the previous group was being
// written), and read back by recovery and by paging.
//
// Layout of `dataDir`: `LOCK` (the owning process id), `ID` (the store's id), `RESERVE` (disk
// space kept for acknowledgements, disk.ts) and `journal/`, whose
// segments `0000000001.log`, ... start with a 32-byte header (`STMPJRN2`, the segment number, a
// random salt; segment.ts) and hold records framed so that a reader can find the next record
// again after damage (record.ts; payloads in codec.ts). A segment is deleted once it is the oldest
// and none of its messages is live; durable subscriptions and the queues created are
// re-recorded at the start of every new segment so that old segments never need to stay for them. Where the live copy of each seq is, is
// kept by a packed index (seq-index.ts); the engine holds seqs only.
//
// Damage costs only the records it touched: recovery reads past it, applies every intact REMOVE,
// cuts a torn write at the end of the journal (logged at info) and reports anything else with
// exactly what it cost (scan.ts, damage.ts). After a start from the clean-shutdown checkpoint,
// which reads no record, the segments are verified in the background (verifier.ts).
//
// Compaction: when dead bytes (consumed messages, REMOVE records) are at least `compactRatio` of the
// journal, the live records of the oldest segment (those the index places there) are copied to the
// current one, a little at a time, and the oldest is deleted once the copies are durable. Segments
// are thus still deleted oldest-first only, so a REMOVE record never disappears before the ENQUEUE
// it cancels; a crash between copy and delete leaves two copies of a seq, and recovery keeps the
// later one. Segments of format 1 (stompede 0.1) are migrated this way from the first start.
//
// Disk space: below `diskFreeLimit` free bytes, or when a write meets a full disk, new persistent
// messages are refused (admit(), disk.ts) while ACKs go on; a write that met a full disk waits
// and is retried, and a start continues the newest segment rather than writing a new one.
//
// This file is the facade: it holds the parts, each with one job, and the state they share
// (state.ts): lock.ts (the LOCK file), recovery.ts with scan.ts and restore.ts (the start, from a
// scan of every record or from the clean-shutdown checkpoint of checkpoint.ts), writer.ts (group
// commit), compactor.ts (compaction), reads.ts (paging reads), verifier.ts, disk.ts.
import { closeSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Message } from '../message.js';
import { small } from '../small-int.js';
import { encodeDamage, encodeEnqueue, encodeStrings } from './codec.js';
import { Compactor } from './compactor.js';
import { DiskMonitor } from './disk.js';
import { type WriteIO, nodeIO } from './files.js';
import { DirLock } from './lock.js';
import { load } from './reads.js';
import { recoverState, recoveredQueues } from './recovery.js';
import { saveCheckpoint } from './restore.js';
import { RecordType } from './record.js';
import { SEGMENT_HEADER } from './segment.js';
import { JournalState, type StoreCounters } from './state.js';
import type { Recovery, Store } from './store.js';
import { Verifier } from './verifier.js';
import { Writer } from './writer.js';

/** Options of {@link JournalStore}. */
export interface JournalOptions {
  /** The data directory (created if missing). */
  readonly dir: string;
  /** Where damage and recovery are reported. */
  readonly logger: Logger;
  /** Bytes after which a new segment is started. Default 64 MiB. */
  readonly segmentSize?: number;
  /** fdatasync every group before it counts as written. Default true; false only for tests and benchmarks of the rest. */
  readonly fsync?: boolean;
  /** Dead share of the journal's bytes from which the oldest segment is compacted. Default 0.5. */
  readonly compactRatio?: number;
  /** Bytes per second compaction may copy (in steps of 256 KiB). Default 32 MiB/s. */
  readonly compactRate?: number;
  /**
   * Read and checksum every record at recovery even when the clean-shutdown checkpoint matches
   * the journal (which otherwise spares that read). Default false.
   */
  readonly verifyOnStart?: boolean;
  /** Bytes per second the background verification after a checkpoint start reads. Default 64 MiB/s. */
  readonly verifyRate?: number;
  /**
   * Free bytes on the data directory's disk below which new persistent messages are refused
   * (ERR_STOMP_DISK_FULL). Default 50 MiB; 0 refuses only when the disk is full.
   */
  readonly diskFreeLimit?: number;
  /** Milliseconds between readings of the free disk space. Default 5000. */
  readonly diskCheckInterval?: number;
  /** Where damage and disk space are counted (the broker's metrics). */
  readonly counters?: StoreCounters;
  /**
   * Bytes of the reserve file kept in the data directory and deleted when a write meets a full
   * disk, so that acknowledgements have room (disk.ts). Default 1 MiB; 0: none.
   */
  readonly diskReserve?: number;
  /** @internal Free bytes of the disk (tests stage a small disk). Default: statfs. */
  readonly freeBytes?: (dir: string) => number;
  /** @internal The file writes (tests stage a full disk). */
  readonly io?: WriteIO;
}

/** Dead bytes from which a current segment is closed to be reclaimed when disk space is short. */
const RECLAIM_MIN = 256 * 1024;

/** Default of {@link JournalOptions.diskFreeLimit}: 50 MiB, as RabbitMQ's disk_free_limit. */
export const DEFAULT_DISK_FREE_LIMIT = 50 * 1024 * 1024;

/** The journal {@link Store}. Opening takes the directory's lock; {@link JournalStore.close} releases it. */
export class JournalStore implements Store {
  readonly id: string;
  private readonly dir: string;
  private readonly state: JournalState;
  private readonly lock: DirLock;
  private readonly writer: Writer;
  private readonly compactor: Compactor;
  private readonly verifier: Verifier;
  private readonly disk: DiskMonitor;
  private readonly segmentSize: number;
  private readonly fsync: boolean;
  private readonly verifyOnStart: boolean;
  private closed = false;
  /** The seq and offset (in the current segment) of the last ENQUEUE record, for remove(). */
  private lastSeq = -1;
  private lastOff = -1;

  constructor(options: JournalOptions) {
    this.dir = options.dir;
    const jdir = join(options.dir, 'journal');
    this.fsync = options.fsync ?? true;
    this.verifyOnStart = options.verifyOnStart ?? false;
    const segmentSize = options.segmentSize ?? 64 * 1024 * 1024;
    mkdirSync(jdir, { recursive: true });
    this.lock = new DirLock(this.dir);
    this.segmentSize = segmentSize;
    this.state = new JournalState(jdir, options.logger);
    if (options.counters !== undefined) this.state.counters = options.counters;
    this.writer = new Writer(this.state, {
      segmentSize,
      fsync: this.fsync,
      io: options.io ?? nodeIO,
      spare: () => this.disk.spare(),
      written: (bytes) => {
        this.disk.wrote(bytes);
        this.collect();
        this.compactor.schedule();
      },
      full: (err) => {
        this.writer.lowSpace = true;
        this.compactor.urgent = true;
        // The reserve released makes room for this write at once.
        if (this.disk.noSpace(err)) {
          queueMicrotask(() => {
            this.writer.retry();
          });
        }
        this.reclaim();
      },
    });
    this.disk = new DiskMonitor({
      dir: this.dir,
      limit: options.diskFreeLimit ?? DEFAULT_DISK_FREE_LIMIT,
      interval: options.diskCheckInterval ?? 5000,
      reserve: options.diskReserve ?? 1024 * 1024,
      ...(options.freeBytes === undefined ? {} : { freeBytes: options.freeBytes }),
      log: options.logger,
      counters: this.state.counters,
      changed: (low) => {
        const short = low || this.disk.full;
        this.writer.lowSpace = short;
        this.compactor.urgent = short;
        if (short && this.state.cur !== undefined) this.reclaim();
        this.writer.retry();
      },
    });
    this.compactor = new Compactor(this.state, this.writer, {
      segmentSize,
      ratio: options.compactRatio ?? 0.5,
      rate: options.compactRate ?? 32 * 1024 * 1024,
      collect: () => {
        this.collect();
      },
      room: () => this.disk.room(),
    });
    this.verifier = new Verifier(this.state, this.writer, options.verifyRate ?? 64 * 1024 * 1024);
    this.id = readId(join(this.dir, 'ID'));
    this.state.id = this.id;
  }

  get pendingBytes(): number {
    return this.writer.pendingBytes;
  }

  recover(): Recovery {
    const started = Date.now();
    const state = this.state;
    this.disk.start();
    const stats = recoverState(state, { verify: this.verifyOnStart, fsync: this.fsync });
    const queues = recoveredQueues(state);
    // Go on in the newest segment: a start writes no new segment (a nearly full disk may not
    // have room for one); a segment of format 1 is never written to.
    const last = state.segs.at(-1);
    if (last?.format === 2 && last.size < this.segmentSize) this.writer.resume(last);
    else this.writer.startSegment();
    const scan = stats.scan;
    // Damage reported now is noted, so that the next scan reports it as known.
    for (const r of scan?.damage.regions ?? []) {
      this.writer.append(encodeDamage(r.seg, r.off, r.end - r.off, Date.now()));
    }
    this.collect();
    if (scan === undefined) {
      this.verifier.start(
        state.segs.filter((s) => s.format === 2).map((s) => ({ no: s.no, size: s.size })),
      );
    }
    state.log.info(
      {
        dir: this.dir,
        segments: stats.segments,
        messages: state.index.size,
        queues: queues.length,
        ...(scan === undefined
          ? { from: 'checkpoint' }
          : {
              from: 'scan',
              records: scan.records,
              damaged: scan.damage.regions.length,
              messagesLost: scan.damage.lost,
            }),
        ms: Date.now() - started,
      },
      scan !== undefined && scan.damage.regions.length > 0
        ? 'journal recovered with damage (see the errors above)'
        : 'journal recovered',
    );
    return { queues, maxSeq: small(Math.max(state.recoveredMaxSeq, state.index.maxSeq)) };
  }

  /** Throws ERR_STOMP_DISK_FULL while new persistent messages are refused for lack of disk space. */
  admit(): void {
    this.disk.admit();
  }

  enqueue(queueKey: string, seq: number, message: Message): void {
    const pieces = encodeEnqueue(queueKey, seq, message);
    const off = this.writer.append(pieces);
    const length = pieces.length === 1 ? pieces[0]!.length : pieces[0]!.length + pieces[1]!.length;
    const state = this.state;
    const seg = state.cur!;
    const q = state.keys.acquire(queueKey);
    state.index.add(seq, seg.no, off, length, q, Math.min(9, message.priority), message.expires);
    seg.live++;
    seg.liveBytes += length;
    this.lastSeq = seq;
    this.lastOff = off;
  }

  remove(seq: number): void {
    // Consumed in the task that stored it (delivered and auto-acknowledged): when its record is
    // still the last one appended and not yet written, neither it nor a REMOVE goes to disk.
    // Only the original record (not a compaction copy, whose source is on disk) is taken back.
    const state = this.state;
    const pos = seq === this.lastSeq ? state.index.find(seq) : -1;
    const cancelled =
      pos >= 0 &&
      state.index.off(pos) === this.lastOff &&
      state.index.seg(pos) === state.cur!.no &&
      this.writer.cancel(state.cur!, this.lastOff, state.index.len(pos));
    this.lastSeq = -1;
    state.forget(seq);
    if (!cancelled) this.writer.remove(seq);
    // Short of space, what consumption frees is reclaimed at once.
    if (this.disk.refusing) this.reclaim();
  }

  forget(seq: number): void {
    this.state.forget(seq);
  }

  defineSubscription(
    key: string,
    vhost: string,
    clientId: string,
    name: string,
    topic: string,
  ): void {
    this.state.subs.set(key, { vhost, clientId, name, topic });
    this.writer.append(encodeStrings(RecordType.SUBSCRIPTION, [key, vhost, clientId, name, topic]));
  }

  dropSubscription(key: string): void {
    if (!this.state.subs.delete(key)) return;
    this.writer.append(encodeStrings(RecordType.DROP, [key]));
  }

  defineQueue(key: string): void {
    if (this.state.queues.has(key)) return;
    this.state.queues.add(key);
    this.writer.append(encodeStrings(RecordType.QUEUE, [key]));
  }

  dropQueue(key: string): void {
    if (!this.state.queues.delete(key)) return;
    this.writer.append(encodeStrings(RecordType.QUEUE_DELETE, [key]));
  }

  load(seqs: ArrayLike<number>): (Message | undefined)[] {
    return load(this.state, this.writer, seqs);
  }

  sync(): Promise<void> {
    return this.writer.sync();
  }

  /**
   * Short of disk space: space is freed only by deleting segments, so the current segment is
   * closed once it is mostly dead (then collect() deletes it when nothing in it is live, and
   * compaction, hurried, copies out what is), and consumed segments are deleted at once.
   */
  private reclaim(): void {
    if (this.closed) return;
    const cur = this.state.cur!;
    const dead = cur.size - SEGMENT_HEADER - cur.liveBytes;
    if (dead >= RECLAIM_MIN && dead * 2 >= cur.size) this.writer.startSegment();
    this.collect();
    this.compactor.schedule();
  }

  /** Delete the oldest segments once nothing in them is live. */
  private collect(): void {
    const state = this.state;
    const writer = this.writer;
    for (;;) {
      const seg = state.segs[0];
      const cur = state.cur!;
      if (seg === undefined || seg === cur || seg.live > 0) return;
      // The current segment's copy of the subscriptions and created queues must be durable first.
      if (cur.durable === 0 && state.subs.size + state.queues.size > 0) return;
      // Still being written; unless the disk is full, and what waits to be written there (its
      // REMOVEs) is needed no more.
      if (seg.durable !== seg.size && !writer.blocked) return;
      // Its live records were copied forward: the copies must be durable first.
      if (seg.until !== undefined && seg.until.seg.durable < seg.until.end) return;
      writer.discard(seg);
      state.dropOldest();
      try {
        unlinkSync(seg.path);
      } catch (err) {
        state.log.warn({ err, segment: seg.path }, 'journal: cannot delete a consumed segment');
      }
      // Space was freed: a write waiting for it goes now, and refusing may end.
      if (this.writer.blocked) this.writer.retry();
      if (this.disk.refusing) this.disk.poll();
    }
  }

  /**
   * @internal Resolves once background compaction has nothing left to do (for tests and
   * benchmarks; compaction runs by itself).
   */
  compacted(): Promise<void> {
    return this.compactor.settled();
  }

  /**
   * @internal Resolves once the background verification after a checkpoint start is done (for
   * tests; it runs by itself).
   */
  verified(): Promise<void> {
    return this.verifier.verified();
  }

  /** @internal Read the free disk space now (for tests; it is read every few seconds). */
  checkDisk(): void {
    this.disk.poll();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.verifier.stop();
    const clean = (await this.writer.close()) && this.state.cur !== undefined;
    this.compactor.stop();
    this.disk.stop();
    for (const seg of this.state.segs) {
      if (seg.rfd >= 0) closeSync(seg.rfd);
      seg.rfd = -1;
    }
    if (clean) saveCheckpoint(this.state, this.fsync);
    this.lock.release();
  }
}

/** The store's id from the `ID` file, made and saved when there is none. */
function readId(file: string): string {
  let id: string;
  try {
    id = readFileSync(file, 'utf8').trim();
  } catch {
    id = '';
  }
  if (!/^[a-z0-9]{4,32}$/.test(id)) {
    id = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
    writeFileSync(file, id + '\n');
  }
  return id;
}
