// Instruction counts of the parser, for judging a parser change on a shared, loaded machine where
// wall-clock rates are noise. Run under callgrind by `callgrind-parse.sh`, which counts each
// measured pass alone: the script calls process.cpuUsage() right before a pass (callgrind zeroes
// its counters on entering node::CPUUsage) and process.memoryUsage() right after it (callgrind
// dumps on entering node::MemoryUsage). So
//   - start-up, fixture building and the warm-up passes (JIT tiering) are not counted;
//   - every measured pass starts from the same heap state: a minor GC before it (not counted)
//     empties the young generation, so the scavenges a pass's own garbage causes fall at the
//     same points in every pass, and are counted (they are its cost). A full GC would not do:
//     V8 drops optimized code on a forced full GC, and the next pass would pay for recompiling;
//   - under `node --predictable` (single-threaded, no timers in the heuristics) passes repeat
//     their count exactly; now and then one holds a major GC or a re-optimization, so the script
//     reports the median pass (and the mean, which includes those, amortized).
// The earlier method (run N and 2N passes, subtract the totals) let a major GC fall in one run and
// not in the other, which moved per-pass figures by up to ±15%.
//
// Usage: node --predictable --expose-gc bench/tools/callgrind-parse.mjs DIST_DIR WORKLOAD
//        [WARMUP] [PASSES]   (callgrind-parse.sh passes 8 and 9)
// Workloads (a pass is one fresh FrameParser over the whole stream):
//   small          8192 MESSAGE frames, 5 headers, 100 B bodies, 16-64 KiB chunks; the handler
//                  reads two headers (frame.header: lazy lookups) and the body
//   small-decoded  the same; the handler reads every header (frame.rawHeaders: a full decode)
//   small-split    the small stream cut into 7-byte chunks (heads and bodies straddle chunks)
//   escaped        small frames whose destination holds escapes (\c, \n); reads two headers
//   v10            the small stream parsed as STOMP 1.0 (padding trimmed)
//   nolength       small frames without content-length (bodies found by their NUL)
//   4KiB           1024 frames of 4 KiB bodies in 1-3 KiB chunks: every body straddles chunks
//   64KiB, 1MiB    64 frames of 64 KiB, 8 frames of 1 MiB, in 16-64 KiB chunks
//   For the body workloads the handler takes the body as a vectored writer does: frame.bodyChunks
//   where the build has it (the pieces, no copy), else frame.body. `4KiB-joined`, `64KiB-joined`
//   and `1MiB-joined` read frame.body on every build (one array: pieces are joined on demand).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWorkload, headersOf, SIZES, wireFrame } from '../lib/fixtures.mjs';
import { concat, cutIntoChunks, KiB, makeBody } from '../lib/harness.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const [dir, workload, warmupText, passesText] = process.argv.slice(2);
if (dir === undefined || workload === undefined) {
  process.stderr.write('usage: callgrind-parse.mjs DIST_DIR WORKLOAD [WARMUP] [PASSES]\n');
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') {
  process.stderr.write('run with node --predictable --expose-gc\n');
  process.exit(2);
}
const warmup = Number(warmupText ?? '8');
const passes = Number(passesText ?? '9');
const core = await import(pathToFileURL(resolve(dir, 'index.js')).href);
const encoder = new TextEncoder();

function frames(count, size, make = wireFrame) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(make(i, makeBody(size, i + 1)));
  return concat(out);
}

function textFrame(head, body) {
  return concat([encoder.encode(head), body, Uint8Array.of(0)]);
}

/** How the handler consumes a frame. */
const Read = {
  /** Two header lookups and the body length. */
  Lazy: 0,
  /** Every header decoded. */
  Decoded: 1,
  /** The body as a vectored writer takes it (pieces where the build keeps them). */
  Pieces: 2,
  /** The body as one array. */
  Joined: 3,
};

const [name, joined] = workload.endsWith('-joined')
  ? [workload.slice(0, -'-joined'.length), true]
  : [workload, false];
let chunks;
let version = '1.2';
let read = Read.Lazy;
let expected = 8192;
switch (name) {
  case 'small':
  case 'small-decoded':
    chunks = buildWorkload(SIZES.find((s) => s.id === 'small')).chunks;
    read = name === 'small' ? Read.Lazy : Read.Decoded;
    break;
  case 'small-split': {
    const stream = frames(8192, 100);
    chunks = [];
    for (let at = 0; at < stream.length; at += 7) chunks.push(stream.slice(at, at + 7));
    break;
  }
  case 'escaped':
    chunks = cutIntoChunks(
      frames(8192, 100, (i, body) =>
        textFrame(
          `MESSAGE\ndestination:/queue/a\\cb\\nc\nmessage-id:ID-${String(1000000 + i)}\n` +
            `subscription:sub-0\ncontent-length:${String(body.length)}\n\n`,
          body,
        ),
      ),
    );
    break;
  case 'v10':
    version = '1.0';
    chunks = cutIntoChunks(frames(8192, 100));
    break;
  case 'nolength':
    chunks = cutIntoChunks(
      frames(8192, 100, (i, body) => {
        let head = 'MESSAGE\n';
        for (const [key, value] of Object.entries(headersOf(i))) head += `${key}:${value}\n`;
        return textFrame(`${head}\n`, body);
      }),
    );
    break;
  case '4KiB':
    expected = 1024;
    chunks = cutIntoChunks(frames(expected, 4 * KiB), 7, KiB, 3 * KiB);
    read = joined ? Read.Joined : Read.Pieces;
    break;
  case '64KiB':
  case '1MiB': {
    const size = SIZES.find((s) => s.id === name);
    chunks = buildWorkload(size).chunks;
    expected = size.frames;
    read = joined ? Read.Joined : Read.Pieces;
    break;
  }
  default:
    process.stderr.write(`unknown workload ${workload}\n`);
    process.exit(2);
}

let sink = 0;
function pass() {
  let count = 0;
  const parser = new core.FrameParser(
    {
      onFrame(frame) {
        count++;
        if (read === Read.Lazy) {
          sink += frame.header('destination').length + frame.header('subscription').length;
          sink += frame.body.length;
        } else if (read === Read.Decoded) {
          sink += frame.rawHeaders.length + frame.body.length;
        } else if (read === Read.Pieces && frame.bodyChunks !== undefined) {
          for (const piece of frame.bodyChunks) sink += piece.length;
        } else {
          sink += frame.body.length;
        }
      },
    },
    { version },
  );
  for (let i = 0; i < chunks.length; i++) parser.push(chunks[i]);
  parser.end();
  if (count !== expected) throw new Error(`${workload}: ${count} frames, expected ${expected}`);
}

for (let p = 0; p < warmup; p++) pass();
for (let p = 0; p < passes; p++) {
  globalThis.gc({ type: 'minor' }); // not counted: the pass starts with an empty young generation
  process.cpuUsage(); // callgrind: zero
  pass();
  process.memoryUsage(); // callgrind: dump this pass
}
process.stdout.write(
  `${workload} ${String(passes)} passes of ${String(expected)} frames ${String(sink)}\n`,
);
