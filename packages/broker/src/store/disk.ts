// The watch over the disk of the data directory, as RabbitMQ's disk_free_limit and ActiveMQ's
// store usage limit do: below `limit` bytes free, new persistent messages are refused (with
// ERR_STOMP_DISK_FULL) while everything else goes on, ACKs included, so consumers can free space;
// writing resumes by itself once space is back. Free space is read with statfs every `interval`
// (every second while refusing), and at once when the bytes written since the last reading may
// have crossed the limit. A write that meets a full disk anyway (ENOSPC) makes it refuse too,
// until a retry of that write succeeds.
//
// The reserve: a file `RESERVE` of `reserve` bytes (1 MiB) written in the data directory at start
// while there is room. When a write meets a full disk it is deleted, so that the write waiting,
// and the acknowledgements after it, have room: a consumer that waits for each ACK's receipt
// can then go on acknowledging until whole segments are consumed and deleted. Persistent
// messages stay refused until the reserve is written again (there is room for it above the
// limit), so the space it freed goes to acknowledgements only.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode, StompProtocolError } from '@stompede/core';
import type { StoreCounters } from './state.js';

/** Options of the {@link DiskMonitor}. */
export interface DiskOptions {
  readonly dir: string;
  /** Free bytes below which new persistent messages are refused; 0: only a full disk does. */
  readonly limit: number;
  /** Milliseconds between readings of the free space. */
  readonly interval: number;
  /** Bytes of the reserve file (0: none). */
  readonly reserve: number;
  /** Free bytes of the disk holding `dir` for this process (statfs, unless a test stages one). */
  readonly freeBytes?: (dir: string) => number;
  readonly log: Logger;
  readonly counters: StoreCounters;
  /** Space came back (or ran low): the writer writes zeros ahead or not, retries a blocked write. */
  readonly changed: (low: boolean) => void;
}

/** Bytes free for an unprivileged writer on the disk holding `dir`. */
export function statfsFree(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const MiB = 1024 * 1024;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

export class DiskMonitor {
  /** Free bytes at the last reading. */
  free = Number.POSITIVE_INFINITY;
  /** Below the limit at the last reading. */
  low = false;
  /** A write met a full disk and waits to be retried. */
  full = false;
  private writtenSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The reserve file: on disk, missing (no room yet), or deleted for a full disk. */
  private reserve: 'held' | 'missing' | 'released' = 'missing';
  private readonly freeBytes: (dir: string) => number;
  private readonly reserveFile: string;

  constructor(private readonly options: DiskOptions) {
    this.freeBytes = options.freeBytes ?? statfsFree;
    this.reserveFile = join(options.dir, 'RESERVE');
  }

  /** True while new persistent messages are refused. */
  get refusing(): boolean {
    return this.refusingNow();
  }

  private refusingNow(): boolean {
    return this.low || this.full || this.reserve === 'released';
  }

  /** Read the free space now, then every `interval`; write the reserve when it is missing. */
  start(): void {
    this.reserve = this.options.reserve === 0 || existsSync(this.reserveFile) ? 'held' : 'missing';
    this.poll();
  }

  /** Delete the reserve (a write met a full disk); true when that freed space. */
  private release(): boolean {
    if (this.options.reserve === 0 || this.reserve !== 'held') return false;
    this.reserve = 'released';
    try {
      unlinkSync(this.reserveFile);
    } catch {
      return false;
    }
    this.options.log.warn(
      { bytes: this.options.reserve },
      'journal: the disk is full: its reserve is released for the write that waits and for acknowledgements; persistent messages are refused until it can be written again',
    );
    return true;
  }

  /** Write the reserve file again when there is room for it above the limit. */
  private restore(): void {
    const size = this.options.reserve;
    if (this.reserve === 'held' || this.full) return;
    if (this.free - size < Math.max(this.options.limit, size)) return;
    const tmp = `${this.reserveFile}.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        const zeros = Buffer.alloc(Math.min(size, 64 * 1024));
        for (let done = 0; done < size;) {
          done += writeSync(fd, zeros, 0, Math.min(zeros.length, size - done), done);
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.reserveFile);
      this.reserve = 'held';
      this.free -= size;
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // never made
      }
      this.options.log.warn({ err }, 'journal: cannot write the disk space reserve');
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Throws ERR_STOMP_DISK_FULL while refusing (counted). */
  admit(): void {
    if (!this.refusing) return;
    this.options.counters.persistentSendRefused();
    const why =
      this.full || this.reserve === 'released'
        ? 'the disk is full; what is left is kept for acknowledgements'
        : `${mib(this.free)} free, below the limit of ${mib(this.options.limit)}`;
    throw new StompProtocolError(
      ErrorCode.DISK_FULL,
      `persistent message refused: the broker's data directory is low on disk space (${why}); try again once space is freed`,
    );
  }

  /**
   * Bytes that may be written now, by the last reading less what was written since and half the
   * limit (kept for acknowledgements); 0 while a write waits for space.
   */
  room(): number {
    if (this.full) return 0;
    return Math.max(0, this.free - this.writtenSince - this.options.limit / 2);
  }

  /**
   * Bytes above the limit by the last reading less what was written since: what zeros written
   * ahead of the records may take. 0 while refusing.
   */
  spare(): number {
    if (this.refusingNow()) return 0;
    return Math.max(0, this.free - this.writtenSince - this.options.limit);
  }

  /** `bytes` were written: read the free space again when that may have crossed the limit. */
  wrote(bytes: number): void {
    this.writtenSince += bytes;
    if (this.full) {
      this.full = false;
      this.options.log.info({ free: this.free }, 'journal: writes resumed (disk space is back)');
      this.poll();
      return;
    }
    if (!this.low && this.free - this.writtenSince < this.options.limit) this.poll();
  }

  /**
   * A write met a full disk: refuse, and retry at every reading from now on. True when the
   * reserve was released for it (retry at once).
   */
  noSpace(err: unknown): boolean {
    if (this.release()) {
      this.publish();
      return true;
    }
    if (!this.full) {
      this.full = true;
      this.options.log.warn(
        { err, dir: this.options.dir },
        'journal: the disk is full; writes wait for space (ACKs are still taken, persistent messages refused) and are retried every second',
      );
    }
    this.publish();
    this.schedule();
    return false;
  }

  /** Read the free space, act on a change, and schedule the next reading. */
  poll(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    try {
      this.free = this.freeBytes(this.options.dir);
    } catch (err) {
      this.options.log.warn({ err, dir: this.options.dir }, 'journal: cannot read free disk space');
    }
    this.writtenSince = 0;
    const before = this.refusingNow();
    this.restore();
    const low = this.free < this.options.limit;
    const detail = { free: this.free, limit: this.options.limit, dir: this.options.dir };
    if (low && !this.low) {
      this.options.log.warn(
        detail,
        `journal: free disk space ${mib(this.free)} is below the limit of ${mib(this.options.limit)}: persistent messages are refused (ERR_STOMP_DISK_FULL) until space is freed; ACKs are still taken`,
      );
    }
    this.low = low;
    if (before && !this.refusingNow()) {
      this.options.log.info(
        detail,
        `journal: free disk space ${mib(this.free)} is back above the limit: persistent messages are taken again`,
      );
    }
    this.publish();
    this.options.changed(low);
    this.schedule();
  }

  private publish(): void {
    this.options.counters.diskRead(Number.isFinite(this.free) ? this.free : -1, this.refusing);
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const ms = this.refusing ? Math.min(this.options.interval, 1000) : this.options.interval;
    this.timer = setTimeout(() => {
      this.poll();
    }, ms);
    this.timer.unref();
  }
}
