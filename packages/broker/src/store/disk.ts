// The watch over the disk of the data directory, as RabbitMQ's disk_free_limit and ActiveMQ's
// store usage limit do: below `limit` bytes free, new persistent messages are refused (with
// ERR_STOMP_DISK_FULL) while everything else goes on, ACKs included, so consumers can free space;
// writing resumes by itself once space is back. Free space is read with statfs every `interval`
// (every second while refusing), and at once when the bytes written since the last reading may
// have crossed the limit. A write that meets a full disk anyway (ENOSPC) makes it refuse too,
// until a retry of that write succeeds.
import { statfsSync } from 'node:fs';
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
  private readonly freeBytes: (dir: string) => number;

  constructor(private readonly options: DiskOptions) {
    this.freeBytes = options.freeBytes ?? statfsFree;
  }

  /** True while new persistent messages are refused. */
  get refusing(): boolean {
    return this.low || this.full;
  }

  /** Read the free space now, then every `interval`. */
  start(): void {
    this.poll();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Throws ERR_STOMP_DISK_FULL while refusing (counted). */
  admit(): void {
    if (!this.refusing) return;
    this.options.counters.persistentSendsRefused++;
    const why = this.full
      ? 'the disk is full'
      : `${mib(this.free)} free, below the limit of ${mib(this.options.limit)}`;
    throw new StompProtocolError(
      ErrorCode.DISK_FULL,
      `persistent message refused: the broker's data directory is low on disk space (${why}); try again once space is freed`,
    );
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

  /** A write met a full disk: refuse, and retry at every reading from now on. */
  noSpace(err: unknown): void {
    if (!this.full) {
      this.full = true;
      this.options.log.warn(
        { err, dir: this.options.dir },
        'journal: the disk is full; writes wait for space (ACKs are still taken, persistent messages refused) and are retried every second',
      );
    }
    this.publish();
    this.schedule();
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
    const low = this.free < this.options.limit;
    if (low !== this.low) {
      this.low = low;
      const detail = { free: this.free, limit: this.options.limit, dir: this.options.dir };
      if (low) {
        this.options.log.warn(
          detail,
          `journal: free disk space ${mib(this.free)} is below the limit of ${mib(this.options.limit)}: persistent messages are refused (ERR_STOMP_DISK_FULL) until space is freed; ACKs are still taken`,
        );
      } else {
        this.options.log.info(
          detail,
          `journal: free disk space ${mib(this.free)} is back above the limit: persistent messages are taken again`,
        );
      }
    }
    this.publish();
    this.options.changed(low);
    this.schedule();
  }

  private publish(): void {
    const c = this.options.counters;
    c.diskFreeBytes = Number.isFinite(this.free) ? this.free : -1;
    c.diskRefusing = this.refusing ? 1 : 0;
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
