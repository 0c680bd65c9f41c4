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
// for byte, to the current one, a little at a time, reading the segment in order, and the oldest is
// deleted once the copies are durable. Segments are thus still
// deleted oldest-first only, so a REMOVE record never disappears before the ENQUEUE it cancels; a
// crash between copy and delete leaves two copies of a seq, and recovery keeps the later one.
import {
  closeSync,
  copyFileSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncate,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  unlinkSync,
  writeFileSync,
  write,
  writeSync,
  writev,
  writevSync,
  close as closeFd,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { StompInvalidArgumentError } from '@stompede/core';
import type { Message } from '../message.js';
import {
  MAX_RECORD,
  RECORD_HEADER,
  Reader,
  RecordType,
  crc32,
  decodeEnqueue,
  encodeEnqueue,
  encodeRemove,
  encodeStrings,
} from './codec.js';
import { small } from '../small-int.js';
import { FoundRecords, SeqList } from './found.js';
import { SeqIndex } from './seq-index.js';
import { QueueKeys } from './queue-keys.js';
import {
  TAIL_BYTES,
  type Checkpoint,
  decodeCheckpoint,
  readCheckpointFile,
  removeCheckpoint,
  writeCheckpoint,
} from './checkpoint.js';
import type { RecoveredQueue, Recovery, Store } from './store.js';

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

const MAGIC = Buffer.from('STMPJRN1', 'latin1');
const SEGMENT_HEADER = 16;
const SEGMENT_NAME = /^(\d{10})\.log$/;
/** Reads of neighbouring records are merged when the gap between them is at most this. */
const READ_GAP = 32 * 1024;
const READ_SPAN = 1024 * 1024;
/** Groups up to this size are written synchronously (a copy into the page cache), saving a
 * thread-pool round trip per group; only the fdatasync goes to the pool. */
const SYNC_WRITE = 256 * 1024;
/** Largest step by which a segment file is extended with zeros ahead of its records. */
const PREALLOC_MAX = 1024 * 1024;
/** Live bytes copied per compaction step (one group of its own, so receipts wait for at most this). */
const COMPACT_STEP = 256 * 1024;
/** Bytes of the oldest segment read per compaction step at most. */
const COMPACT_READ = 4 * COMPACT_STEP;
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

class Segment {
  /** Bytes appended, pending ones included. */
  size = 0;
  /** Bytes written and synced. */
  durable = 0;
  /** Bytes of the file already written (records, or zeros ahead of them). */
  allocated = 0;
  /** Live (not removed) messages stored in it. */
  live = 0;
  /** Bytes of its live message records. */
  liveBytes = 0;
  /** How far compaction has read it (it copies live records in offset order). */
  scan = SEGMENT_HEADER;
  /** Where compaction copied its last live record: it is deleted once that is durable. */
  until: { readonly seg: Segment; readonly end: number } | undefined;
  wfd = -1;
  rfd = -1;
  sealed = false;
  /** Its directory entry must be synced with its first group. */
  created = false;
  constructor(
    readonly no: number,
    readonly path: string,
  ) {}
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

interface SubscriptionDef {
  readonly vhost: string;
  readonly clientId: string;
  readonly name: string;
  readonly topic: string;
}

/** Data directories open in this process (a second store on one is refused). */
const openDirs = new Set<string>();

function pad(no: number): string {
  return String(no).padStart(10, '0');
}

function done(resolve: () => void, reject: (err: unknown) => void) {
  return (err: NodeJS.ErrnoException | null): void => {
    if (err) reject(err);
    else resolve();
  };
}

function shortWrite(written: number, total: number): Error {
  return new Error(`short write: ${String(written)} of ${String(total)} bytes`);
}

function writeAll(fd: number, bufs: Buffer[], position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    writev(fd, bufs, position, (err, written) => {
      if (err) reject(err);
      else {
        let total = 0;
        for (const b of bufs) total += b.length;
        if (written === total) resolve();
        else reject(shortWrite(written, total));
      }
    });
  });
}

let zeros: Buffer | undefined;

/** Write `length` zero bytes at `position`. */
function writeZeros(fd: number, position: number, length: number): Promise<void> {
  zeros ??= Buffer.alloc(PREALLOC_MAX);
  const buf = zeros;
  return new Promise((resolve, reject) => {
    write(fd, buf, 0, length, position, (err, written) => {
      if (err) reject(err);
      else if (written === length) resolve();
      else reject(shortWrite(written, length));
    });
  });
}

/** True when `buf` holds only zeros from `from` on (a preallocated tail, never written). */
function zeroTail(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(fd, done(resolve, reject));
  });
}

function truncateAsync(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    ftruncate(fd, length, done(resolve, reject));
  });
}

function closeAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    closeFd(fd, done(resolve, reject));
  });
}

/** The journal {@link Store}. Opening takes the directory's lock; {@link JournalStore.close} releases it. */
export class JournalStore implements Store {
  readonly id: string;
  private readonly dir: string;
  private readonly jdir: string;
  private readonly log: Logger;
  private readonly segmentSize: number;
  private readonly fsync: boolean;
  private readonly segs: Segment[] = [];
  private readonly byNo = new Map<number, Segment>();
  private cur: Segment | undefined;
  private pending = new Batch();
  private inflight: Batch | undefined;
  private removes: number[] = [];
  private scheduled = false;
  private failed: unknown;
  private closed = false;
  private readonly subs = new Map<string, SubscriptionDef>();
  /** Where the live copy of each stored seq is, and its queue's number. */
  private index = new SeqIndex();
  private keys = new QueueKeys();
  /** The highest seq recovery found (removed ones included). */
  private recoveredMaxSeq = 0;
  private readonly verifyOnStart: boolean;
  private pendingCount = 0;
  private readonly prealloc: number;
  private readonly compactRatio: number;
  private readonly compactDelay: number;
  private compactTimer: NodeJS.Timeout | undefined;
  private compacting = false;
  private compactWaiters: (() => void)[] = [];

  constructor(options: JournalOptions) {
    this.dir = options.dir;
    this.jdir = join(options.dir, 'journal');
    this.log = options.logger;
    this.segmentSize = options.segmentSize ?? 64 * 1024 * 1024;
    this.fsync = options.fsync ?? true;
    this.prealloc = this.fsync
      ? Math.max(16 * 1024, Math.min(PREALLOC_MAX, this.segmentSize >> 4))
      : 0;
    this.compactRatio = options.compactRatio ?? 0.5;
    this.verifyOnStart = options.verifyOnStart ?? false;
    this.compactDelay = Math.floor(
      (COMPACT_STEP * 1000) / (options.compactRate ?? 32 * 1024 * 1024),
    );
    mkdirSync(this.jdir, { recursive: true });
    this.lock();
    const idFile = join(this.dir, 'ID');
    let id: string;
    try {
      id = readFileSync(idFile, 'utf8').trim();
    } catch {
      id = '';
    }
    if (!/^[a-z0-9]{4,32}$/.test(id)) {
      id = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
      writeFileSync(idFile, id + '\n');
    }
    this.id = id;
  }

  get pendingBytes(): number {
    return this.pending.bytes + (this.inflight?.bytes ?? 0);
  }

  private lock(): void {
    const file = join(this.dir, 'LOCK');
    if (openDirs.has(this.dir)) {
      throw new StompInvalidArgumentError(`dataDir ${this.dir} is already open in this process`);
    }
    // Exclusive create, so two brokers started at once cannot both win; a LOCK left by a process
    // that died (kill -9) is stale and taken over.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        try {
          writeSync(fd, String(process.pid) + '\n');
        } finally {
          closeSync(fd);
        }
        openDirs.add(this.dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let pid = NaN;
      try {
        pid = Number(readFileSync(file, 'utf8').trim());
      } catch {
        continue; // removed meanwhile: try again
      }
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new StompInvalidArgumentError(
          `dataDir ${this.dir} is in use by process ${String(pid)} (its LOCK file)`,
        );
      }
      try {
        unlinkSync(file);
      } catch {
        // another starter removed it first
      }
    }
    throw new StompInvalidArgumentError(`dataDir ${this.dir}: could not take its LOCK file`);
  }

  // ---- recovery ----

  recover(): Recovery {
    const started = Date.now();
    const files = readdirSync(this.jdir)
      .map((f) => SEGMENT_NAME.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const fast = this.verifyOnStart ? false : this.fromCheckpoint(files);
    if (this.verifyOnStart) {
      this.log.info('journal: a full verification scan was asked for; the checkpoint is not used');
    }
    // Whether used or not, it goes before anything is written (a damaged segment cut by the scan
    // included): a checkpoint still on disk after a write would let a crash recover from it and
    // miss the write.
    removeCheckpoint(this.jdir, this.fsync);
    const stats = fast ? undefined : this.scan(files);
    const queues = this.recoveredQueues();
    this.startSegment();
    this.collect();
    this.log.info(
      {
        dir: this.dir,
        segments: files.length,
        messages: this.index.size,
        queues: queues.length,
        ...(stats === undefined
          ? { from: 'checkpoint' }
          : { from: 'scan', records: stats.records, damagedSegments: stats.damaged }),
        ms: Date.now() - started,
      },
      stats !== undefined && stats.damaged > 0
        ? 'journal recovered with damage (see the errors above)'
        : 'journal recovered',
    );
    return { queues, maxSeq: small(Math.max(this.recoveredMaxSeq, this.index.maxSeq)) };
  }

  /**
   * Rebuild the state from the clean-shutdown checkpoint when it matches `files` exactly (same
   * segments, sizes and last bytes); false, saying why, otherwise.
   */
  private fromCheckpoint(files: readonly number[]): boolean {
    let file: Buffer | undefined;
    try {
      file = readCheckpointFile(this.jdir);
    } catch (err) {
      this.log.warn({ err }, 'journal: cannot read the checkpoint; every record is read instead');
      return false;
    }
    if (file === undefined) {
      if (files.length > 0) {
        this.log.info('journal: no checkpoint (the last stop was not clean); every record is read');
      }
      return false;
    }
    let c: Checkpoint;
    try {
      c = decodeCheckpoint(file);
      this.matches(c, files);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.log.warn(
        { reason: err.message },
        `journal: the checkpoint is not used (${err.message}); every record is read instead`,
      );
      return false;
    }
    return this.restore(c);
  }

  /** Throws a RangeError unless the segments on disk are exactly those `c` describes. */
  private matches(c: Checkpoint, files: readonly number[]): void {
    if (c.segments.length !== files.length || c.segments.some((s, i) => s.no !== files[i])) {
      throw new RangeError('the segments on disk are not those it lists');
    }
    for (const s of c.segments) {
      const path = join(this.jdir, `${pad(s.no)}.log`);
      const fd = openSync(path, 'r');
      try {
        if (fstatSync(fd).size !== s.size) {
          throw new RangeError(`segment ${String(s.no)} changed size since`);
        }
        const tail = Buffer.allocUnsafe(Math.min(TAIL_BYTES, s.size));
        if (readSync(fd, tail, 0, tail.length, s.size - tail.length) !== tail.length) {
          throw new RangeError(`segment ${String(s.no)} is cut short`);
        }
        if (crc32(tail) !== s.tail) {
          throw new RangeError(`segment ${String(s.no)} ends with other bytes than it did`);
        }
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Take the state `c` holds (checked for consistency first); false when it does not hold. */
  private restore(c: Checkpoint): boolean {
    const segs = c.segments.map((s) => {
      const seg = new Segment(s.no, join(this.jdir, `${pad(s.no)}.log`));
      seg.size = seg.durable = s.size;
      return seg;
    });
    const byNo = new Map(segs.map((seg) => [seg.no, seg]));
    const { segs: at, offs, lens, metas } = c.index;
    const counts = new Uint32Array(c.keys.length);
    let problem: string | undefined;
    try {
      const index = SeqIndex.unpack(c.index, c.maxSeq);
      for (let i = 0; i < at.length && problem === undefined; i++) {
        const q = metas[i]! >>> 4;
        if (c.keys[q] === undefined || (metas[i]! & 15) > 9) problem = 'an entry of no queue';
        else counts[q]!++;
        if (at[i] === 0) continue; // its copy was lost before the stop
        const seg = byNo.get(at[i]!);
        if (seg === undefined || offs[i]! + lens[i]! > seg.size) {
          problem = 'an entry outside the segments';
        } else {
          seg.live++;
          seg.liveBytes += lens[i]!;
        }
      }
      if (problem === undefined) {
        this.index = index;
        this.keys = QueueKeys.from(c.keys, counts);
      }
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      problem = err.message;
    }
    if (problem !== undefined) {
      this.log.warn(
        { reason: problem },
        `journal: the checkpoint is not used (${problem}); every record is read instead`,
      );
      return false;
    }
    this.segs.push(...segs);
    for (const seg of segs) this.byNo.set(seg.no, seg);
    for (const [key, vhost, clientId, name, topic] of c.subscriptions) {
      this.subs.set(key, { vhost, clientId, name, topic });
    }
    this.recoveredMaxSeq = c.maxSeq;
    return true;
  }

  /** The queues of the recovered index, by queue number, then durable subscriptions left empty. */
  private recoveredQueues(): RecoveredQueue[] {
    const table = this.keys.table;
    const lists = table.map((_, q) => {
      const n = this.keys.count(q);
      return {
        length: n,
        seqs: new Float64Array(n),
        priorities: new Uint8Array(n),
        expires: new Float64Array(n),
      };
    });
    const fill = new Uint32Array(table.length);
    this.index.each((seq, meta, expires) => {
      const q = meta >>> 4;
      const list = lists[q]!;
      const at = fill[q]!++;
      list.seqs[at] = seq;
      list.priorities[at] = meta & 15;
      list.expires[at] = expires;
    });
    const queues: RecoveredQueue[] = [];
    const listed = new Set<string>();
    for (let q = 0; q < table.length; q++) {
      const key = table[q];
      const messages = lists[q]!;
      if (key === undefined || messages.length === 0) continue;
      if (!key.startsWith('q\0') && !this.subs.has(key)) {
        // A dropped durable subscription's messages (a scan skips them too).
        for (let i = 0; i < messages.length; i++) this.forget(messages.seqs[i]!);
        continue;
      }
      listed.add(key);
      if (key.startsWith('q\0')) {
        const sep = key.indexOf('\0', 2);
        queues.push({ key, vhost: key.slice(2, sep), destination: key.slice(sep + 1), messages });
      } else {
        const def = this.subs.get(key)!;
        queues.push({
          key,
          vhost: def.vhost,
          durable: { clientId: def.clientId, name: def.name, topic: def.topic },
          messages,
        });
      }
    }
    for (const [key, def] of this.subs) {
      if (!listed.has(key)) {
        queues.push({
          key,
          vhost: def.vhost,
          durable: { clientId: def.clientId, name: def.name, topic: def.topic },
          messages: { length: 0, seqs: EMPTY_F64, priorities: EMPTY_U8, expires: EMPTY_F64 },
        });
      }
    }
    return queues;
  }

  /** Read and check every record of `files`, building the index, the keys and the subscriptions. */
  private scan(files: readonly number[]): { records: number; damaged: number } {
    const removed = new SeqList();
    const dropped = new Set<string>();
    const found = new FoundRecords();
    /** Queue keys found, by number (FoundRecords.queue). */
    const keys: string[] = [];
    const keyNo = new Map<string, number>();
    let maxSeq = 0;
    let records = 0;
    let damaged = 0;
    for (let i = 0; i < files.length; i++) {
      const no = files[i]!;
      const seg = new Segment(no, join(this.jdir, `${pad(no)}.log`));
      const buf = readFileSync(seg.path);
      const last = i === files.length - 1;
      if (buf.length < SEGMENT_HEADER || !buf.subarray(0, 8).equals(MAGIC)) {
        damaged++;
        this.damage(seg, buf, 0, last, 'the segment header is missing or damaged');
        continue;
      }
      let o = SEGMENT_HEADER;
      let problem: string | undefined;
      while (o < buf.length) {
        // Zeros written ahead of the records (see write()): the end of the segment.
        if (buf[o] === 0 && zeroTail(buf, o)) break;
        if (o + RECORD_HEADER > buf.length) {
          problem = 'a record header is cut short';
          break;
        }
        const len = buf.readUInt32LE(o);
        if (len === 0 || len > MAX_RECORD || o + RECORD_HEADER + len > buf.length) {
          problem =
            len === 0 || len > MAX_RECORD ? 'a record length is invalid' : 'a record is cut short';
          break;
        }
        const payload = buf.subarray(o + RECORD_HEADER, o + RECORD_HEADER + len);
        if (crc32(payload) !== buf.readUInt32LE(o + 4)) {
          problem = 'a record fails its checksum';
          break;
        }
        try {
          const r = new Reader(payload);
          switch (payload[0]) {
            case RecordType.ENQUEUE: {
              const seq = r.f64();
              const priority = r.u8();
              const expires = r.f64();
              const key = r.str();
              if (seq > maxSeq) maxSeq = seq;
              let q = keyNo.get(key);
              if (q === undefined) {
                q = keys.length;
                keys.push(key);
                keyNo.set(key, q);
              }
              found.push(seq, no, o, RECORD_HEADER + len, q, Math.min(9, priority), expires);
              break;
            }
            case RecordType.REMOVE: {
              const n = r.u32();
              if (n * 8 + 5 > payload.length) throw new RangeError('seq count past the end');
              for (let k = 0; k < n; k++) removed.push(r.f64());
              break;
            }
            case RecordType.SUBSCRIPTION: {
              const key = r.str();
              const def = { vhost: r.str(), clientId: r.str(), name: r.str(), topic: r.str() };
              if (!dropped.has(key)) this.subs.set(key, def);
              break;
            }
            case RecordType.DROP: {
              const key = r.str();
              dropped.add(key);
              this.subs.delete(key);
              break;
            }
            default:
              throw new RangeError(`unknown record type ${String(payload[0])}`);
          }
        } catch (err) {
          if (!(err instanceof RangeError)) throw err;
          problem = `a record cannot be decoded (${err.message})`;
          break;
        }
        records++;
        o += RECORD_HEADER + len;
      }
      if (problem !== undefined) {
        damaged++;
        this.damage(seg, buf, o, last, problem);
      }
      seg.size = seg.durable = Math.min(o, buf.length);
      this.segs.push(seg);
      this.byNo.set(no, seg);
    }
    // Which queues survive: named queues, and durable subscriptions still defined.
    const accepted = keys.map((key) => {
      if (dropped.has(key)) return false;
      return key.startsWith('q\0') || this.subs.has(key);
    });
    // The live records in seq order go to the index, with their queue's number.
    const order = found.bySeq();
    const gone = removed.sorted();
    const counts = new Uint32Array(keys.length);
    let g = 0;
    let orphans = 0;
    for (let i = 0; i < order.length; i++) {
      const k = order[i]!;
      const seq = found.seq[k]!;
      while (g < gone.length && gone[g]! < seq) g++;
      if (g < gone.length && gone[g] === seq) continue;
      const q = found.queue[k]!;
      if (!accepted[q]) {
        if (!dropped.has(keys[q]!)) orphans++;
        continue;
      }
      const len = found.len[k]!;
      const seg = this.byNo.get(found.seg[k]!)!;
      seg.live++;
      seg.liveBytes += len;
      this.index.add(seq, seg.no, found.off[k]!, len, q, found.priority[k], found.expires[k]);
      counts[q]!++;
    }
    this.keys = QueueKeys.from(keys, counts);
    this.recoveredMaxSeq = maxSeq;
    if (orphans > 0) {
      this.log.error(
        { messages: orphans },
        'journal: messages of a durable subscription whose definition was lost are dropped',
      );
    }
    return { records, damaged };
  }

  /** Report damage at `offset` of a segment, keep the bytes that are dropped, cut the file. */
  private damage(seg: Segment, buf: Buffer, offset: number, last: boolean, problem: string): void {
    const lost = buf.length - offset;
    const aside = `${seg.path}.damaged-${String(Date.now())}`;
    let kept = false;
    try {
      copyFileSync(seg.path, aside);
      kept = true;
    } catch {
      // best effort: the report below still says what was lost
    }
    const torn = last && problem !== 'a record fails its checksum' && offset > 0;
    const detail = {
      segment: seg.path,
      offset,
      bytesDropped: lost,
      ...(kept ? { copy: aside } : {}),
    };
    if (torn) {
      this.log.warn(
        detail,
        `journal: torn last write (${problem}); the valid prefix is kept. Unsynced writes are never receipted, so no acknowledged message is lost`,
      );
    } else {
      this.log.error(
        detail,
        `journal: ${problem}; the valid prefix is kept, the records after it in this segment are lost`,
      );
    }
    try {
      const fd = openSync(seg.path, 'r+');
      try {
        ftruncateSync(fd, Math.max(offset, 0));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (offset === 0) unlinkSync(seg.path);
    } catch (err) {
      this.log.error({ err, segment: seg.path }, 'journal: cannot cut the damaged segment');
    }
  }

  // ---- writing ----

  private startSegment(): void {
    const prev = this.cur;
    const no = (this.segs.at(-1)?.no ?? 0) + 1;
    const seg = new Segment(no, join(this.jdir, `${pad(no)}.log`));
    seg.wfd = openSync(seg.path, 'wx');
    seg.created = true;
    if (prev !== undefined) prev.sealed = true;
    this.segs.push(seg);
    this.byNo.set(no, seg);
    this.cur = seg;
    const header = Buffer.alloc(SEGMENT_HEADER);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(no, 8);
    this.put(seg, header);
    for (const [key, def] of this.subs) {
      this.put(
        seg,
        encodeStrings(RecordType.SUBSCRIPTION, [key, def.vhost, def.clientId, def.name, def.topic]),
      );
    }
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
    this.pendingCount++;
    this.schedule();
    return off;
  }

  /** Append a record to the current segment (which `this.cur` is afterwards); its offset. */
  private append(buf: Buffer): number {
    if (this.closed) throw new Error('the journal is closed');
    const seg = this.cur!;
    if (seg.size + buf.length > this.segmentSize && seg.size > SEGMENT_HEADER + 4096) {
      this.startSegment();
    }
    return this.put(this.cur!, buf);
  }

  enqueue(queueKey: string, seq: number, message: Message): void {
    const record = encodeEnqueue(queueKey, seq, message);
    const off = this.append(record);
    const seg = this.cur!;
    const q = this.keys.acquire(queueKey);
    this.index.add(
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
    this.removes.push(seq);
    this.forget(seq);
    this.schedule();
  }

  forget(seq: number): void {
    const pos = this.index.find(seq);
    if (pos < 0) return; // already gone
    const seg = this.byNo.get(this.index.seg(pos));
    const len = this.index.len(pos);
    this.keys.release(this.index.queue(pos));
    this.index.remove(pos);
    if (seg === undefined) return; // its copy was lost
    seg.live--;
    seg.liveBytes -= len;
  }

  defineSubscription(
    key: string,
    vhost: string,
    clientId: string,
    name: string,
    topic: string,
  ): void {
    this.subs.set(key, { vhost, clientId, name, topic });
    this.append(encodeStrings(RecordType.SUBSCRIPTION, [key, vhost, clientId, name, topic]));
  }

  dropSubscription(key: string): void {
    if (!this.subs.delete(key)) return;
    this.append(encodeStrings(RecordType.DROP, [key]));
  }

  sync(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(toError(this.failed));
    if (this.pending.groups.length > 0 || this.removes.length > 0) return this.pending.wait();
    if (this.inflight !== undefined) return this.inflight.wait();
    return Promise.resolve();
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
    this.pendingCount = 0;
    this.inflight = batch;
    this.write(batch).then(
      () => {
        this.inflight = undefined;
        batch.resolve?.();
        this.collect();
        this.scheduleCompaction();
        if (this.pending.groups.length > 0 || this.removes.length > 0) this.flush();
      },
      (err: unknown) => {
        this.inflight = undefined;
        this.failed = err;
        this.log.error(
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
        const to = Math.max(group.end, Math.min(group.end + this.prealloc, this.segmentSize));
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
      if (this.fsync) await syncData(seg.wfd);
      if (seg.created) {
        seg.created = false;
        if (this.fsync) syncDir(this.jdir);
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

  /** Delete the oldest segments once nothing in them is live. */
  private collect(): void {
    for (;;) {
      const seg = this.segs[0];
      const cur = this.cur!;
      if (seg === undefined || seg === cur || seg.live > 0) return;
      // The current segment's copy of the subscriptions must be durable first.
      if (cur.durable === 0) return;
      if (seg.durable !== seg.size) return; // still being written
      // Its live records were copied forward: the copies must be durable first.
      if (seg.until !== undefined && seg.until.seg.durable < seg.until.end) return;
      this.segs.shift();
      this.byNo.delete(seg.no);
      if (seg.wfd >= 0) closeSync(seg.wfd);
      if (seg.rfd >= 0) closeSync(seg.rfd);
      seg.wfd = seg.rfd = -1;
      try {
        unlinkSync(seg.path);
      } catch (err) {
        this.log.warn({ err, segment: seg.path }, 'journal: cannot delete a consumed segment');
      }
    }
  }

  // ---- compaction ----

  /** True when the dead bytes are worth a compaction of the oldest segment. */
  private wantCompaction(): boolean {
    const oldest = this.segs[0];
    if (oldest === undefined || oldest === this.cur || this.failed !== undefined || this.closed) {
      return false;
    }
    let total = 0;
    let live = 0;
    for (const seg of this.segs) {
      total += seg.size;
      live += seg.liveBytes;
    }
    const dead = total - live;
    // At least a segment's worth must be reclaimable, so a lone small journal is left alone.
    return dead >= this.segmentSize && dead >= this.compactRatio * total;
  }

  private scheduleCompaction(): void {
    if (this.compacting || this.compactTimer !== undefined) return;
    if (!this.wantCompaction()) {
      this.compactDone();
      return;
    }
    this.compactTimer = setTimeout(this.compactTick, this.compactDelay);
    // Background work keeps no process alive, unless someone waits for it.
    if (this.compactWaiters.length === 0) this.compactTimer.unref();
  }

  private readonly compactTick = (): void => {
    this.compactTimer = undefined;
    if (this.compacting || !this.wantCompaction()) {
      this.compactDone();
      return;
    }
    this.compacting = true;
    this.compactStep(COMPACT_STEP);
    // The step's copies go out as a group of their own; the next step waits for it.
    this.sync().then(
      () => {
        this.compacting = false;
        this.collect();
        this.scheduleCompaction();
      },
      () => {
        this.compacting = false;
        this.compactDone();
      },
    );
  };

  private compactDone(): void {
    if (this.compacting || this.compactTimer !== undefined) return;
    const waiters = this.compactWaiters;
    this.compactWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Copy up to `budget` bytes of the oldest segment's live records to the current segment and
   * point the index at the copies. The segment is read in order from where the last step
   * stopped; a record is live at this place when the index has its seq here.
   */
  private compactStep(budget: number): void {
    const seg = this.segs[0]!;
    if (seg.durable !== seg.size) return; // its last group is still being written
    let copied = 0;
    let read = 0;
    while (seg.scan < seg.size && copied < budget && read < COMPACT_READ) {
      const block = Buffer.allocUnsafe(Math.min(seg.size - seg.scan, COMPACT_READ));
      let got: number;
      try {
        got = this.readAt(seg, block, seg.scan);
      } catch (err) {
        this.log.error({ err, segment: seg.path }, 'journal: cannot read a segment');
        this.compactByIndex(seg);
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
          const pos = this.index.find(record.readDoubleLE(RECORD_HEADER + 1));
          if (pos >= 0 && this.index.seg(pos) === seg.no && this.index.off(pos) === seg.scan + o) {
            this.relocate(seg, pos, record);
            copied += record.length;
          }
        }
        o = end;
      }
      if (o < 0) {
        // Damaged since recovery checked it: its records can no longer be walked in order.
        this.compactByIndex(seg);
        break;
      }
      if (o === 0) {
        // One record larger than a block: read it whole.
        const record = Buffer.allocUnsafe(RECORD_HEADER + block.readUInt32LE(0));
        if (this.readAt(seg, record, seg.scan) < record.length) {
          this.compactByIndex(seg);
          break;
        }
        const pos =
          record[RECORD_HEADER] === RecordType.ENQUEUE && intact(record)
            ? this.index.find(record.readDoubleLE(RECORD_HEADER + 1))
            : -1;
        if (pos >= 0 && this.index.seg(pos) === seg.no && this.index.off(pos) === seg.scan) {
          this.relocate(seg, pos, record);
          copied += record.length;
        }
        o = record.length;
      }
      seg.scan += o;
    }
    // Read to its end yet something still counted live there: find it through the index.
    if (seg.scan >= seg.size && seg.live > 0) this.compactByIndex(seg);
    seg.until = { seg: this.cur!, end: this.cur!.size };
  }

  /** Copy `record` (the live copy at index position `pos`, in `from`) to the current segment. */
  private relocate(from: Segment, pos: number, record: Buffer): void {
    from.live--;
    from.liveBytes -= record.length;
    const off = this.append(record);
    const to = this.cur!;
    this.index.move(pos, to.no, off);
    to.live++;
    to.liveBytes += record.length;
  }

  /**
   * Copy, one by one, every live record the index places in `seg` (when the segment cannot be
   * walked in order); an unreadable one is lost: the engine's load of it reports it and drops
   * the message.
   */
  private compactByIndex(seg: Segment): void {
    for (const [seq, off, len] of this.index.inSegment(seg.no)) {
      const pos = this.index.find(seq!);
      const record = Buffer.allocUnsafe(len!);
      let ok = false;
      try {
        ok = this.readAt(seg, record, off!) === len && intact(record);
      } catch {
        ok = false;
      }
      if (ok) {
        this.relocate(seg, pos, record);
      } else {
        seg.live--;
        seg.liveBytes -= len!;
        this.index.move(pos, 0, off!);
        this.lost(seg.no, off!, 'the record fails its checksum (found by compaction)');
      }
    }
    seg.scan = seg.size;
  }

  /**
   * @internal Resolves once background compaction has nothing left to do (for tests and
   * benchmarks; compaction runs by itself).
   */
  compacted(): Promise<void> {
    return new Promise((resolve) => {
      this.compactWaiters.push(resolve);
      this.compactTimer?.ref();
      this.scheduleCompaction();
    });
  }

  // ---- reading ----

  load(seqs: ArrayLike<number>): (Message | undefined)[] {
    const n = seqs.length;
    const out = new Array<Message | undefined>(n).fill(undefined);
    // Where each one is, then read in file order.
    const segOf = new Uint32Array(n);
    const offOf = new Uint32Array(n);
    const lenOf = new Uint32Array(n);
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      const pos = this.index.find(seqs[i]!);
      if (pos < 0) {
        this.log.error({ seq: seqs[i] }, 'journal: a stored message cannot be read: not stored');
        continue;
      }
      segOf[i] = this.index.seg(pos);
      offOf[i] = this.index.off(pos);
      lenOf[i] = this.index.len(pos);
      order.push(i);
    }
    order.sort((a, b) => segOf[a]! - segOf[b]! || offOf[a]! - offOf[b]!);
    let i = 0;
    while (i < order.length) {
      const first = order[i]!;
      const no = segOf[first]!;
      const start = offOf[first]!;
      const seg = this.byNo.get(no);
      if (seg === undefined) {
        this.lost(no, start, 'its segment is gone');
        i++;
        continue;
      }
      if (start + lenOf[first]! > seg.durable) {
        out[first] = this.fromPending(seg, start);
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
        const got = this.readAt(seg, block, start);
        for (let k = i; k < j; k++) {
          const r = order[k]!;
          const at = offOf[r]! - start;
          if (at + lenOf[r]! <= got) {
            out[r] = this.decode(block.subarray(at, at + lenOf[r]!), no, offOf[r]!);
          } else {
            this.lost(no, offOf[r]!, 'short read');
          }
        }
      } catch (err) {
        for (let k = i; k < j; k++) this.lost(no, offOf[order[k]!]!, String(err));
      }
      i = j;
    }
    return out;
  }

  /** Fill `block` from `seg` at `offset` (opening its read descriptor once); the bytes read. */
  private readAt(seg: Segment, block: Buffer, offset: number): number {
    if (seg.rfd < 0) seg.rfd = openSync(seg.path, 'r');
    let got = 0;
    while (got < block.length) {
      const n = readSync(seg.rfd, block, got, block.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  private fromPending(seg: Segment, off: number): Message | undefined {
    for (const batch of [this.inflight, this.pending]) {
      if (batch === undefined) continue;
      for (const g of batch.groups) {
        if (g.seg !== seg) continue;
        const k = g.offs.indexOf(off);
        if (k >= 0) return this.decode(g.bufs[k]!, seg.no, off);
      }
    }
    this.lost(seg.no, off, 'not found in the unwritten records');
    return undefined;
  }

  private decode(record: Buffer, seg: number, off: number): Message | undefined {
    const len = record.readUInt32LE(0);
    const payload = record.subarray(RECORD_HEADER);
    if (len !== payload.length || crc32(payload) !== record.readUInt32LE(4)) {
      this.lost(seg, off, 'the record fails its checksum');
      return undefined;
    }
    try {
      return decodeEnqueue(payload);
    } catch (err) {
      this.lost(seg, off, String(err));
      return undefined;
    }
  }

  private lost(segment: number, offset: number, why: string): void {
    this.log.error({ segment, offset }, `journal: a stored message cannot be read: ${why}`);
  }

  /**
   * Write the clean-shutdown checkpoint: every write is durable and none can follow, so the
   * state in memory is exactly what a scan of the segments would rebuild.
   */
  private checkpoint(): void {
    const started = Date.now();
    try {
      const segments = this.segs.map((seg) => {
        const tail = Buffer.allocUnsafe(Math.min(TAIL_BYTES, seg.size));
        const got = this.readAt(seg, tail, seg.size - tail.length);
        closeSync(seg.rfd);
        seg.rfd = -1;
        if (got !== tail.length)
          throw new Error(`segment ${String(seg.no)} is shorter than written`);
        return { no: seg.no, size: seg.size, tail: crc32(tail) };
      });
      writeCheckpoint(
        this.jdir,
        {
          maxSeq: Math.max(this.recoveredMaxSeq, this.index.maxSeq),
          segments,
          subscriptions: [...this.subs].map(([key, d]) => [
            key,
            d.vhost,
            d.clientId,
            d.name,
            d.topic,
          ]),
          keys: this.keys.table,
          index: this.index.pack(),
        },
        this.fsync,
      );
      this.log.info(
        { messages: this.index.size, segments: segments.length, ms: Date.now() - started },
        'journal: checkpoint written (the next start need not read every record)',
      );
    } catch (err) {
      this.log.warn(
        { err },
        'journal: cannot write the checkpoint; the next start reads every record',
      );
      try {
        removeCheckpoint(this.jdir, this.fsync);
      } catch {
        // a damaged one is rejected by its checksum
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      while (
        this.failed === undefined &&
        (this.pending.groups.length > 0 || this.removes.length > 0 || this.inflight !== undefined)
      ) {
        await this.sync();
      }
    } catch {
      // reported when it failed
    }
    const clean = this.failed === undefined && this.cur !== undefined;
    this.closed = true;
    if (this.compactTimer !== undefined) clearTimeout(this.compactTimer);
    this.compactTimer = undefined;
    this.compactDone();
    for (const seg of this.segs) {
      if (seg.wfd >= 0) {
        // A clean stop leaves no preallocated zeros behind.
        if (seg.allocated > seg.size && this.failed === undefined) {
          try {
            ftruncateSync(seg.wfd, seg.size);
            // The checkpoint below lists this size: a crash must not bring the zeros back.
            if (this.fsync) fsyncSync(seg.wfd);
          } catch {
            // harmless: recovery reads zeros after the last record as the end (and the
            // checkpoint, listing another size, is not used)
          }
        }
        closeSync(seg.wfd);
      }
      if (seg.rfd >= 0) closeSync(seg.rfd);
      seg.wfd = seg.rfd = -1;
    }
    if (clean) this.checkpoint();
    try {
      unlinkSync(join(this.dir, 'LOCK'));
    } catch {
      // already gone
    }
    openDirs.delete(this.dir);
  }
}

/** True when a raw record's length and checksum hold. */
function intact(record: Buffer): boolean {
  return (
    record.length >= RECORD_HEADER &&
    record.readUInt32LE(0) === record.length - RECORD_HEADER &&
    crc32(record.subarray(RECORD_HEADER)) === record.readUInt32LE(4)
  );
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** True while `pid` runs. A zombie (killed, not yet reaped by its parent) counts as dead. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust kill(pid, 0)
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
