// A journal segment file (`journal/0000000001.log`, ...): its name, its header, and what the
// store keeps about it while open (sizes, live counts, file descriptors).
//
// Header (format 2), 32 bytes: 'STMPJRN2', u32 segment number, u32 salt, u32 CRC-32 of those 16
// bytes; then the number and the salt again with a CRC-32 of their 8 bytes, so that one damaged
// copy leaves the other. The salt, random per segment, seeds every record's position check
// (record.ts). Format 1 ('STMPJRN1', 16 bytes) is read for migration only (legacy.ts).
import { randomBytes } from 'node:crypto';
import { openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from './checksum.js';
import { readFully } from './files.js';

/** Bytes before a segment's first record. */
export const SEGMENT_HEADER = 32;
const MAGIC = Buffer.from('STMPJRN2', 'latin1');
const MAGIC_V1 = Buffer.from('STMPJRN1', 'latin1');
const SEGMENT_NAME = /^(\d{10})\.log$/;

/** The file name of segment `no`. */
export function segmentPath(jdir: string, no: number): string {
  return join(jdir, `${String(no).padStart(10, '0')}.log`);
}

/** The numbers of the segment files in `jdir`, oldest first. */
export function listSegments(jdir: string): number[] {
  return readdirSync(jdir)
    .map((f) => SEGMENT_NAME.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** A new random salt. */
export function newSalt(): number {
  return randomBytes(4).readUInt32LE(0);
}

/** The header of segment `no` with salt `salt`. */
export function segmentHeader(no: number, salt: number): Buffer {
  const h = Buffer.alloc(SEGMENT_HEADER);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(no, 8);
  h.writeUInt32LE(salt, 12);
  h.writeUInt32LE(crc32(h.subarray(0, 16)), 16);
  h.writeUInt32LE(no, 20);
  h.writeUInt32LE(salt, 24);
  h.writeUInt32LE(crc32(h.subarray(20, 28)), 28);
  return h;
}

/** What a segment's first bytes say. */
export type SegmentHead =
  /** Format 2 with its salt; `salts` are the candidates when neither copy holds. */
  | { readonly format: 2; readonly salt: number | undefined; readonly salts: readonly number[] }
  | { readonly format: 1 }
  /** Nothing usable: too short, or neither format. */
  | undefined;

/** Read the header of segment `no` from its first bytes. */
export function readSegmentHead(buf: Buffer, no: number): SegmentHead {
  if (buf.length >= 16 && buf.subarray(0, 8).equals(MAGIC_V1)) return { format: 1 };
  if (buf.length < SEGMENT_HEADER) return undefined;
  const first = crc32(buf.subarray(0, 16)) === buf.readUInt32LE(16);
  if (first && buf.subarray(0, 8).equals(MAGIC) && buf.readUInt32LE(8) === no) {
    return { format: 2, salt: buf.readUInt32LE(12), salts: [] };
  }
  if (crc32(buf.subarray(20, 28)) === buf.readUInt32LE(28) && buf.readUInt32LE(20) === no) {
    return { format: 2, salt: buf.readUInt32LE(24), salts: [] };
  }
  // Both copies damaged: the salt is one of the two as read; the records will tell.
  const salts = [buf.readUInt32LE(12), buf.readUInt32LE(24)];
  return { format: 2, salt: undefined, salts };
}

/** An open segment. */
export class Segment {
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
  /** Format 1 segments are only read, and compacted away (legacy.ts). */
  format: 1 | 2 = 2;
  /** Seeds its records' position checks. */
  salt = 0;

  constructor(
    readonly no: number,
    readonly path: string,
  ) {}

  /** Fill `block` from `offset` (opening the read descriptor once); the bytes read. */
  readAt(block: Buffer, offset: number): number {
    if (this.rfd < 0) this.rfd = openSync(this.path, 'r');
    return readFully(this.rfd, block, offset);
  }
}
