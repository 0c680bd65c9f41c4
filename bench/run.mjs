// Run every codec scenario in one go and write bench/results/codec.{md,json}.
//
// Usage: npm run bench                       (build, then the full run: about 1-2 minutes)
//        node bench/run.mjs [--quick] [parse|serialize ...] [--size ...] [--only ...] [--reps N]
//                           [--out DIR]
//
// Each scenario script runs in its own `node --expose-gc` process (so the JIT state of one does not
// leak into the next), reports progress on stderr and its results as JSON on stdout. Results are
// written to bench/results only by a full run (no --quick, no filters); other runs just print the
// summary, unless --out DIR is given.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatRate, progress, readOptions } from './lib/harness.mjs';
import { coreSource } from './lib/core.mjs';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = [
  { id: 'parse', script: 'codec-parse.mjs' },
  { id: 'serialize', script: 'codec-serialize.mjs' },
];
/** Targets from the benchmark issue. */
const TARGETS = {
  smallParseVsStompjs: 10,
  largeParseVsCopy: 2,
};

const args = process.argv.slice(2);
// --out DIR: write the report there even for a quick or partial run.
const outIndex = args.indexOf('--out');
const outDir = outIndex === -1 ? undefined : args[outIndex + 1];
if (outIndex !== -1 && outDir === undefined) throw new Error('--out needs a directory');
const rest = outIndex === -1 ? args : args.filter((_, i) => i !== outIndex && i !== outIndex + 1);
const wanted = rest.filter((arg) => SCENARIOS.some((s) => s.id === arg));
const forwarded = rest.filter((arg) => !wanted.includes(arg));
const options = readOptions(forwarded);
const full =
  !options.quick &&
  wanted.length === 0 &&
  options.only === undefined &&
  options.sizes === undefined &&
  forwarded.every((arg) => arg === '--json') &&
  process.env.STOMPEDE_CORE === undefined;

function runScenario(scenario) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', join(here, scenario.script), '--json', ...forwarded],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (data) => (out += data));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${scenario.script} exited with ${String(code)}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let nproc;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    nproc = cpus().length;
  }
  return {
    nproc,
    cpu: model,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Other processes using CPU right now (ps), to judge how noisy the figures are. */
function busyProcesses() {
  try {
    const lines = execFileSync('ps', ['-eo', 'pcpu=,pid=,comm=', '--sort=-pcpu'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    return lines
      .map((line) => line.trim().split(/\s+/))
      .filter(([pcpu, pid]) => Number(pcpu) >= 5 && Number(pid) !== process.pid)
      .map(([pcpu, pid, comm]) => `${comm} (pid ${pid}, ${pcpu}% CPU)`);
  } catch {
    return [];
  }
}

const fmt = (value) => (value >= 100 ? value.toFixed(0) : value.toPrecision(3));
const rangeOf = (r) =>
  `${formatRate(r.framesPerSecond.median)} (${formatRate(r.framesPerSecond.min)}–${formatRate(r.framesPerSecond.max)})`;
const mbOf = (r) =>
  `${fmt(r.mbPerSecond.median)} (${fmt(r.mbPerSecond.min)}–${fmt(r.mbPerSecond.max)})`;
const ratio = (a, b) => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}×`);

function evaluate(results) {
  const parse = results.find((r) => r.scenario === 'parse');
  const checks = [];
  for (const entry of parse?.entries ?? []) {
    const { ours, stompjs, copy } = entry.results;
    const decoded = entry.results['ours-decoded'];
    if (entry.size === 'small' && stompjs) {
      for (const [r, what] of [
        [ours, 'ours'],
        [decoded, 'ours with every header read (as stompjs delivers them)'],
      ]) {
        if (r === undefined) continue;
        const value = r.framesPerSecond.median / stompjs.framesPerSecond.median;
        checks.push({
          target: `parse small: ${what} ≥ ${TARGETS.smallParseVsStompjs}× stompjs frames/s`,
          value: `${value.toFixed(2)}× (${formatRate(r.framesPerSecond.median)} vs ${formatRate(stompjs.framesPerSecond.median)} frames/s)`,
          met: value >= TARGETS.smallParseVsStompjs,
        });
      }
    }
    if (entry.size !== 'small' && ours && copy) {
      const value = copy.mbPerSecond.median / ours.mbPerSecond.median;
      checks.push({
        target: `parse ${entry.size}: ours within ${TARGETS.largeParseVsCopy}× of plain copy MB/s`,
        value: `copy is ${value.toFixed(2)}× ours (${fmt(copy.mbPerSecond.median)} vs ${fmt(ours.mbPerSecond.median)} MB/s)`,
        met: value <= TARGETS.largeParseVsCopy,
      });
    }
  }
  return checks;
}

/** The overview: one row per scenario and size, medians, ratios of medians. */
function overview(results) {
  const out = [
    '| scenario | size | ours | ours, contiguous¹ | stompjs | plain copy | ours / stompjs | copy / ours² |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const cell = (r) =>
    r === undefined
      ? '–'
      : `${formatRate(r.framesPerSecond.median)} frames/s, ${fmt(r.mbPerSecond.median)} MB/s`;
  for (const { scenario, entries } of results) {
    const rows = entries.flatMap((entry) =>
      scenario === 'parse' && entry.results['ours-decoded'] !== undefined
        ? [
            { label: scenario, entry, results: entry.results },
            {
              label: 'parse, every header read³',
              entry,
              results: { ...entry.results, ours: entry.results['ours-decoded'] },
            },
          ]
        : [{ label: scenario, entry, results: entry.results }],
    );
    for (const { label, entry, results: r } of rows) {
      const m = (id) => r[id]?.framesPerSecond.median;
      const vsStompjs =
        scenario === 'serialize'
          ? `${ratio(m('ours'), m('stompjs'))} (contiguous ${ratio(m('ours-bytes'), m('stompjs'))})`
          : ratio(m('ours'), m('stompjs'));
      const vsCopy =
        scenario === 'serialize' ? ratio(m('copy'), m('ours-bytes')) : ratio(m('copy'), m('ours'));
      out.push(
        `| ${label} | ${entry.size} | ${cell(r.ours)} | ${cell(r['ours-bytes'])} | ${cell(r.stompjs)} | ${cell(r.copy)} | ${vsStompjs} | ${vsCopy} |`,
      );
    }
  }
  out.push(
    '',
    '¹ Serialize only: `encodeFrameBytes`, one contiguous array like stompjs produces; `ours` is `encodeFrame`, which returns the body by reference (no copy), so its MB/s on large bodies is not a copy rate.',
    '² For serialize, copy / contiguous (`encodeFrameBytes`). Below 1× means faster than the copy.',
    '³ The parse handler also reads every header (`frame.rawHeaders`), as stompjs delivers them all decoded; the plain `parse` row only checks body lengths, so a parser that decodes headers on demand does not decode them there.',
    '',
  );
  return out;
}

/** Per scenario: every implementation with median (min–max). */
function tables(results) {
  const out = [];
  for (const { scenario, entries } of results) {
    const impls = Object.keys(entries[0]?.results ?? {});
    out.push(`### ${scenario}`, '');
    out.push(
      `| size | ${impls.map((id) => `${id} frames/s`).join(' | ')} | ${impls.map((id) => `${id} MB/s`).join(' | ')} |`,
    );
    out.push(`|${' --- |'.repeat(1 + 2 * impls.length)}`);
    for (const entry of entries) {
      const r = entry.results;
      const cells = [
        `${entry.size} (${String(entry.frames)} frames, ${(entry.bytes / 1e6).toFixed(2)} MB)`,
        ...impls.map((id) => rangeOf(r[id])),
        ...impls.map((id) => mbOf(r[id])),
      ];
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return out;
}

function summaryText(results, checks) {
  const lines = [];
  for (const { scenario, entries } of results) {
    for (const entry of entries) {
      const cells = Object.entries(entry.results).map(
        ([id, r]) =>
          `${id} ${formatRate(r.framesPerSecond.median)} f/s ${fmt(r.mbPerSecond.median)} MB/s`,
      );
      lines.push(`${scenario.padEnd(9)} ${entry.size.padEnd(5)}  ${cells.join(' | ')}`);
    }
  }
  for (const check of checks) {
    lines.push(`${check.met ? 'MET   ' : 'MISSED'} ${check.target}: ${check.value}`);
  }
  return lines.join('\n');
}

const startedAt = new Date();
const loadBefore = loadavg();
const busyBefore = busyProcesses();
progress(
  `stompede codec benchmark: ${options.quick ? 'quick' : 'full'} run, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
);
const selected = SCENARIOS.filter((s) => wanted.length === 0 || wanted.includes(s.id));
const results = [];
for (const [index, scenario] of selected.entries()) {
  progress(`== ${scenario.id} (${index + 1}/${selected.length}) ==`);
  results.push(await runScenario(scenario));
}
const seconds = (Date.now() - startedAt.getTime()) / 1000;
const loadAfter = loadavg();
const busyAfter = busyProcesses();
const checks = evaluate(results);
const info = machine();
const command =
  process.env.npm_lifecycle_event === 'bench'
    ? 'npm run bench'
    : `node bench/run.mjs${args.length > 0 ? ` ${args.join(' ')}` : ''}`;

const report = {
  date: startedAt.toISOString(),
  command,
  durationSeconds: seconds,
  machine: info,
  core: coreSource,
  settings: { reps: options.reps, minMs: options.minMs, warmupMs: options.warmupMs },
  load: { before: loadBefore, after: loadAfter, busyBefore, busyAfter },
  targets: checks,
  results,
};

if (full || outDir !== undefined) {
  const dir = outDir ?? join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'codec.json'), `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    '# Codec benchmark: @stompede/core vs @stomp/stompjs vs a plain copy',
    '',
    `- Date: ${startedAt.toISOString()} (${seconds.toFixed(0)} s)`,
    `- Command: \`${command}\` (from the repository root)`,
    `- Machine: ${String(info.nproc)} CPUs (\`nproc\`), ${info.cpu}, ${info.platform}`,
    `- Node: ${info.node}; @stomp/stompjs ${stompjsVersion()}`,
    `- Load average (1/5/15 min): before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
    `- Other busy processes (≥ 5% CPU) at start: ${busyBefore.length === 0 ? 'none' : busyBefore.join(', ')}; at end: ${busyAfter.length === 0 ? 'none' : busyAfter.join(', ')}`,
    `- Method: ${String(options.reps)} interleaved repetitions of ≥ ${String(options.minMs)} ms per implementation after ${String(options.warmupMs)} ms of warm-up; figures are median (min–max). MB = 10^6 bytes of wire data (frames incl. head and NUL). Frames are MESSAGE frames with 5 headers (destination, message-id, subscription, content-type, content-length).`,
    '- Parse input: the frames concatenated and cut into 16–64 KiB chunks (seeded), each chunk its own ArrayBuffer; ours gets the Uint8Array, stompjs its ArrayBuffer, copy does `chunk.slice()`. Every pass counts frames and checks each body length.',
    '- Serialize: build the frame from a header object and a Uint8Array body, then encode. `ours` = `encodeFrame` (head + body by reference + NUL, for a vectored write: its MB/s on large bodies is not a copy rate), `ours-bytes` = `encodeFrameBytes` (one contiguous array, like stompjs), stompjs = `new FrameImpl({…, escapeHeaderValues: true}).serialize()`, copy = `slice()` of the finished wire bytes.',
    '',
    '- Reference measured earlier on this machine: @stomp/stompjs ≈ 45k small frames/s and ≈ 20 MB/s on 1 MiB bodies.',
    '',
    '## Targets',
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...checks.map((c) => `| ${c.target} | ${c.value} | ${c.met ? 'yes' : 'no'} |`),
    '',
    '## Results (medians)',
    '',
    ...overview(results),
    '## Details: median (min–max) of every repetition',
    '',
    ...tables(results),
    '## Noise check',
    '',
    'Median frames per second of wall-clock time vs of process CPU time (all threads). Where the CPU-time rate is much higher, other processes took the CPU away during the measurement.',
    '',
    '| scenario | size | implementation | wall clock | CPU time |',
    '| --- | --- | --- | --- | --- |',
    ...results.flatMap(({ scenario, entries }) =>
      entries.flatMap((entry) =>
        Object.entries(entry.results).map(
          ([id, r]) =>
            `| ${scenario} | ${entry.size} | ${id} | ${formatRate(r.framesPerSecond.median)} | ${formatRate(r.cpuFramesPerSecond.median)} |`,
        ),
      ),
    ),
    '',
    'Profiling findings for the parser: see [codec-profile.md](codec-profile.md).',
  ];
  writeFileSync(join(dir, 'codec.md'), `${md.join('\n')}\n`);
  progress(`wrote ${join(dir, 'codec.md')} and ${join(dir, 'codec.json')}`);
} else {
  progress('partial or quick run: bench/results not written');
}

function stompjsVersion() {
  try {
    const url = new URL('../node_modules/@stomp/stompjs/package.json', import.meta.url);
    return JSON.parse(readFileSync(url, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

process.stdout.write(`\nSummary (${seconds.toFixed(0)} s, load ${loadAfter[0].toFixed(2)}):\n`);
process.stdout.write(`${summaryText(results, checks)}\n`);
if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
