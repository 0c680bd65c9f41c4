#!/usr/bin/env node
// System calls per persistent message of our broker, counted by `strace -c -f` on the broker
// process alone: one producer sends persistent 1 KiB messages to a queue, each with a RECEIPT,
// one in flight (the most careful producer), with no consumer, with an auto-ack consumer, and
// with a client-individual consumer that ACKs each message (no receipt on the ACK). Each case
// runs twice, with N and 3N messages, on a fresh data directory; the difference of the two
// counts divided by 2N is the cost per message, free of start-up and shutdown.
//
// The rule it shows: at most one fdatasync per message; none for a message that a consumer took
// and acknowledged before it reached the disk (a RECEIPT means "delivered and acknowledged, or on
// disk").
//
//   node bench/tools/durable-syscalls.mjs [--count 200] [--cases none,auto,client-individual]
//   STOMPEDE_BROKER=/path/to/broker/dist/index.js ...   another build (before/after)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { client } from '../lib/raw-client.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    cases: { type: 'string', default: 'none,auto,client-individual' },
  },
});
const count = Number(values.count);
const cases = values.cases.split(',');
const server = join(dirname(fileURLToPath(import.meta.url)), '..', 'broker-server.mjs');
const CALLS = ['fdatasync', 'fsync', 'pwrite64', 'pwritev', 'writev', 'write', 'read'];
const QUEUE = '/queue/bench-syscalls';
const body = Buffer.alloc(1024, 'x');
const log = (m) => process.stderr.write(m + '\n');

/** Our broker on a fresh data directory under strace; resolves with its port and a stop(). */
async function traced() {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-syscalls-'));
  const out = join(dir, 'strace.txt');
  const child = spawn(
    'strace',
    ['-f', '-c', '-o', out, '-e', `trace=${CALLS.join(',')}`, process.execPath, server],
    {
      env: { ...process.env, BENCH_DATA_DIR: join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ready = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      text += d;
      if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0]));
    });
    child.once('exit', (code) => reject(new Error(`the broker exited with ${String(code)}`)));
  });
  const port = ready.addresses.find((a) => a.protocol === 'tcp').port;
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(ready.pid, 'SIGTERM');
    await exited;
    const counts = {};
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      const name = f.at(-1);
      if (CALLS.includes(name)) counts[name] = Number(f[3]);
    }
    rmSync(dir, { recursive: true, force: true });
    return counts;
  };
  return { port, stop };
}

/** One run of `n` receipted persistent SENDs, one in flight, beside the consumer of `kind`. */
async function runCase(kind, n) {
  const broker = await traced();
  try {
    await load(broker.port, kind, n);
  } catch (err) {
    await broker.stop();
    throw err;
  }
  return broker.stop();
}

async function load(port, kind, n) {
  const producer = await client(port, { host: '/' });
  let taken;
  let consumer;
  if (kind !== 'none') {
    consumer = await client(port, { host: '/' });
    consumer.send('SUBSCRIBE', { destination: QUEUE, id: 's', ack: kind, receipt: 'sub' });
    if ((await consumer.next(30_000))?.command !== 'RECEIPT')
      throw new Error('no SUBSCRIBE receipt');
    taken = (async () => {
      for (let i = 0; i < n; i++) {
        const f = await consumer.next(60_000);
        if (f?.command !== 'MESSAGE') throw new Error(`consumer: ${f?.command} after ${String(i)}`);
        if (kind === 'client-individual') consumer.send('ACK', { id: f.header('ack') });
      }
    })();
  }
  for (let i = 0; i < n; i++) {
    producer.send('SEND', { destination: QUEUE, persistent: 'true', receipt: String(i) }, body);
    const f = await producer.next(60_000);
    if (f?.command !== 'RECEIPT')
      throw new Error(`producer: ${f?.command ?? 'nothing'} for ${String(i)}`);
  }
  await taken;
  producer.socket.destroy();
  consumer?.socket.destroy();
}

const rows = [];
for (const kind of cases) {
  log(`durable-syscalls: ${kind}: ${String(count)} and ${String(3 * count)} messages`);
  const a = await runCase(kind, count);
  const b = await runCase(kind, 3 * count);
  const per = {};
  for (const c of CALLS) per[c] = ((b[c] ?? 0) - (a[c] ?? 0)) / (2 * count);
  rows.push({ kind, per });
  log(`  ${CALLS.map((c) => `${c} ${per[c].toFixed(3)}`).join(', ')}`);
}
process.stdout.write(
  `system calls of the broker per persistent message (RECEIPT on each, 1 in flight; ${String(2 * count)} messages counted):\n` +
    `${'consumer'.padEnd(18)}${CALLS.map((c) => c.padStart(10)).join('')}\n` +
    rows
      .map(
        (r) => `${r.kind.padEnd(18)}${CALLS.map((c) => r.per[c].toFixed(3).padStart(10)).join('')}`,
      )
      .join('\n') +
    '\n',
);
