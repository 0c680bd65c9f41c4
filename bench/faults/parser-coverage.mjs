// Fault: coverage-guided fuzzing of the frame parser (packages/core), in process.
//
// jazzer.js does not run on this glibc, so coverage comes from V8 itself: precise block coverage
// (node:inspector, Profiler.startPreciseCoverage with detailed counts), and an input that reaches
// a block of the core's code not reached before joins the corpus. A take costs about 10 ms, so it
// is taken after a batch of inputs; only a batch that reached a new block is run again an input
// at a time to find which of them did. Inputs are mutated from the
// corpus: bit flips, random bytes, STOMP-significant bytes (\n \r : \\ NUL), header escapes,
// content-length headers with odd values, commands, heart-beat EOLs, deletions, duplicated runs,
// splices of two inputs, truncation.
//
// Every input is checked against the parser's contract:
// - it throws nothing but a StompError whose code is an ERR_STOMP_ code;
// - it holds no more than its limits allow (bufferedBytes ≤ maxFrameSize after every push);
// - pushed in arbitrary chunkings (one byte at a time, and random splits) it gives the same
//   frames, heart-beats and error code as in one chunk;
// - serialize(parse(x)) parses back to the same frames, and serializing those gives the same
//   bytes again.
//
// Pass when no input breaks any of them. Figures: executions, blocks covered, corpus size,
// failures by invariant (each failing input is printed in hex, and with --save written beside
// the corpus). The run is deterministic: the seed defaults to 19 and is bounded by --iterations
// (--time bounds the wall clock too).
//
// Usage: node bench/faults/parser-coverage.mjs [--long] [--seed N] [--iterations N]
//        [--time S] [--corpus DIR] [--save]
//   --iterations  inputs to run (default 2000; --long 200000)
//   --time        seconds at most (default 55; --long 3600)
//   --corpus      seed inputs, one file each (default bench/faults/parser-corpus)
//   --save        write inputs that found new coverage, and failing ones, into the corpus dir
import { Session } from 'node:inspector';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameParser, StompError, encodeFrameBytes } from '@stompede/core';
import { faultOptions, progress, random, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, {
  iterations: { type: 'string' },
  time: { type: 'string' },
  corpus: { type: 'string' },
  save: { type: 'boolean', default: false },
});
// A fixed seed unless one is given: the brief run is the same run every time.
if (!process.argv.includes('--seed')) opts.seed = 19;
const iterations = Number(opts.iterations ?? (opts.long ? 200_000 : 2000));
const deadline = opts.started + 1000 * Number(opts.time ?? (opts.long ? 3600 : 55));
const corpusDir =
  opts.corpus ?? fileURLToPath(new URL('./parser-corpus/', import.meta.url)).replace(/\/$/, '');
const rnd = random(opts.seed);

/** Small limits, so that fuzzed inputs reach every one of them. */
const LIMITS = {
  maxFrameSize: 4096,
  maxBodySize: 2048,
  maxHeaderBytes: 1024,
  maxHeaderLineLength: 256,
  maxHeaders: 16,
};
const MAX_INPUT = 6000;
const VERSIONS = ['1.2', '1.1', '1.0'];

// ---- coverage ------------------------------------------------------------------------------

const session = new Session();
session.connect();
/** Post to the inspector; the main thread's session answers synchronously. */
function post(method, params = {}) {
  let out;
  let error;
  session.post(method, params, (err, res) => {
    error = err;
    out = res;
  });
  if (error) throw error;
  if (out === undefined) throw new Error(`${method} did not answer synchronously`);
  return out;
}
post('Profiler.enable');
post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
const CORE = /\/packages\/core\/dist\//;

/** Inputs per coverage take. */
const BATCH = 64;
const blocks = new Set();

/**
 * The blocks reached since the last call (takePreciseCoverage resets the counts) that no earlier
 * call reached; with `keep`, they count as reached from now on.
 */
function newBlocks(keep) {
  const { result } = post('Profiler.takePreciseCoverage');
  let fresh = 0;
  for (const script of result) {
    if (!CORE.test(script.url)) continue;
    const file = script.url.slice(script.url.lastIndexOf('/') + 1);
    for (const fn of script.functions) {
      for (const r of fn.ranges) {
        if (r.count === 0) continue;
        const block = `${file}:${r.startOffset}:${r.endOffset}`;
        if (blocks.has(block)) continue;
        if (keep) blocks.add(block);
        fresh++;
      }
    }
  }
  return fresh;
}

// ---- the invariants ------------------------------------------------------------------------

/** What parsing gives: events (frames in canonical form, heart-beats) and the error code. */
function parse(input, version, cuts, limits = LIMITS) {
  const events = [];
  const frames = [];
  let error;
  const parser = new FrameParser(
    {
      onFrame: (f) => {
        frames.push(f);
        events.push(canonical(f));
      },
      onHeartbeat: () => events.push('♥'),
    },
    { version, limits },
  );
  let at = 0;
  let worst = 0;
  try {
    for (const cut of [...cuts, input.length]) {
      // A copy per chunk: frames may keep views of their chunk.
      parser.push(input.slice(at, cut));
      at = cut;
      worst = Math.max(worst, parser.bufferedBytes);
    }
    parser.end();
  } catch (err) {
    error = err;
  }
  return { events, frames, error, worst };
}

/** A frame as text that compares exactly: command, headers in order, body bytes in hex. */
function canonical(frame) {
  const body = Buffer.from(frame.body).toString('hex');
  return JSON.stringify([frame.command, frame.rawHeaders, body]);
}

/** Without content-length headers (the serializer writes its own). */
function withoutLength(text) {
  const [command, raw, body] = JSON.parse(text);
  const kept = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] !== 'content-length') kept.push(raw[i], raw[i + 1]);
  }
  return JSON.stringify([command, kept, body]);
}

/** Whether `command`'s header values can escape CR in `version` (1.2, not CONNECT/CONNECTED). */
function escapes(command, version) {
  return version === '1.2' && command !== 'CONNECT' && command !== 'CONNECTED';
}

function typedCode(err) {
  return err instanceof StompError && /^ERR_STOMP_[A-Z_]+$/.test(err.code) ? err.code : undefined;
}

function describeError(err) {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message}`;
  return `a thrown ${typeof err}: ${String(err)}`;
}

/** FNV-1a of `bytes`: seeds an input's own chunkings, so that running it again cuts it the same. */
function hash(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** Random cut points of `n` bytes. */
function randomCuts(rnd, n) {
  const cuts = [];
  for (let at = 0; ;) {
    at += 1 + rnd.int(Math.max(1, rnd.int(4) === 0 ? 4 : 64));
    if (at >= n) return cuts;
    cuts.push(at);
  }
}

/** The failures `input` shows, as [invariant, detail] pairs. */
function check(input, version) {
  const out = [];
  const whole = parse(input, version, []);
  if (whole.error !== undefined && typedCode(whole.error) === undefined) {
    out.push(['typed-error', describeError(whole.error)]);
  }
  const cutter = random(hash(input) ^ opts.seed);
  const chunkings = [randomCuts(cutter, input.length), randomCuts(cutter, input.length)];
  if (input.length <= 128)
    chunkings.push(Array.from({ length: input.length - 1 }, (_, i) => i + 1));
  for (const cuts of chunkings) {
    const split = parse(input, version, cuts);
    if (split.worst > LIMITS.maxFrameSize) {
      out.push(['bounded', `${split.worst} bytes held, limit ${LIMITS.maxFrameSize}`]);
    }
    if (split.error !== undefined && typedCode(split.error) === undefined) {
      out.push(['typed-error', `chunked: ${describeError(split.error)}`]);
    }
    const a = whole.events.join('\n');
    const b = split.events.join('\n');
    const codeA = typedCode(whole.error) ?? String(whole.error === undefined ? '' : 'untyped');
    const codeB = typedCode(split.error) ?? String(split.error === undefined ? '' : 'untyped');
    if (a !== b || codeA !== codeB) {
      out.push([
        'chunking',
        `${cuts.length + 1} chunks: ${split.events.length} events, error ${codeB || 'none'}; one chunk: ${whole.events.length} events, error ${codeA || 'none'}`,
      ]);
      break;
    }
  }
  if (whole.worst > LIMITS.maxFrameSize) {
    out.push(['bounded', `${whole.worst} bytes held, limit ${LIMITS.maxFrameSize}`]);
  }
  // Round trip of what was parsed.
  for (const frame of whole.frames) {
    let bytes;
    try {
      bytes = encodeFrameBytes(frame, { version });
    } catch (err) {
      // A frame the parser took must be writable again in its version; but where CR cannot be
      // escaped (1.0, 1.1, CONNECT and CONNECTED frames), a value that ends in one (read from
      // `v\r\r\n`) is refused, as documented.
      if (!escapes(frame.command, version) && typedCode(err) === 'ERR_STOMP_INVALID_HEADER_VALUE') {
        unwritable++;
      } else {
        out.push(['round-trip', `serialize threw ${describeError(err)} for ${canonical(frame)}`]);
      }
      continue;
    }
    // Default limits: escaping makes a head longer than the one parsed.
    const again = parse(bytes, version, [], {});
    if (again.error !== undefined || again.frames.length !== 1) {
      out.push([
        'round-trip',
        `parse(serialize(f)) gave ${again.frames.length} frames, error ${again.error === undefined ? 'none' : describeError(again.error)}, for ${canonical(frame)}`,
      ]);
      continue;
    }
    if (withoutLength(canonical(again.frames[0])) !== withoutLength(canonical(frame))) {
      out.push(['round-trip', `${canonical(frame)} came back as ${canonical(again.frames[0])}`]);
      continue;
    }
    const twice = encodeFrameBytes(again.frames[0], { version });
    if (Buffer.compare(Buffer.from(twice), Buffer.from(bytes)) !== 0) {
      out.push(['round-trip', `serializing ${canonical(frame)} twice gives other bytes`]);
    }
  }
  return out;
}

// ---- mutation ------------------------------------------------------------------------------

const enc = (s) => Buffer.from(s, 'latin1');
const SIGNIFICANT = [0x0a, 0x0d, 0x3a, 0x5c, 0x00];
const TOKENS = [
  '\\n',
  '\\r',
  '\\c',
  '\\\\',
  '\\t',
  '\\',
  '\r\n',
  '\n\n',
  ':',
  '\0',
  '\0\n',
  'content-length:0\n',
  'content-length:1\n',
  'content-length:5\n',
  'content-length:-1\n',
  'content-length:2049\n',
  'content-length:99999999999999999999\n',
  'content-length: 5\n',
  'content-length:5 \n',
  'content-length:0x10\n',
  'content-length:1e3\n',
  'content-length:\n',
  'content-type:text/plain;charset=utf-8\n',
  'receipt:r1\n',
  'heart-beat:0,0\n',
  'destination:/queue/a\n',
  'SEND\n',
  'CONNECT\n',
  'STOMP\n',
  'MESSAGE\n',
  'ERROR\n',
  'CONNECTED\n',
  'DISCONNECT\n',
  '\n',
  '\r\n\r\n\n',
  'é',
  '\xff\xfe',
].map(enc);
const TEMPLATES = ['\r\n', '\n\n\n', 'x'.repeat(300), ':'.repeat(40), 'h:v\n'.repeat(20)].map(enc);

function mutateOnce(input, corpus) {
  const n = input.length;
  const at = rnd.int(n + 1);
  const insert = (bytes) => Buffer.concat([input.subarray(0, at), bytes, input.subarray(at)]);
  switch (rnd.int(11)) {
    case 0: {
      if (n === 0) return insert(enc('\n'));
      const out = Buffer.from(input);
      out[rnd.int(n)] ^= 1 << rnd.int(8);
      return out;
    }
    case 1: {
      if (n === 0) return insert(Buffer.of(rnd.int(256)));
      const out = Buffer.from(input);
      out[rnd.int(n)] = rnd.int(256);
      return out;
    }
    case 2:
      return insert(Buffer.of(SIGNIFICANT[rnd.int(SIGNIFICANT.length)]));
    case 3:
    case 4:
      return insert(TOKENS[rnd.int(TOKENS.length)]);
    case 5: {
      const len = rnd.int(Math.min(64, n - at) + 1);
      return Buffer.concat([input.subarray(0, at), input.subarray(at + len)]);
    }
    case 6: {
      const from = rnd.int(n + 1);
      const len = rnd.int(Math.min(128, n - from) + 1);
      return insert(input.subarray(from, from + len));
    }
    case 7: {
      const other = corpus[rnd.int(corpus.length)];
      const from = rnd.int(other.length + 1);
      return Buffer.concat([input.subarray(0, at), other.subarray(from)]);
    }
    case 8:
      return input.subarray(0, at);
    case 9:
      return insert(TEMPLATES[rnd.int(TEMPLATES.length)]);
    default: {
      // Heart-beat EOLs between frames.
      const eols = ['\n', '\r\n', '\n\n', '\r'][rnd.int(4)];
      return insert(enc(eols));
    }
  }
}

function mutate(input, corpus) {
  let out = input;
  for (let k = 1 + rnd.int(4); k > 0; k--) out = mutateOnce(out, corpus);
  return out.length > MAX_INPUT ? out.subarray(0, MAX_INPUT) : out;
}

// ---- the run -------------------------------------------------------------------------------

const seeds = readdirSync(corpusDir)
  .sort()
  .map((f) => readFileSync(join(corpusDir, f)));
const corpus = [];
const failures = new Map();
let executions = 0;
/** Parsed frames that cannot be written again (a header value ending in CR where CR has no escape). */
let unwritable = 0;
let saved = 0;

function run(input, version) {
  const broken = check(input, version);
  executions++;
  for (const [invariant, detail] of broken) {
    const key = `${invariant}: ${detail.slice(0, 120)}`;
    if (failures.has(key)) continue;
    failures.set(key, { invariant, detail, version, input: Buffer.from(input).toString('hex') });
    progress(
      opts,
      `FAILED ${invariant} (${version}): ${detail}\n  input: ${Buffer.from(input).toString('hex')}`,
    );
    if (opts.save) save(input, 'failure');
  }
}

function save(input, kind) {
  const name = `${kind}-${createHash('sha1').update(input).digest('hex').slice(0, 12)}.stomp`;
  writeFileSync(join(corpusDir, name), input);
  saved++;
}

newBlocks(false); // what loading and starting covered is not the parser's doing
for (const input of seeds) {
  run(input, '1.2');
  newBlocks(true);
  corpus.push(input);
}
const seedBlocks = blocks.size;
progress(
  opts,
  `seed ${opts.seed}: ${seeds.length} seed inputs cover ${seedBlocks} blocks of packages/core`,
);
let lastReport = Date.now();
for (let i = 0; i < iterations && Date.now() < deadline;) {
  const batch = [];
  for (; batch.length < BATCH && i < iterations; i++) {
    const input = mutate(corpus[rnd.int(corpus.length)], corpus);
    const version = VERSIONS[rnd.int(VERSIONS.length)];
    run(input, version);
    batch.push([input, version]);
  }
  if (newBlocks(false) > 0) {
    // Which of them: each again, alone (with the same chunkings: they are drawn from its hash).
    for (const [input, version] of batch) {
      check(input, version);
      if (newBlocks(true) > 0) {
        corpus.push(input);
        if (opts.save) save(input, 'cov');
      }
    }
  }
  if (Date.now() - lastReport >= 5000) {
    lastReport = Date.now();
    progress(
      opts,
      `${executions} executions, ${blocks.size} blocks, corpus ${corpus.length}, ${failures.size} failures`,
    );
  }
}
post('Profiler.stopPreciseCoverage');
session.disconnect();

const byInvariant = {};
for (const f of failures.values()) byInvariant[f.invariant] = (byInvariant[f.invariant] ?? 0) + 1;
const seconds = (Date.now() - opts.started) / 1000;
progress(
  opts,
  `done: ${executions} executions in ${seconds.toFixed(1)} s, ${blocks.size} blocks covered (${seedBlocks} by the seeds), corpus ${seeds.length} → ${corpus.length}, ${failures.size} distinct failures${opts.save ? `, ${saved} inputs saved to ${corpusDir}` : ''}`,
);
verdictOf(
  opts,
  {
    executions,
    iterations,
    blocks: blocks.size,
    seedBlocks,
    corpusSeeds: seeds.length,
    corpusFinal: corpus.length,
    unwritable,
    execsPerSecond: Math.round(executions / seconds),
    failures: byInvariant,
  },
  [...failures.values()].map(
    (f) => `${f.invariant} (${f.version}): ${f.detail} [input ${f.input.slice(0, 200)}]`,
  ),
);
