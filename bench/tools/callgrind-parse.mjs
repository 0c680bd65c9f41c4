// Instruction counts of the parser, for judging a parser change on a shared, loaded machine where
// wall-clock rates are noise. Runs one workload `--passes` times in one process; run it under
// callgrind twice (N and 2N passes) and the difference of the totals is the cost of N passes, free
// of start-up, fixture building and most JIT warm-up. `callgrind-parse.sh` does exactly that.
//
// Usage: node --predictable bench/tools/callgrind-parse.mjs DIST_DIR WORKLOAD PASSES
// Workloads:
//   small          8192 MESSAGE frames, 5 headers, 100 B bodies, 16-64 KiB chunks (the fast path)
//   small-decoded  the same, and the handler reads every header (frame.rawHeaders)
//   small-split    the same stream cut into 7-byte chunks (heads and bodies straddle chunks)
//   escaped        small frames whose destination holds escapes (\c, \n), decoded at parse time
//   v10            small frames parsed as STOMP 1.0 (padding rules: the general head path)
//   64KiB, 1MiB    64 frames of 64 KiB, 8 frames of 1 MiB, 16-64 KiB chunks (body accumulation)
//   nolength       small frames without content-length (bodies found by their NUL)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWorkload, SIZES, wireFrame } from '../lib/fixtures.mjs';
import { concat, cutIntoChunks, makeBody } from '../lib/harness.mjs';

const [dir, workload, passesText] = process.argv.slice(2);
if (dir === undefined || workload === undefined) {
  process.stderr.write('usage: callgrind-parse.mjs DIST_DIR WORKLOAD PASSES\n');
  process.exit(2);
}
const passes = Number(passesText ?? '1');
const core = await import(pathToFileURL(resolve(dir, 'index.js')).href);
const encoder = new TextEncoder();

function smallFrames(make) {
  const frames = [];
  for (let i = 0; i < 8192; i++) frames.push(make(i, makeBody(100, i + 1)));
  return concat(frames);
}

function textFrame(head, body) {
  return concat([encoder.encode(head), body, Uint8Array.of(0)]);
}

let chunks;
let version = '1.2';
let decode = false;
let expected;
switch (workload) {
  case 'small':
  case 'small-decoded':
  case '64KiB':
  case '1MiB': {
    const size = SIZES.find((s) => s.id === (workload === 'small-decoded' ? 'small' : workload));
    const built = buildWorkload(size);
    chunks = built.chunks;
    expected = size.frames;
    decode = workload === 'small-decoded';
    break;
  }
  case 'small-split': {
    const stream = smallFrames(wireFrame);
    chunks = [];
    for (let at = 0; at < stream.length; at += 7) chunks.push(stream.slice(at, at + 7));
    expected = 8192;
    break;
  }
  case 'escaped':
    chunks = cutIntoChunks(
      smallFrames((i, body) =>
        textFrame(
          `MESSAGE\ndestination:/queue/a\\cb\\nc\nmessage-id:ID-${String(1000000 + i)}\n` +
            `subscription:sub-0\ncontent-length:${String(body.length)}\n\n`,
          body,
        ),
      ),
    );
    expected = 8192;
    break;
  case 'v10':
    version = '1.0';
    chunks = cutIntoChunks(smallFrames(wireFrame));
    expected = 8192;
    break;
  case 'nolength':
    chunks = cutIntoChunks(
      smallFrames((i, body) =>
        textFrame(
          `MESSAGE\ndestination:/topic/bench.prices\nmessage-id:ID-broker-1-${String(1000000 + i)}\n` +
            `subscription:sub-0\ncontent-type:application/json\n\n`,
          body,
        ),
      ),
    );
    expected = 8192;
    break;
  default:
    process.stderr.write(`unknown workload ${workload}\n`);
    process.exit(2);
}

let sink = 0;
for (let p = 0; p < passes; p++) {
  let frames = 0;
  const parser = new core.FrameParser(
    {
      onFrame(frame) {
        frames++;
        sink += frame.body.length;
        if (decode) sink += frame.rawHeaders.length;
      },
    },
    { version },
  );
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  if (frames !== expected) throw new Error(`${workload}: ${frames} frames, expected ${expected}`);
}
process.stdout.write(`${workload} ${String(passes)} passes ${String(sink)}\n`);
