// The journal: an append-only log of checksummed records in numbered segment files, written in
// groups (one writev and one fdatasync for every write made while the previous group was being
// written), and read back by recovery and by paging.
//
// Layout of `dataDir`: `LOCK` (the owning process id), `ID` (the store's id) and `journal/`, whose
// segments `0000000001.log`, ... start with a 16-byte header (`STMPJRN1`, the segment number) and
// hold records (see codec.ts). A segment is deleted once it is the oldest and none of its messages
// is live; durable subscriptions are re-recorded at the start of every new segment so that old
// segments never need to stay for them.
//
// Compaction: when dead bytes (consumed messages, REMOVE records) are at least `compactRatio` of the
// journal, the live records of the oldest segment are copied, byte for byte, to the current one, a
// little at a time, and the oldest is deleted once the copies are durable. Segments are thus still
// deleted oldest-first only, so a REMOVE record never disappears before the ENQUEUE it cancels; a
// crash between copy and delete leaves two copies of a seq, and recovery keeps the later one.
import {
  closeSync,
  copyFileSync,
  fdatasync,
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
  readEnqueueHead,
} from './codec.js';
import type { RecoveredMessage, RecoveredQueue, Recovery, Store, StoredRef } from './store.js';

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
  /** The refs of the messages written to it, in offset order (dead and moved ones included). */
  refs: StoredRef[] = [];
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
    const removed = new Set<number>();
    const dropped = new Set<string>();
    const found = new Map<string, RecoveredMessage[]>();
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
              const head = readEnqueueHead(r);
              if (head.seq > maxSeq) maxSeq = head.seq;
              let list = found.get(head.queueKey);
              if (list === undefined) {
                list = [];
                found.set(head.queueKey, list);
              }
              list.push({
                seq: head.seq,
                priority: Math.min(9, head.priority),
                expires: head.expires,
                ref: { seg: no, off: o, len: RECORD_HEADER + len },
              });
              break;
            }
            case RecordType.REMOVE: {
              const n = r.u32();
              if (n * 8 + 5 > payload.length) throw new RangeError('seq count past the end');
              for (let k = 0; k < n; k++) removed.add(r.f64());
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
    const queues: RecoveredQueue[] = [];
    let messages = 0;
    let orphans = 0;
    for (const [key, list] of found) {
      if (dropped.has(key)) continue;
      const live = list.filter((m) => !removed.has(m.seq));
      if (live.length === 0) continue;
      let queue: RecoveredQueue | undefined;
      if (key.startsWith('q\0')) {
        const sep = key.indexOf('\0', 2);
        queue = { key, vhost: key.slice(2, sep), destination: key.slice(sep + 1), messages: live };
      } else {
        const def = this.subs.get(key);
        if (def !== undefined) {
          queue = {
            key,
            vhost: def.vhost,
            durable: { clientId: def.clientId, name: def.name, topic: def.topic },
            messages: live,
          };
        }
      }
      if (queue === undefined) {
        orphans += live.length;
        continue;
      }
      let sorted = true;
      for (let k = 1; k < live.length && sorted; k++) sorted = live[k - 1]!.seq < live[k]!.seq;
      if (!sorted) {
        // Out of order only after compaction; a seq found twice was copied by a compaction cut
        // short before it deleted the original: the later copy is kept.
        live.sort((a, b) => a.seq - b.seq || a.ref.seg - b.ref.seg || a.ref.off - b.ref.off);
        let w = 0;
        for (let k = 0; k < live.length; k++) {
          if (k + 1 < live.length && live[k + 1]!.seq === live[k]!.seq) continue;
          live[w++] = live[k]!;
        }
        live.length = w; // `live` is the queue's message list
      }
      for (const m of live) {
        const seg = this.byNo.get(m.ref.seg)!;
        seg.live++;
        seg.liveBytes += m.ref.len;
        seg.refs.push(m.ref);
      }
      messages += live.length;
      queues.push(queue);
    }
    for (const [key, def] of this.subs) {
      if (!found.has(key)) {
        queues.push({
          key,
          vhost: def.vhost,
          durable: { clientId: def.clientId, name: def.name, topic: def.topic },
          messages: [],
        });
      }
    }
    if (orphans > 0) {
      this.log.error(
        { messages: orphans },
        'journal: messages of a durable subscription whose definition was lost are dropped',
      );
    }
    for (const seg of this.segs) seg.refs.sort((a, b) => a.off - b.off);
    this.startSegment();
    this.collect();
    this.log.info(
      {
        dir: this.dir,
        segments: files.length,
        records,
        messages,
        queues: queues.length,
        damagedSegments: damaged,
        ms: Date.now() - started,
      },
      damaged > 0 ? 'journal recovered with damage (see the errors above)' : 'journal recovered',
    );
    return { queues, maxSeq };
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

  private append(buf: Buffer): StoredRef {
    if (this.closed) throw new Error('the journal is closed');
    let seg = this.cur!;
    if (seg.size + buf.length > this.segmentSize && seg.size > SEGMENT_HEADER + 4096) {
      this.startSegment();
      seg = this.cur!;
    }
    const off = this.put(seg, buf);
    return { seg: seg.no, off, len: buf.length };
  }

  enqueue(queueKey: string, seq: number, message: Message): StoredRef {
    const ref = this.append(encodeEnqueue(queueKey, seq, message));
    this.adopt(this.cur!, ref);
    return ref;
  }

  private adopt(seg: Segment, ref: StoredRef): void {
    seg.live++;
    seg.liveBytes += ref.len;
    seg.refs.push(ref);
  }

  remove(seq: number, ref: StoredRef): void {
    this.removes.push(seq);
    this.forget(ref);
    this.schedule();
  }

  forget(ref: StoredRef): void {
    if (ref.len === 0) return; // already gone
    const seg = this.byNo.get(ref.seg);
    const len = ref.len;
    ref.len = 0;
    if (seg === undefined) return;
    seg.live--;
    seg.liveBytes -= len;
    // Drop the dead refs of a long-lived segment now and then (amortized O(1) per removal).
    if (seg.refs.length > 4096 && seg.live * 4 < seg.refs.length) {
      seg.refs = seg.refs.filter((r) => r.len > 0 && r.seg === seg.no);
    }
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
   * point their refs at the copies.
   */
  private compactStep(budget: number): void {
    const seg = this.segs[0]!;
    if (seg.durable !== seg.size) return; // its last group is still being written
    const moving: StoredRef[] = [];
    let bytes = 0;
    for (const ref of seg.refs) {
      if (ref.len === 0 || ref.seg !== seg.no) continue;
      moving.push(ref);
      bytes += ref.len;
      if (bytes >= budget) break;
    }
    const records = this.readRecords(seg, moving);
    for (let i = 0; i < moving.length; i++) {
      const ref = moving[i]!;
      const record = records[i];
      seg.live--;
      seg.liveBytes -= ref.len;
      if (record === undefined || !intact(record)) {
        // Unreadable: the engine's load of it reports it and drops the message.
        this.lost(ref, 'the record fails its checksum (found by compaction)');
        ref.seg = 0;
        continue;
      }
      const moved = this.append(record);
      ref.seg = moved.seg;
      ref.off = moved.off;
      this.adopt(this.byNo.get(moved.seg)!, ref);
    }
    seg.refs = seg.refs.filter((r) => r.len > 0 && r.seg === seg.no);
    seg.until = { seg: this.cur!, end: this.cur!.size };
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

  load(refs: readonly StoredRef[]): (Message | undefined)[] {
    const out = new Array<Message | undefined>(refs.length);
    const order = refs.map((_, i) => i);
    order.sort((a, b) => refs[a]!.seg - refs[b]!.seg || refs[a]!.off - refs[b]!.off);
    let i = 0;
    while (i < order.length) {
      const first = refs[order[i]!]!;
      const seg = this.byNo.get(first.seg);
      if (seg === undefined) {
        this.lost(first, 'its segment is gone');
        i++;
        continue;
      }
      if (first.off + first.len > seg.durable) {
        out[order[i]!] = this.fromPending(seg, first);
        i++;
        continue;
      }
      // Merge neighbours into one read.
      let j = i + 1;
      let end = first.off + first.len;
      while (j < order.length) {
        const r = refs[order[j]!]!;
        if (r.seg !== first.seg || r.off + r.len > seg.durable) break;
        if (r.off - end > READ_GAP || r.off + r.len - first.off > READ_SPAN) break;
        end = Math.max(end, r.off + r.len);
        j++;
      }
      const block = Buffer.allocUnsafe(end - first.off);
      try {
        const got = this.readAt(seg, block, first.off);
        for (let k = i; k < j; k++) {
          const r = refs[order[k]!]!;
          const at = r.off - first.off;
          if (at + r.len <= got) out[order[k]!] = this.decode(block.subarray(at, at + r.len), r);
          else this.lost(r, 'short read');
        }
      } catch (err) {
        for (let k = i; k < j; k++) this.lost(refs[order[k]!]!, String(err));
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

  /** The raw records of `refs` (all in durable bytes of `seg`, in offset order), merged reads. */
  private readRecords(seg: Segment, refs: readonly StoredRef[]): (Buffer | undefined)[] {
    const out = new Array<Buffer | undefined>(refs.length);
    let i = 0;
    while (i < refs.length) {
      const first = refs[i]!;
      let j = i + 1;
      let end = first.off + first.len;
      while (j < refs.length) {
        const r = refs[j]!;
        if (r.off - end > READ_GAP || r.off + r.len - first.off > READ_SPAN) break;
        end = Math.max(end, r.off + r.len);
        j++;
      }
      const block = Buffer.allocUnsafe(end - first.off);
      try {
        const got = this.readAt(seg, block, first.off);
        for (let k = i; k < j; k++) {
          const r = refs[k]!;
          const at = r.off - first.off;
          if (at + r.len <= got) out[k] = block.subarray(at, at + r.len);
        }
      } catch (err) {
        this.log.error({ err, segment: seg.path }, 'journal: cannot read a segment');
      }
      i = j;
    }
    return out;
  }

  private fromPending(seg: Segment, ref: StoredRef): Message | undefined {
    for (const batch of [this.inflight, this.pending]) {
      if (batch === undefined) continue;
      for (const g of batch.groups) {
        if (g.seg !== seg) continue;
        const k = g.offs.indexOf(ref.off);
        if (k >= 0) return this.decode(g.bufs[k]!, ref);
      }
    }
    this.lost(ref, 'not found in the unwritten records');
    return undefined;
  }

  private decode(record: Buffer, ref: StoredRef): Message | undefined {
    const len = record.readUInt32LE(0);
    const payload = record.subarray(RECORD_HEADER);
    if (len !== payload.length || crc32(payload) !== record.readUInt32LE(4)) {
      this.lost(ref, 'the record fails its checksum');
      return undefined;
    }
    try {
      return decodeEnqueue(payload);
    } catch (err) {
      this.lost(ref, String(err));
      return undefined;
    }
  }

  private lost(ref: StoredRef, why: string): void {
    this.log.error(
      { segment: ref.seg, offset: ref.off },
      `journal: a stored message cannot be read: ${why}`,
    );
    return undefined;
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
          } catch {
            // harmless: recovery reads zeros after the last record as the end
          }
        }
        closeSync(seg.wfd);
      }
      if (seg.rfd >= 0) closeSync(seg.rfd);
      seg.wfd = seg.rfd = -1;
    }
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
