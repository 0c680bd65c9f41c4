#!/usr/bin/env node
// The fault campaign (issue 19): runs the fault scripts of this folder, each in a process of its
// own with a hard time bound, shows their progress, collects their JSON verdicts and ends with a
// summary (a table on stderr, one JSON line on stdout). Exit code 1 when any fault failed.
//
// Usage: node bench/faults/run.mjs [name ...] [--long] [--seed N] [--timeout S]
//        npm run faults -- [name ...] [--long]
//   name      a script of this folder without .mjs (default: all of them)
//   --long    the on-demand long runs (default: the brief runs CI makes)
//   --seed    passed to every script (default: each picks one and prints it)
//   --timeout seconds a script may take before it is killed and failed (default 300, long 7200)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const here = fileURLToPath(new URL('.', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    long: { type: 'boolean', default: false },
    seed: { type: 'string' },
    timeout: { type: 'string' },
  },
});
const all = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .map((f) => f.slice(0, -4))
  .sort();
const unknown = positionals.filter((n) => !all.includes(n));
if (unknown.length > 0) {
  process.stderr.write(`unknown fault ${unknown.join(', ')}; there are: ${all.join(', ')}\n`);
  process.exit(2);
}
const names = positionals.length > 0 ? positionals : all;
const timeoutS = Number(values.timeout ?? (values.long ? 7200 : 300));

function runOne(name) {
  const args = [join(here, `${name}.mjs`)];
  if (values.long) args.push('--long');
  if (values.seed !== undefined) args.push('--seed', values.seed);
  const started = Date.now();
  // Its own process group, so that a script killed at its deadline takes its brokers along.
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    out += chunk;
    process.stderr.write(chunk.replace(/^(?=.)/gm, `[${name}] `));
  });
  child.stderr.on('data', (chunk) => process.stderr.write(chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutS * 1000);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Brokers a failed script left behind go with its group.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // none left
      }
      const lines = out.trim().split('\n').reverse();
      let v;
      for (const line of lines) {
        try {
          const parsed = JSON.parse(line);
          if (parsed !== null && typeof parsed === 'object' && 'verdict' in parsed) {
            v = parsed;
            break;
          }
        } catch {
          // not the verdict
        }
      }
      const ms = Date.now() - started;
      if (timedOut) v = { fault: name, verdict: 'fail', ms, reason: `killed after ${timeoutS} s` };
      else if (v === undefined) {
        v = { fault: name, verdict: 'fail', ms, reason: `no verdict (exit ${signal ?? code})` };
      } else if (v.verdict === 'pass' && code !== 0) {
        v = { ...v, verdict: 'fail', reason: `exit code ${signal ?? code} after a pass verdict` };
      }
      resolve(v);
    });
  });
}

const verdicts = [];
for (const name of names) {
  process.stderr.write(`\n== fault ${name}${values.long ? ' (long)' : ''}\n`);
  verdicts.push(await runOne(name));
}
process.stderr.write('\n== summary\n');
for (const v of verdicts) {
  const figures = v.figures === undefined ? '' : ` ${JSON.stringify(v.figures)}`;
  const reason = v.reason === undefined ? '' : ` (${v.reason})`;
  process.stderr.write(
    `${v.verdict.padEnd(4)} ${v.fault.padEnd(20)} ${(v.ms / 1000).toFixed(1).padStart(7)} s${reason}${figures}\n`,
  );
}
const pass = verdicts.every((v) => v.verdict !== 'fail');
process.stdout.write(JSON.stringify({ pass, long: values.long, faults: verdicts }) + '\n');
process.exitCode = pass ? 0 : 1;
