// The journal's clean-shutdown checkpoint: what recovery would rebuild from the segments (the
// index with each message's queue, priority and expiry, the queue keys, the durable
// subscriptions, the queues created, the highest seq), written by a clean close() once every write is durable, with
// the exact list of segments it describes. A restart whose segments still match it exactly
// rebuilds from it instead of reading and checksumming every record. It is deleted (durably)
// before the first write after it is read, so it never describes a journal that changed since.
//
// File `journal/checkpoint`, little-endian, typed-array columns 8-byte aligned:
//   'STMPCKPT', u32 version, u32 0, f64 file length, f64 max seq,
//   u32 segments, u32 subscriptions, u32 keys, u32 entries, u32 has-expiry, u32 created queues,
//   per segment: u32 number, u32 CRC-32 of its last 4 KiB, f64 size;
//   strings (u32 length + UTF-8): 5 per subscription, 1 (its key) per created queue, then per
//   key u8 present (+ string); pad;
//   index columns: f64 seqs, u32 segs, u32 offs, u32 lens, u32 metas (queue << 4 | priority),
//   f64 expiry (only with has-expiry), each padded to 8 bytes;
//   u32 CRC-32 of everything before it, u32 0.
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from './checksum.js';
import type { PackedIndex } from './seq-index.js';

/** Bumped whenever the layout or the meaning of a field changes: an older file is not used. */
export const CHECKPOINT_VERSION = 2;
export const CHECKPOINT_FILE = 'checkpoint';
const MAGIC = Buffer.from('STMPCKPT', 'latin1');
/** Bytes at the end of each segment covered by its CRC in the checkpoint. */
export const TAIL_BYTES = 4096;

/** A segment as the checkpoint saw it. */
export interface CheckpointSegment {
  readonly no: number;
  readonly size: number;
  /** CRC-32 of its last {@link TAIL_BYTES} bytes (all of it when shorter). */
  readonly tail: number;
}

/** A durable subscription: key, vhost, client id, name, topic. */
export type SubscriptionStrings = readonly [string, string, string, string, string];

/** The state a checkpoint holds. */
export interface Checkpoint {
  readonly maxSeq: number;
  readonly segments: readonly CheckpointSegment[];
  readonly subscriptions: readonly SubscriptionStrings[];
  /** The keys of the queues created (version 2). */
  readonly queues: readonly string[];
  /** Queue keys by number (undefined = free). */
  readonly keys: readonly (string | undefined)[];
  readonly index: PackedIndex;
}

class Out {
  readonly parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v, 0);
    this.push(b);
  }
  f64(v: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(v, 0);
    this.push(b);
  }
  u8(v: number): void {
    this.push(Buffer.from([v]));
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.push(b);
  }
  align(): void {
    const pad = (8 - (this.length % 8)) % 8;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }
  array(a: Float64Array | Uint32Array): void {
    this.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    this.align();
  }
}

/** The checkpoint file's bytes. */
export function encodeCheckpoint(c: Checkpoint): Buffer {
  const o = new Out();
  const ix = c.index;
  o.push(MAGIC);
  o.u32(CHECKPOINT_VERSION);
  o.u32(0);
  const lengthAt = o.parts.length;
  o.f64(0); // the file length, set below
  o.f64(c.maxSeq);
  o.u32(c.segments.length);
  o.u32(c.subscriptions.length);
  o.u32(c.keys.length);
  o.u32(ix.seqs.length);
  o.u32(ix.exps === undefined ? 0 : 1);
  o.u32(c.queues.length);
  for (const s of c.segments) {
    o.u32(s.no);
    o.u32(s.tail);
    o.f64(s.size);
  }
  for (const sub of c.subscriptions) for (const s of sub) o.str(s);
  for (const key of c.queues) o.str(key);
  for (const key of c.keys) {
    o.u8(key === undefined ? 0 : 1);
    if (key !== undefined) o.str(key);
  }
  o.align();
  o.array(ix.seqs);
  o.array(ix.segs);
  o.array(ix.offs);
  o.array(ix.lens);
  o.array(ix.metas);
  if (ix.exps !== undefined) o.array(ix.exps);
  const total = o.length + 8;
  o.parts[lengthAt]!.writeDoubleLE(total, 0);
  const buf = Buffer.concat(o.parts, total);
  buf.writeUInt32LE(crc32(buf.subarray(0, total - 8)), total - 8);
  buf.writeUInt32LE(0, total - 4);
  return buf;
}

class In {
  o = 0;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.o + n > this.buf.length - 8) throw new RangeError('a field runs past the end');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.o++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.o, true);
    this.o += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.o, true);
    this.o += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.o, n).toString('utf8');
    this.o += n;
    return s;
  }
  align(): void {
    this.o += (8 - (this.o % 8)) % 8;
  }
  f64s(n: number): Float64Array {
    this.need(n * 8);
    const a = new Float64Array(this.buf.buffer, this.buf.byteOffset + this.o, n);
    this.o += n * 8;
    this.align();
    return a;
  }
  u32s(n: number): Uint32Array {
    this.need(n * 4);
    const a = new Uint32Array(this.buf.buffer, this.buf.byteOffset + this.o, n);
    this.o += n * 4;
    this.align();
    return a;
  }
}

/**
 * Parse a checkpoint file. The typed arrays returned are views of `file`. Throws a RangeError
 * saying why the file cannot be used (damaged, cut short, another version).
 */
export function decodeCheckpoint(file: Uint8Array): Checkpoint {
  // Columns are read in place: they need 8-byte alignment.
  const buf = file.byteOffset % 8 === 0 ? file : new Uint8Array(file);
  if (buf.length < 64 || !Buffer.from(buf.buffer, buf.byteOffset, 8).equals(MAGIC)) {
    throw new RangeError('not a checkpoint (bad magic or too short)');
  }
  const r = new In(buf);
  r.o = 8;
  const version = r.u32();
  if (version !== CHECKPOINT_VERSION) {
    throw new RangeError(
      `format version ${String(version)}, this build reads ${String(CHECKPOINT_VERSION)}`,
    );
  }
  r.u32();
  if (r.f64() !== buf.length) throw new RangeError('its length does not match (cut short?)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (crc32(buf.subarray(0, buf.length - 8)) !== view.getUint32(buf.length - 8, true)) {
    throw new RangeError('it fails its checksum');
  }
  const maxSeq = r.f64();
  const nSegs = r.u32();
  const nSubs = r.u32();
  const nKeys = r.u32();
  const n = r.u32();
  const hasExps = r.u32() === 1;
  const nQueues = r.u32();
  const segments: CheckpointSegment[] = [];
  for (let i = 0; i < nSegs; i++) {
    const no = r.u32();
    const tail = r.u32();
    segments.push({ no, tail, size: r.f64() });
  }
  const subscriptions: SubscriptionStrings[] = [];
  for (let i = 0; i < nSubs; i++) subscriptions.push([r.str(), r.str(), r.str(), r.str(), r.str()]);
  const queues: string[] = [];
  for (let i = 0; i < nQueues; i++) queues.push(r.str());
  const keys: (string | undefined)[] = [];
  for (let i = 0; i < nKeys; i++) keys.push(r.u8() === 1 ? r.str() : undefined);
  r.align();
  const index: PackedIndex = {
    seqs: r.f64s(n),
    segs: r.u32s(n),
    offs: r.u32s(n),
    lens: r.u32s(n),
    metas: r.u32s(n),
    exps: hasExps ? r.f64s(n) : undefined,
  };
  if (r.o !== buf.length - 8) throw new RangeError('bytes left over after the index');
  return { maxSeq, segments, subscriptions, queues, keys, index };
}

/** Write `c` as `jdir`'s checkpoint: a temporary file, fsync, rename, fsync of the directory. */
export function writeCheckpoint(jdir: string, c: Checkpoint, fsync: boolean): void {
  const bytes = encodeCheckpoint(c);
  const tmp = join(jdir, `${CHECKPOINT_FILE}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(jdir, CHECKPOINT_FILE));
  if (fsync) syncDir(jdir);
}

/** The checkpoint file's bytes, or undefined when there is none. */
export function readCheckpointFile(jdir: string): Buffer | undefined {
  try {
    return readFileSync(join(jdir, CHECKPOINT_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Delete the checkpoint (and a temporary one left by a crash while writing it), durably: once
 * this returns, a crash cannot bring it back. True when there was one.
 */
export function removeCheckpoint(jdir: string, fsync: boolean): boolean {
  let removed = false;
  for (const name of [CHECKPOINT_FILE, `${CHECKPOINT_FILE}.tmp`]) {
    try {
      unlinkSync(join(jdir, name));
      removed = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  if (removed && fsync) syncDir(jdir);
  return removed;
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
