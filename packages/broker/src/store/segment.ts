// A journal segment file (`journal/0000000001.log`, ...): its name, its header, and what the
// store keeps about it while open (sizes, live counts, file descriptors).
import { openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFully } from './files.js';

/** Bytes before a segment's first record. */
export const SEGMENT_HEADER = 16;
const MAGIC = Buffer.from('STMPJRN1', 'latin1');
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

/** The header of segment `no`. */
export function segmentHeader(no: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(no, 8);
  return header;
}

/** True when `buf` starts with a segment header. */
export function hasSegmentHeader(buf: Buffer): boolean {
  return buf.length >= SEGMENT_HEADER && buf.subarray(0, 8).equals(MAGIC);
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
