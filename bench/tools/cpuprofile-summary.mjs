// Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by source line,
// and inclusive time of the functions that match a filter.
//
// Usage: node bench/tools/cpuprofile-summary.mjs PROFILE.cpuprofile [--top N] [--match TEXT]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

// Piping into `head` closes stdout early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, match: { type: 'string' } },
});
if (positionals.length !== 1) {
  process.stderr.write(
    'usage: cpuprofile-summary.mjs PROFILE.cpuprofile [--top N] [--match TEXT]\n',
  );
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

// Sample time: timeDeltas[i] is the time before sample i.
const selfTime = new Map();
const lineTime = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  const dt = profile.timeDeltas[i + 1] ?? 0;
  total += dt;
  selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
}

function nameOf(node) {
  const cf = node.callFrame;
  const file = cf.url.replace(/^.*\/(packages|node_modules|bench)\//, '$1/');
  return `${cf.functionName || '(anonymous)'} ${file}:${cf.lineNumber + 1}`;
}

const byFunction = new Map();
for (const [id, time] of selfTime) {
  const node = nodes.get(id);
  const key = nameOf(node);
  byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  // positionTicks attribute a node's self samples to lines.
  const ticks = node.positionTicks ?? [];
  const count = ticks.reduce((sum, t) => sum + t.ticks, 0);
  for (const t of ticks) {
    const lineKey = `${node.callFrame.url.replace(/^.*\/(packages|node_modules|bench)\//, '$1/')}:${t.line}`;
    lineTime.set(lineKey, (lineTime.get(lineKey) ?? 0) + (time * t.ticks) / count);
  }
}

// Inclusive time: a sample counts once for every distinct function on its stack.
const inclusive = new Map();
for (const [id, time] of selfTime) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const key = nameOf(nodes.get(cur));
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + time);
  }
}

const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
const print = (title, map, filter = () => true) => {
  process.stdout.write(`\n${title}\n`);
  const rows = [...map].filter(([key]) => filter(key)).sort((a, b) => b[1] - a[1]);
  for (const [key, time] of rows.slice(0, top)) process.stdout.write(`${pct(time)}  ${key}\n`);
};
process.stdout.write(`total sampled: ${(total / 1000).toFixed(0)} ms\n`);
print('self time by function', byFunction);
print('self time by line', lineTime);
if (values.match !== undefined) {
  print(`inclusive time, functions matching "${values.match}"`, inclusive, (key) =>
    key.includes(values.match),
  );
}
