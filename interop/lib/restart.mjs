// The `durable_restart` handshake between a Node driver and run.mjs. The driver prints one JSON
// line {"control": "restart", "client", "version"} on stdout once its persistent messages are
// confirmed (and, where the case does so, some of them delivered but not acknowledged), then waits
// for one line on stdin: `restarted` once the harness killed the broker (SIGKILL) and started a
// new one on the same data directory and ports, or `restart failed: REASON`. The wait is bounded.
// Run by hand, a driver can be answered from the terminal: restart the broker, then type
// `restarted`. The Python, Ruby, Perl and PHP drivers speak the same two lines.
import { createInterface } from 'node:readline';

/** How long a driver waits for the harness to answer (a broker restart takes about a second). */
export const RESTART_WAIT_MS = 60_000;

let lines;
const queued = [];
const waiters = [];
let ended = false;

function input() {
  if (lines) return;
  lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else queued.push(line);
  });
  lines.on('close', () => {
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  });
}

function nextLine(ms) {
  input();
  if (queued.length > 0) return Promise.resolve(queued.shift());
  if (ended) return Promise.resolve(null);
  return new Promise((resolve) => {
    const waiter = (line) => {
      clearTimeout(timer);
      resolve(line);
    };
    const timer = setTimeout(() => {
      const i = waiters.indexOf(waiter);
      if (i >= 0) waiters.splice(i, 1);
      resolve(undefined);
    }, ms);
    waiters.push(waiter);
  });
}

/**
 * Asks the harness to kill and restart the broker; resolves once it says `restarted`, throws
 * otherwise (refused, stdin closed, or no answer within `ms`).
 * @param {(line: string) => void} write  writes one line to stdout (the driver's own output path)
 */
export async function requestBrokerRestart(write, client, version, ms = RESTART_WAIT_MS) {
  write(JSON.stringify({ control: 'restart', client, version }));
  const answer = await nextLine(ms);
  if (answer === undefined) throw new Error(`no answer to the restart request within ${ms} ms`);
  if (answer === null) throw new Error('stdin closed: no harness to restart the broker');
  if (answer.trim() !== 'restarted') throw new Error(`broker not restarted: ${answer.trim()}`);
}
