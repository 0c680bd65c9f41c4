// What every fault script shares: its options (--long, --seed), progress lines on stderr, a
// seeded random source, and the verdict: one JSON line on stdout, the script's last output,
//
//   {"fault":"sigkill","verdict":"pass","long":false,"seed":7,"ms":41234,"figures":{...}}
//
// with `verdict` one of pass, fail (with a `reason`) or skip (with the `reason` it could not
// run, e.g. no permission to mount a tmpfs). The exit code is 0 for pass and skip, 1 for fail.
import { parseArgs } from 'node:util';
import { basename } from 'node:path';

/**
 * Parse the script's arguments: `--long` (the on-demand long run), `--seed N` (default: from the
 * clock, printed), and the script's own `options` (parseArgs style). Returns the values with
 * `long`, `seed`, `fault` (the script's name) and `started`.
 */
export function faultOptions(script, options = {}) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      long: { type: 'boolean', default: false },
      seed: { type: 'string' },
      ...options,
    },
  });
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  const fault = basename(script).replace(/\.mjs$/, '');
  return { ...values, seed, fault, started: Date.now() };
}

/** One progress line on stderr, with the seconds since `started`. */
export function progress(opts, message) {
  const s = ((Date.now() - opts.started) / 1000).toFixed(1);
  process.stderr.write(`[${opts.fault} ${s}s] ${message}\n`);
}

/** The verdict from the list of what failed: pass when it is empty, else fail with them joined. */
export function verdictOf(opts, figures, failures) {
  verdict(opts, failures.length === 0, figures, failures.join('; ') || undefined);
}

/** Print the verdict line and set the exit code. */
export function verdict(opts, pass, figures, reason) {
  const line = {
    fault: opts.fault,
    verdict: pass ? 'pass' : 'fail',
    long: opts.long,
    seed: opts.seed,
    ms: Date.now() - opts.started,
    figures,
    ...(reason === undefined ? {} : { reason }),
  };
  process.stdout.write(JSON.stringify(line) + '\n');
  process.exitCode = pass ? 0 : 1;
}

/** Print a skip verdict: the fault could not be staged here, and why. */
export function skip(opts, reason, figures = {}) {
  const line = {
    fault: opts.fault,
    verdict: 'skip',
    long: opts.long,
    seed: opts.seed,
    ms: Date.now() - opts.started,
    figures,
    reason,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
  process.exitCode = 0;
}

/** A small seeded PRNG (mulberry32): `next()` in [0, 1), `int(n)` in [0, n). */
export function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

/** Resolve after `ms`. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
