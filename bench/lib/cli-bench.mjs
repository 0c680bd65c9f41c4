// Runs `stompede bench` (the CLI's load generator) as a child process, for the tools that put a
// known number of messages through a broker and measure the broker, not the load.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages/cli/dist/main.js');

/**
 * One producer and one auto-ack consumer move `count` messages of `size` bytes through the broker
 * at `url`; resolves with the bench's JSON summary, rejects when it printed none.
 */
export function runCliBench(url, { size, count, persistent = false }) {
  return new Promise((resolve, reject) => {
    const args = [
      cli,
      'bench',
      '--broker',
      url,
      '-s',
      String(size),
      '-C',
      String(count),
      '-a',
      'auto',
    ];
    if (persistent) args.push('--persistent');
    const child = spawn(process.execPath, [...args, '--json', '--quiet'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`bench: no summary (${out.slice(0, 200)})`));
      }
    });
  });
}
