// Shared benchmark machinery: deterministic fixtures, socket-like chunking, interleaved timed
// repetitions with warm-up, statistics and progress on stderr.
//
// Every scenario script measures several implementations ("ours", "stompjs", "copy", ...) of the
// same work. Repetitions are interleaved (ours, stompjs, copy, ours, stompjs, copy, ...) so that
// load from other processes on the machine spreads over all of them instead of hitting one.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

export const KiB = 1024;
export const MiB = 1024 * 1024;
/** Throughput is reported in MB/s with MB = 10^6 bytes. */
export const MB = 1e6;

/** Options every scenario script understands. */
export function readOptions(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      size: { type: 'string' },
      reps: { type: 'string' },
      'min-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
    },
  });
  const quick = values.quick;
  return {
    json: values.json,
    quick,
    /** Comma-separated implementation ids to run (default: all). */
    only: values.only === undefined ? undefined : values.only.split(','),
    /** Comma-separated size ids to run (default: all). */
    sizes: values.size === undefined ? undefined : values.size.split(','),
    reps: Number(values.reps ?? (quick ? 3 : 9)),
    minMs: Number(values['min-ms'] ?? (quick ? 60 : 250)),
    warmupMs: Number(values['warmup-ms'] ?? (quick ? 100 : 500)),
  };
}

/** A small deterministic PRNG (mulberry32), so every run feeds identical input. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A printable, JSON-like body of exactly `size` bytes (no NUL, no multi-byte characters). */
export function makeBody(size, seed = 1) {
  const random = prng(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789{}":,. ';
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    body[i] = alphabet.charCodeAt(Math.floor(random() * alphabet.length));
  }
  return body;
}

/**
 * Cut `stream` into chunks of 16 KiB to 64 KiB (uniform, seeded), like successive socket reads.
 * Each chunk owns its own ArrayBuffer, exactly like a chunk a socket hands out.
 */
export function cutIntoChunks(stream, seed = 7, min = 16 * KiB, max = 64 * KiB) {
  const random = prng(seed);
  const chunks = [];
  for (let pos = 0; pos < stream.length;) {
    const size = min + Math.floor(random() * (max - min + 1));
    const end = Math.min(stream.length, pos + size);
    chunks.push(stream.slice(pos, end));
    pos = end;
  }
  return chunks;
}

/** Concatenate byte arrays. */
export function concat(parts) {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => undefined;

/** Progress goes to stderr so that stdout stays machine-readable. */
export function progress(message) {
  process.stderr.write(`${message}\n`);
}

/**
 * Time `pass` until at least `minMs` elapsed (at least one pass). Returns the passes made, the
 * elapsed milliseconds (wall clock and process CPU time) and the total of what every pass returned (a frame count, used to check
 * that each pass did all its work).
 */
function timed(pass, minMs) {
  let passes = 0;
  let checksum = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let elapsed = 0;
  do {
    checksum += pass();
    passes++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  const cpu = process.cpuUsage(cpuStart);
  return { passes, elapsed, cpuMs: (cpu.user + cpu.system) / 1000, checksum };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarise(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Measure implementations of one workload side by side.
 *
 * @param {object} workload `{ scenario, size, frames, bytes }`: what one pass processes.
 * @param {{ id: string, label: string, pass: () => number }[]} impls each `pass` processes the
 *   whole workload once and returns the number of frames it saw (checked against `frames`).
 * @param {ReturnType<typeof readOptions>} options
 */
export function measure(workload, impls, options) {
  const selected = impls.filter((impl) => options.only?.includes(impl.id) ?? true);
  const tag = `[${workload.scenario} ${workload.size}]`;
  const rates = new Map(selected.map((impl) => [impl.id, []]));
  const cpuRates = new Map(selected.map((impl) => [impl.id, []]));
  for (const impl of selected) {
    gc();
    const warm = timed(impl.pass, options.warmupMs);
    check(workload, impl, warm);
  }
  for (let rep = 0; rep < options.reps; rep++) {
    const line = [];
    for (const impl of selected) {
      gc();
      const run = timed(impl.pass, options.minMs);
      check(workload, impl, run);
      const framesPerSecond = (run.passes * workload.frames) / (run.elapsed / 1000);
      rates.get(impl.id).push(framesPerSecond);
      cpuRates.get(impl.id).push((run.passes * workload.frames) / (run.cpuMs / 1000));
      line.push(`${impl.id} ${formatRate(framesPerSecond)} frames/s`);
    }
    progress(`${tag} rep ${rep + 1}/${options.reps}: ${line.join(', ')}`);
  }
  const results = {};
  for (const impl of selected) {
    const fps = summarise(rates.get(impl.id));
    const perFrame = workload.bytes / workload.frames;
    results[impl.id] = {
      label: impl.label,
      framesPerSecond: fps,
      mbPerSecond: {
        median: (fps.median * perFrame) / MB,
        min: (fps.min * perFrame) / MB,
        max: (fps.max * perFrame) / MB,
      },
      samples: rates.get(impl.id),
      // Frames per second of process CPU time (all threads, GC included): when it is far above
      // the wall-clock rate, other processes took the CPU away and the wall-clock figure is low.
      cpuFramesPerSecond: summarise(cpuRates.get(impl.id)),
    };
  }
  return { ...workload, results };
}

function check(workload, impl, run) {
  const expected = run.passes * workload.frames;
  if (run.checksum !== expected) {
    throw new Error(
      `${workload.scenario} ${workload.size} ${impl.id}: saw ${run.checksum} frames in ${run.passes} passes, expected ${expected}`,
    );
  }
}

/** 1234567 -> "1.23M", 45210 -> "45.2k". */
export function formatRate(value) {
  if (value >= 1e9) return `${(value / 1e9).toPrecision(3)}G`;
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
}

/** Run a scenario script: JSON on stdout with --json, a short table otherwise. */
export async function main(run) {
  const options = readOptions();
  const result = await run(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const entry of result.entries) {
    for (const [id, r] of Object.entries(entry.results)) {
      process.stdout.write(
        `${entry.scenario} ${entry.size} ${id}: ${formatRate(r.framesPerSecond.median)} frames/s, ` +
          `${r.mbPerSecond.median.toFixed(1)} MB/s (range ${formatRate(r.framesPerSecond.min)}-${formatRate(r.framesPerSecond.max)})\n`,
      );
    }
  }
}
