// The data directory's lock: a `LOCK` file holding the owning process id, created exclusively,
// so that two brokers (or two stores in one process) never write one journal. A LOCK left by a
// process that died (kill -9) is stale and taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StompInvalidArgumentError } from '@stompede/core';

/** Data directories open in this process (a second store on one is refused). */
const openDirs = new Set<string>();

/** The lock of one data directory, held from construction until {@link DirLock.release}. */
export class DirLock {
  private readonly file: string;
  private held = false;

  /** Take the lock of `dir`; throws StompInvalidArgumentError when another owner holds it. */
  constructor(private readonly dir: string) {
    this.file = join(dir, 'LOCK');
    if (openDirs.has(dir)) {
      throw new StompInvalidArgumentError(`dataDir ${dir} is already open in this process`);
    }
    // Exclusive create, so two brokers started at once cannot both win.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.file, 'wx');
        try {
          writeSync(fd, String(process.pid) + '\n');
        } finally {
          closeSync(fd);
        }
        openDirs.add(dir);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let pid = NaN;
      try {
        pid = Number(readFileSync(this.file, 'utf8').trim());
      } catch {
        continue; // removed meanwhile: try again
      }
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new StompInvalidArgumentError(
          `dataDir ${dir} is in use by process ${String(pid)} (its LOCK file)`,
        );
      }
      try {
        unlinkSync(this.file);
      } catch {
        // another starter removed it first
      }
    }
    throw new StompInvalidArgumentError(`dataDir ${dir}: could not take its LOCK file`);
  }

  /** Remove the LOCK file. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      unlinkSync(this.file);
    } catch {
      // already gone
    }
    openDirs.delete(this.dir);
  }
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
