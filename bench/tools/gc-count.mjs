#!/usr/bin/env node
// Garbage collections in our broker per 10,000 messages: the broker runs in its own process with
// V8's --trace-gc, `stompede bench` sends N messages of SIZE bytes through one queue (one
// producer, one auto-ack consumer; a warm-up run first, not counted), and the mark-compacts and
// scavenges of the measured run are counted. GC counts barely depend on the machine's load,
// unlike CPU time: this is the figure that shows whether large bodies cost full collections
// (session/gc-pacing.ts). Broker CPU per message is printed too, for a side-by-side run only.
//
//   node bench/tools/gc-count.mjs [--size 65536] [--count 4000] [--ws] [--reps 1]
//   STOMPEDE_BROKER=/path/to/broker/dist/index.js ...   another build (before/after)
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCliBench } from '../lib/cli-bench.mjs';
import { cpuSecondsOf } from '../lib/process-cpu.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '65536' },
    count: { type: 'string', default: '4000' },
    reps: { type: 'string', default: '1' },
    ws: { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const count = Number(values.count);
const here = dirname(fileURLToPath(import.meta.url));
const log = (m) => process.stderr.write(m + '\n');

/** One broker process: warm-up, then the measured run; its GC counts and CPU per message. */
async function once() {
  const broker = fork(join(here, '..', 'broker-server.mjs'), [], {
    execArgv: ['--trace-gc'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const gcs = { markCompact: 0, scavenge: 0 };
  let rest = '';
  broker.stdout.setEncoding('utf8').on('data', (d) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop();
    for (const l of lines) {
      if (l.includes(' Mark-Compact ')) gcs.markCompact++;
      else if (l.includes(' Scavenge ')) gcs.scavenge++;
    }
  });
  try {
    const ready = await new Promise((resolve) => {
      broker.once('message', (m) => resolve(m.ready));
    });
    const addr = ready.addresses.find((a) => a.protocol === (values.ws ? 'ws' : 'tcp'));
    await runCliBench(addr.url, { size, count: Math.max(10, count >> 2) });
    gcs.markCompact = 0;
    gcs.scavenge = 0;
    const cpu0 = cpuSecondsOf(ready.pid);
    const r = await runCliBench(addr.url, { size, count });
    const cpu1 = cpuSecondsOf(ready.pid);
    if (!r.ok) log(`gc-count: the run was not clean: ${JSON.stringify(r.errors)}`);
    const per10k = (n) => (n * 10_000) / r.received;
    return {
      received: r.received,
      markCompactsPer10k: +per10k(gcs.markCompact).toFixed(1),
      scavengesPer10k: +per10k(gcs.scavenge).toFixed(1),
      cpuUsPerMessage: +(((cpu1 - cpu0) * 1e6) / r.received).toFixed(1),
    };
  } finally {
    broker.send({ cmd: 'close' });
  }
}

const reps = Number(values.reps);
const label = `${String(count)} × ${String(size)} B, ${values.ws ? 'WebSocket' : 'TCP'}`;
log(`gc-count: ${label}, ${String(reps)} run(s) (warm-up first in each)`);
for (let i = 0; i < reps; i++) {
  const r = await once();
  process.stdout.write(
    `gc-count (${label}): ${String(r.markCompactsPer10k)} mark-compacts and ${String(r.scavengesPer10k)} scavenges per 10,000 messages; broker CPU ${String(r.cpuUsPerMessage)} µs per message (load-dependent)\n`,
  );
}
