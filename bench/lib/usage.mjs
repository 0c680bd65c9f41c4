// `--help` for the bench scripts: each script's opening comment is its usage, so `--help` prints
// that comment and exits before the script parses its flags (parseArgs throws on unknown ones) or
// starts anything.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The opening `//` comment of a file (after any `#!` line), without the comment markers. */
export function headerUsage(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines[0]?.startsWith('#!') ? 1 : 0;
  const end = lines.findIndex((l, i) => i >= start && !l.startsWith('//'));
  return lines
    .slice(start, end === -1 ? lines.length : end)
    .map((l) => l.replace(/^\/\/ ?/, ''))
    .join('\n');
}

/**
 * When the script at `moduleUrl` is the one node was started with and its arguments hold
 * `--help` or `-h`: print its usage on stdout and exit 0. A module imported by another script
 * (broker-idle.mjs by broker-run.mjs) is left alone.
 */
export function exitOnHelp(moduleUrl, argv = process.argv.slice(2)) {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  const file = fileURLToPath(moduleUrl);
  const entry = process.argv[1];
  if (entry === undefined || realpathSync(entry) !== realpathSync(file)) return;
  process.stdout.write(`${headerUsage(file)}\n`);
  process.exit(0);
}
