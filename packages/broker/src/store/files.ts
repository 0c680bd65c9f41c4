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
  writev,
  writevSync,
} from 'node:fs';

function done(resolve: () => void, reject: (err: unknown) => void) {
  return (err: NodeJS.ErrnoException | null): void => {
    if (err) reject(err);
    else resolve();
  };
}

/** The file writes the journal's writer makes (injected by tests to stage a full disk). */
export interface WriteIO {
  /** Write `bufs` at `position` synchronously; the bytes written (maybe fewer). */
  writevSync(fd: number, bufs: readonly Buffer[], position: number): number;
  /** The same, through the thread pool. */
  writev(fd: number, bufs: readonly Buffer[], position: number): Promise<number>;
  /** Make the file's data durable. */
  fdatasync(fd: number): Promise<void>;
}

/** The real {@link WriteIO}. */
export const nodeIO: WriteIO = {
  writevSync: (fd, bufs, position) => writevSync(fd, bufs, position),
  writev: (fd, bufs, position) =>
    new Promise((resolve, reject) => {
      writev(fd, bufs, position, (err, written) => {
        if (err) reject(err);
        else resolve(written);
      });
    }),
  fdatasync: (fd) =>
    new Promise((resolve, reject) => {
      fdatasync(fd, done(resolve, reject));
    }),
};

/** True for the errors of a full disk (or quota): writing may work again once space is freed. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** `bufs` without their first `skip` bytes. */
function rest(bufs: readonly Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (skip >= b.length) skip -= b.length;
    else {
      out.push(skip === 0 ? b : b.subarray(skip));
      skip = 0;
    }
  }
  return out;
}

/**
 * Write all of `bufs` (`total` bytes) at `position`, synchronously when `sync`; a short write
 * (the disk filling up) is continued, so that its cause, ENOSPC, is what is thrown.
 */
export async function writeFully(
  io: WriteIO,
  fd: number,
  bufs: readonly Buffer[],
  position: number,
  total: number,
  sync: boolean,
): Promise<void> {
  let done = 0;
  while (done < total) {
    const left = done === 0 ? bufs : rest(bufs, done);
    const n = sync
      ? io.writevSync(fd, left, position + done)
      : await io.writev(fd, left, position + done);
    if (n <= 0) throw new Error(`short write: ${String(done)} of ${String(total)} bytes`);
    done += n;
  }
}

/** Up to this many zero bytes are written at once (see {@link writeZeros}). */
export const ZEROS_MAX = 1024 * 1024;
let zeros: Buffer | undefined;

/** Write `length` (at most {@link ZEROS_MAX}) zero bytes at `position`. */
export function writeZeros(
  io: WriteIO,
  fd: number,
  position: number,
  length: number,
): Promise<void> {
  zeros ??= Buffer.alloc(ZEROS_MAX);
  return writeFully(io, fd, [zeros.subarray(0, length)], position, length, false);
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
