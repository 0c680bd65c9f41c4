#!/usr/bin/env node
// Copies of a message body inside our broker, per message: the broker runs in its own process
// with tools/copy-hooks.mjs preloaded (it counts the bytes every JavaScript-level copy moves,
// and where each copy of 4 KiB or more is made); `stompede bench` sends N messages of SIZE
// bytes through it (one producer, one consumer, auto ack; a warm-up run first, not counted).
// Printed: bytes copied ÷ (N × SIZE), i.e. how many times each body was copied between the
// socket it came from and the socket it left by, and the copy sites.
//
//   node bench/tools/body-copies.mjs [--size 1048576] [--count 200] [--persistent] [--ws]
//   STOMPEDE_BROKER=/path/to/broker/dist/index.js ...   another build (before/after)
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runCliBench } from '../lib/cli-bench.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1048576' },
    count: { type: 'string', default: '200' },
    persistent: { type: 'boolean', default: false },
    ws: { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const count = Number(values.count);
const here = dirname(fileURLToPath(import.meta.url));
const log = (m) => process.stderr.write(m + '\n');

const dir = values.persistent ? mkdtempSync(join(tmpdir(), 'stompede-copies-')) : undefined;
const broker = fork(join(here, '..', 'broker-server.mjs'), [], {
  execArgv: ['--import', pathToFileURL(join(here, 'copy-hooks.mjs')).href],
  env: { ...process.env, ...(dir === undefined ? {} : { BENCH_DATA_DIR: dir }) },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ask = (cmd, key) =>
  new Promise((resolve) => {
    const on = (m) => {
      if (m?.[key] === undefined) return;
      broker.off('message', on);
      resolve(m[key]);
    };
    broker.on('message', on);
    broker.send({ cmd });
  });

try {
  const ready = await new Promise((resolve) => {
    broker.once('message', (m) => resolve(m.ready));
  });
  const addr = ready.addresses.find((a) => a.protocol === (values.ws ? 'ws' : 'tcp'));
  log(
    `body-copies: ${values.ws ? 'WebSocket' : 'TCP'}, ${String(count)} × ${String(size)} B${values.persistent ? ', persistent' : ''}; warm-up`,
  );
  await runCliBench(addr.url, {
    size,
    count: Math.max(10, count >> 2),
    persistent: values.persistent,
  });
  await ask('copies-reset', 'copiesReset');
  log('body-copies: measuring');
  const r = await runCliBench(addr.url, { size, count, persistent: values.persistent });
  const c = await ask('copies', 'copies');
  if (!r.ok) log(`body-copies: the run was not clean: ${JSON.stringify(r.errors)}`);
  const per = (x) => (x / (r.received * size)).toFixed(2);
  const lines = [
    `body copies in the broker per message (${String(r.received)} × ${String(size)} B, ${values.ws ? 'WebSocket' : 'TCP'}${values.persistent ? ', persistent' : ''}): ${per(c.bytes)}`,
    `  (bytes copied ${String(c.bytes)} in ${String(c.calls)} copies; sites of copies ≥ 4 KiB:)`,
    ...Object.entries(c.big)
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .map(
        ([site, e]) =>
          `  ${per(e.bytes).padStart(6)} per message  ${String(e.count).padStart(7)} copies  ${site}`,
      ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  broker.send({ cmd: 'close' });
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
