// Small promise wrappers of node:fs for the journal's writes, and the directory sync that makes
// a created, renamed or deleted file durable.
import {
  close,
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncate,
  openSync,
  readSync,
  write,
  writev,
} from 'node:fs';

function done(resolve: () => void, reject: (err: unknown) => void) {
  return (err: NodeJS.ErrnoException | null): void => {
    if (err) reject(err);
    else resolve();
  };
}

export function shortWrite(written: number, total: number): Error {
  return new Error(`short write: ${String(written)} of ${String(total)} bytes`);
}

/** Write `bufs` at `position` (one writev). */
export function writeAll(fd: number, bufs: Buffer[], position: number): Promise<void> {
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

/** Up to this many zero bytes are written at once (see {@link writeZeros}). */
export const ZEROS_MAX = 1024 * 1024;
let zeros: Buffer | undefined;

/** Write `length` (at most {@link ZEROS_MAX}) zero bytes at `position`. */
export function writeZeros(fd: number, position: number, length: number): Promise<void> {
  zeros ??= Buffer.alloc(ZEROS_MAX);
  const buf = zeros;
  return new Promise((resolve, reject) => {
    write(fd, buf, 0, length, position, (err, written) => {
      if (err) reject(err);
      else if (written === length) resolve();
      else reject(shortWrite(written, length));
    });
  });
}

export function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(fd, done(resolve, reject));
  });
}

export function truncateAsync(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    ftruncate(fd, length, done(resolve, reject));
  });
}

export function closeAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    close(fd, done(resolve, reject));
  });
}

/** Fill `block` from `fd` at `offset`; the bytes read (fewer at the end of the file). */
export function readFully(fd: number, block: Buffer, offset: number): number {
  let got = 0;
  while (got < block.length) {
    const n = readSync(fd, block, got, block.length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** fsync a directory, so that files created, renamed or deleted in it stay so after a crash. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
