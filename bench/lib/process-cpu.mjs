// CPU time of another process, for benchmarks that charge a broker (or a peer) for the work it
// did during a run: read before and after, subtract.
import { readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system, all threads) process `pid` has used so far, from /proc; NaN when it
 * is gone (a peer stopped or restarted meanwhile) or /proc is missing (not Linux).
 */
export function cpuSecondsOf(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  } catch {
    return NaN;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
