// The journal: an append-only log of checksummed records in numbered segment files, written in
// groups (one writev and one fdatasync for every write made while the previous group was being
// written), and read back by recovery and by paging.
//
// Layout of `dataDir`: `LOCK` (the owning process id), `ID` (the store's id) and `journal/`, whose
// segments `0000000001.log`, ... start with a 16-byte header (`STMPJRN1`, the segment number) and
// hold records (see codec.ts). A segment is deleted once it is the oldest and none of its messages
// is live; durable subscriptions are re-recorded at the start of every new segment so that old
// segments never need to stay for them. Where the live copy of each seq is, is kept by a packed
// index (seq-index.ts); the engine holds seqs only.
//
// Compaction: when dead bytes (consumed messages, REMOVE records) are at least `compactRatio` of the
// journal, the live records of the oldest segment (those the index places there) are copied, byte
// for byte, to the current one, a little at a time, and the oldest is deleted once the copies are
// durable. Segments are thus still deleted oldest-first only, so a REMOVE record never disappears
// before the ENQUEUE it cancels; a crash between copy and delete leaves two copies of a seq, and
// recovery keeps the later one.
//
// This file is the facade: it holds the parts, each with one job, and the state they share
// (state.ts): lock.ts (the LOCK file), recovery.ts with scan.ts and restore.ts (the start, from a
// scan of every record or from the clean-shutdown checkpoint of checkpoint.ts), writer.ts (group
// commit), compactor.ts (compaction), reads.ts (paging reads).
import { closeSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Message } from '../message.js';
import { small } from '../small-int.js';
import { RecordType, encodeEnqueue, encodeStrings } from './codec.js';
import { Compactor } from './compactor.js';
import { DirLock } from './lock.js';
import { load } from './reads.js';
import { recoverState, recoveredQueues } from './recovery.js';
import { saveCheckpoint } from './restore.js';
import { JournalState } from './state.js';
import type { Recovery, Store } from './store.js';
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
}

/** The journal {@link Store}. Opening takes the directory's lock; {@link JournalStore.close} releases it. */
export class JournalStore implements Store {
  readonly id: string;
  private readonly dir: string;
  private readonly state: JournalState;
  private readonly lock: DirLock;
  private readonly writer: Writer;
  private readonly compactor: Compactor;
  private readonly fsync: boolean;
  private readonly verifyOnStart: boolean;
  private closed = false;

  constructor(options: JournalOptions) {
    this.dir = options.dir;
    const jdir = join(options.dir, 'journal');
    this.fsync = options.fsync ?? true;
    this.verifyOnStart = options.verifyOnStart ?? false;
    const segmentSize = options.segmentSize ?? 64 * 1024 * 1024;
    mkdirSync(jdir, { recursive: true });
    this.lock = new DirLock(this.dir);
    this.state = new JournalState(jdir, options.logger);
    this.writer = new Writer(this.state, {
      segmentSize,
      fsync: this.fsync,
      written: () => {
        this.collect();
        this.compactor.schedule();
      },
    });
    this.compactor = new Compactor(this.state, this.writer, {
      segmentSize,
      ratio: options.compactRatio ?? 0.5,
      rate: options.compactRate ?? 32 * 1024 * 1024,
      collect: () => {
        this.collect();
      },
    });
    this.id = readId(join(this.dir, 'ID'));
  }

  get pendingBytes(): number {
    return this.writer.pendingBytes;
  }

  recover(): Recovery {
    const started = Date.now();
    const state = this.state;
    const stats = recoverState(state, { verify: this.verifyOnStart, fsync: this.fsync });
    const queues = recoveredQueues(state);
    this.writer.startSegment();
    this.collect();
    const scan = stats.scan;
    state.log.info(
      {
        dir: this.dir,
        segments: stats.segments,
        messages: state.index.size,
        queues: queues.length,
        ...(scan === undefined
          ? { from: 'checkpoint' }
          : { from: 'scan', records: scan.records, damagedSegments: scan.damaged }),
        ms: Date.now() - started,
      },
      scan !== undefined && scan.damaged > 0
        ? 'journal recovered with damage (see the errors above)'
        : 'journal recovered',
    );
    return { queues, maxSeq: small(Math.max(state.recoveredMaxSeq, state.index.maxSeq)) };
  }

  enqueue(queueKey: string, seq: number, message: Message): void {
    const record = encodeEnqueue(queueKey, seq, message);
    const off = this.writer.append(record);
    const state = this.state;
    const seg = state.cur!;
    const q = state.keys.acquire(queueKey);
    state.index.add(
      seq,
      seg.no,
      off,
      record.length,
      q,
      Math.min(9, message.priority),
      message.expires,
    );
    seg.live++;
    seg.liveBytes += record.length;
  }

  remove(seq: number): void {
    this.state.forget(seq);
    this.writer.remove(seq);
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

  load(seqs: ArrayLike<number>): (Message | undefined)[] {
    return load(this.state, this.writer, seqs);
  }

  sync(): Promise<void> {
    return this.writer.sync();
  }

  /** Delete the oldest segments once nothing in them is live. */
  private collect(): void {
    const state = this.state;
    for (;;) {
      const seg = state.segs[0];
      const cur = state.cur!;
      if (seg === undefined || seg === cur || seg.live > 0) return;
      // The current segment's copy of the subscriptions must be durable first.
      if (cur.durable === 0) return;
      if (seg.durable !== seg.size) return; // still being written
      // Its live records were copied forward: the copies must be durable first.
      if (seg.until !== undefined && seg.until.seg.durable < seg.until.end) return;
      state.dropOldest();
      try {
        unlinkSync(seg.path);
      } catch (err) {
        state.log.warn({ err, segment: seg.path }, 'journal: cannot delete a consumed segment');
      }
    }
  }

  /**
   * @internal Resolves once background compaction has nothing left to do (for tests and
   * benchmarks; compaction runs by itself).
   */
  compacted(): Promise<void> {
    return this.compactor.settled();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const clean = (await this.writer.close()) && this.state.cur !== undefined;
    this.compactor.stop();
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
