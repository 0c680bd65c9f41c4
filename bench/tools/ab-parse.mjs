// A/B-compare the parser of several @stompede/core builds in one process, alternating between
// them repetition by repetition, so that load from other processes hits every build alike. Use it
// to check a parser change before committing it: copy packages/core/dist aside, rebuild, compare.
//
// Usage: node --expose-gc bench/tools/ab-parse.mjs DIST_DIR... [--size small] [--reps 30]
//   e.g. cp -r packages/core/dist /tmp/core-before && npx tsc --build packages/core &&
//        node --expose-gc bench/tools/ab-parse.mjs /tmp/core-before packages/core/dist
// Reports frames per second of wall-clock time and of process CPU time: median, p90 and best.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildWorkload, SIZES } from '../lib/fixtures.mjs';
import { formatRate, median } from '../lib/harness.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: 'small' }, reps: { type: 'string', default: '30' } },
});
if (positionals.length === 0) {
  process.stderr.write('usage: ab-parse.mjs DIST_DIR... [--size small|64KiB|1MiB] [--reps N]\n');
  process.exit(2);
}
const size = SIZES.find((s) => s.id === values.size);
if (size === undefined) throw new Error(`unknown size ${values.size}`);
const reps = Number(values.reps);
const builds = await Promise.all(
  positionals.map(async (dir) => ({
    dir,
    core: await import(pathToFileURL(resolve(dir, 'index.js')).href),
    wall: [],
    cpu: [],
  })),
);
const { chunks } = buildWorkload(size);
const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => undefined;

function pass(FrameParser) {
  let frames = 0;
  const parser = new FrameParser({
    onFrame(frame) {
      frames++;
      if (frame.body.length !== size.bodySize) throw new Error('wrong body length');
    },
  });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  if (frames !== size.frames) throw new Error(`saw ${frames} frames, expected ${size.frames}`);
  return frames;
}

const WARMUP = 3;
for (let rep = 0; rep < WARMUP + reps; rep++) {
  for (const build of builds) {
    gc();
    let frames = 0;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    let elapsed;
    do {
      frames += pass(build.core.FrameParser);
      elapsed = performance.now() - start;
    } while (elapsed < 100);
    const cpu = process.cpuUsage(cpuStart);
    if (rep < WARMUP) continue;
    build.wall.push(frames / (elapsed / 1000));
    build.cpu.push(frames / ((cpu.user + cpu.system) / 1e6));
  }
  if (rep >= WARMUP) process.stderr.write(`\rrep ${rep - WARMUP + 1}/${reps}`);
}
process.stderr.write('\n');

const p90 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)];
const describe = (values) =>
  `median ${formatRate(median(values))}  p90 ${formatRate(p90(values))}  best ${formatRate(Math.max(...values))}`;
process.stdout.write(`parse ${size.id}, frames/s (${reps} alternating repetitions of ≥ 100 ms)\n`);
for (const build of builds) {
  process.stdout.write(
    `${build.dir}\n  wall: ${describe(build.wall)}\n  cpu:  ${describe(build.cpu)}\n`,
  );
}
