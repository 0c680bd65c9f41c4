// The client benchmark: our client (@stompede/client/node over TCP and over WebSocket) against
// @stomp/stompjs (WebSocket) and stompit (TCP), one producer and one consumer through the same
// broker (RabbitMQ and our broker), 100 B and 4 KiB bodies, auto and client-individual ack.
// Reports msgs/s and client CPU per message (process CPU time of the process running the client
// divided by messages). Writes bench/results/client.{md,json}.
//
// Usage: npm run build && node bench/client-run.mjs [--reps 5] [--warmups 2] [--quick]
//          [--only ours-tcp,ours-ws,stompjs-ws,stompit-tcp] [--brokers rabbitmq,ours]
//          [--sizes 100,4096] [--acks auto,client-individual] [--out DIR] [--no-ceiling]
//
// Once per repetition and case it also runs `stompede bench` (the CLI's raw-frame load generator,
// no client library) through the same broker, for reference (--no-ceiling skips it); the report
// says whether 2× stompjs's msgs/s fits the broker's CPU on this machine.
//
// Each client runs in its own process (client-worker.mjs, forked once and driven over IPC); our
// broker runs in another (broker-server.mjs); RabbitMQ is the system service
// (`bash interop/peers/rabbitmq.sh start`). Repetitions are interleaved: for each repetition,
// every broker × body × ack case runs every client in turn (the order rotates by repetition),
// so that load from other processes spreads over all of them. Before the first repetition, each
// client runs every case unmeasured (`--warmups`, default 2 rounds, each as long as a
// measurement): V8 compiles a client's hot paths during its first tens of thousands of messages
// (ours: 40-80k), and the figures are for a client that has been running, not for its compiler.
// Progress on stderr, a summary on stdout. Results are written to bench/results only by a full
// run (no --quick and no filter), or to --out DIR.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exitOnHelp } from './lib/usage.mjs';
import { cpuSecondsOf } from './lib/process-cpu.mjs';

exitOnHelp(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values } = parseArgs({
  options: {
    reps: { type: 'string' },
    warmups: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    brokers: { type: 'string' },
    sizes: { type: 'string' },
    acks: { type: 'string' },
    out: { type: 'string' },
    'no-ceiling': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const reps = Number(values.reps ?? (quick ? 1 : 5));
/** Unmeasured runs of every case per client before the first repetition. */
const warmups = Number(values.warmups ?? (quick ? 1 : 2));
const full =
  !quick &&
  values.only === undefined &&
  values.brokers === undefined &&
  values.sizes === undefined &&
  values.acks === undefined;
const outDir = values.out ?? (full ? join(here, 'results') : undefined);
const list = (value, all) => (value === undefined ? all : value.split(','));

const CLIENTS = [
  { id: 'ours-tcp', name: 'stompede (ours)', transport: 'TCP' },
  { id: 'ours-ws', name: 'stompede (ours)', transport: 'WebSocket' },
  { id: 'stompjs-ws', name: '@stomp/stompjs', transport: 'WebSocket' },
  { id: 'stompit-tcp', name: 'stompit', transport: 'TCP' },
].filter((c) => list(values.only, [c.id]).includes(c.id));
const BROKER_IDS = list(values.brokers, ['rabbitmq', 'ours']);
const SIZES = list(values.sizes, ['100', '4096']).map(Number);
const ACKS = list(values.acks, ['auto', 'client-individual']);
/** Messages per measurement (and per warm-up run), and the in-flight window of the producer. */
const COUNT = { 100: quick ? 3000 : 12000, 4096: quick ? 2000 : 6000 };
const WINDOW = 1000;
/** Targets from the issue, for our client against @stomp/stompjs through the same broker. */
const TARGETS = { cpuVsStompjs: 1 / 3, rateVsStompjs: 2 };
/** Measured earlier against RabbitMQ (the issue): µs of client CPU per message. */
const EARLIER = { 'stompjs TCP': 48, 'stompjs WebSocket': 69, stompit: 63 };

const log = (m) => process.stderr.write(`${m}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const k = (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));
const us = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

function forkProcess(script, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, script), [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}`)));
    child.once('message', (m) => resolve({ child, ready: m.ready }));
  });
}

/**
 * The raw-frame generator for one case: `stompede bench` (no client library, its own process)
 * with one producer and one consumer, the same body size, ack mode and message count, over TCP.
 * Its producer is not windowed (it sends as fast as the broker takes messages).
 */
function ceiling(broker, size, ack, count) {
  const cli = join(root, 'packages', 'cli', 'dist', 'main.js');
  const t = broker.target;
  const args = [
    cli,
    'bench',
    '--broker',
    `tcp://${t.tcp}`,
    '-x',
    '1',
    '-y',
    '1',
    '-s',
    String(size),
  ];
  args.push('-C', String(count), '-a', ack, '-q', String(WINDOW), '--json', '--quiet');
  args.push('-d', '/queue/stompede-bench-ceiling');
  if (t.login !== undefined) args.push('--login', t.login, '--passcode', t.passcode);
  if (t.vhost !== undefined) args.push('--vhost', t.vhost);
  const cpuBefore = cpuSecondsOf(broker.pid);
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 120000 });
  const brokerCpu = cpuSecondsOf(broker.pid) - cpuBefore;
  const r = JSON.parse(out);
  if (r.ok !== true) throw new Error(`stompede bench failed: ${out.slice(0, 500)}`);
  return { msgsPerSecond: r.rateOut, brokerCpuUsPerMsg: (brokerCpu * 1e6) / count };
}

let nextId = 0;
function ask(worker, target) {
  return new Promise((resolve, reject) => {
    const id = ++nextId;
    const on = (m) => {
      if (m.id !== id) return;
      worker.off('message', on);
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m.result);
    };
    worker.on('message', on);
    worker.send({ id, target });
  });
}

function pidOf(pattern) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m !== null && pattern.test(m[2])) return Number(m[1]);
  }
  return undefined;
}

function version(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return 'unknown';
  }
}

function uptime() {
  return version('uptime', []);
}

function busyProcesses() {
  try {
    return execFileSync('ps', ['-eo', 'pcpu=,pid=,comm=', '--sort=-pcpu'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([pcpu]) => Number(pcpu) >= 5)
      .slice(0, 8)
      .map(([pcpu, pid, comm]) => `${comm} (pid ${pid}, ${pcpu}% CPU)`);
  } catch {
    return [];
  }
}

// ---- set up -------------------------------------------------------------------------------------

const startedAt = new Date();
const uptimeBefore = uptime();
const busyBefore = busyProcesses();
log(
  `stompede client benchmark: ${quick ? 'quick' : 'full'} run, ${String(reps)} repetitions; ${uptimeBefore}`,
);

const brokers = [];
let ourBroker;
for (const id of BROKER_IDS) {
  if (id === 'rabbitmq') {
    const status = version('bash', [join(root, 'interop/peers/rabbitmq.sh'), 'status']);
    if (!/running/.test(status)) {
      throw new Error('RabbitMQ is not running: bash interop/peers/rabbitmq.sh start');
    }
    brokers.push({
      id,
      name: 'RabbitMQ',
      target: {
        tcp: '127.0.0.1:61633',
        ws: 'ws://127.0.0.1:15683/ws',
        login: 'guest',
        passcode: 'guest',
        vhost: '/',
      },
      pid: pidOf(/beam\.smp/),
    });
  } else if (id === 'ours') {
    ourBroker = await forkProcess('broker-server.mjs', ['--expose-gc']);
    const address = (protocol) => ourBroker.ready.addresses.find((a) => a.protocol === protocol);
    brokers.push({
      id,
      name: 'stompede broker',
      target: {
        tcp: `127.0.0.1:${String(address('tcp').port)}`,
        ws: `ws://127.0.0.1:${String(address('ws').port)}/ws`,
      },
      pid: ourBroker.ready.pid,
    });
  } else {
    throw new Error(`unknown broker ${id} (rabbitmq, ours)`);
  }
}
const workers = new Map();
for (const client of CLIENTS)
  workers.set(client.id, (await forkProcess('client-worker.mjs')).child);

const CASES = brokers.flatMap((broker) =>
  SIZES.flatMap((size) => ACKS.map((ack) => ({ broker, size, ack }))),
);
const caseKey = (c) => `${c.broker.id} ${String(c.size)} ${c.ack}`;
const samples = new Map(); // `${caseKey} ${clientId}` -> result[]

// ---- measure ------------------------------------------------------------------------------------

/** One run of case `c` by `client`'s worker (a warm-up or a measurement: the same run). */
const runCase = (client, c) =>
  ask(workers.get(client.id), {
    ...c.broker.target,
    brokerPid: c.broker.pid,
    client: client.id,
    size: c.size,
    ack: c.ack,
    count: COUNT[c.size],
    window: WINDOW,
  });

try {
  for (let round = 0; round < warmups; round++) {
    for (const c of CASES) {
      const line = [];
      for (const client of CLIENTS) {
        const r = await runCase(client, c);
        line.push(`${client.id} ${k(r.msgsPerSecond)}/s`);
      }
      log(`[warm-up ${String(round + 1)}/${String(warmups)} ${caseKey(c)}] ${line.join(', ')}`);
    }
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const c of CASES) {
      const line = [];
      const order = CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length]);
      for (const client of order) {
        const r = await runCase(client, c);
        const key = `${caseKey(c)} ${client.id}`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key).push(r);
        line.push(`${client.id} ${k(r.msgsPerSecond)}/s ${us(r.cpuUsPerMsg)} µs`);
      }
      if (!values['no-ceiling']) {
        const r = ceiling(c.broker, c.size, c.ack, COUNT[c.size]);
        const key = `${caseKey(c)} ceiling`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key).push(r);
        line.push(`raw-frame generator ${k(r.msgsPerSecond)}/s`);
      }
      log(`[rep ${String(rep + 1)}/${String(reps)} ${caseKey(c)}] ${line.join(', ')}`);
    }
  }
} finally {
  for (const worker of workers.values()) worker.kill();
  if (ourBroker !== undefined) {
    ourBroker.child.removeAllListeners('exit');
    ourBroker.child.send({ cmd: 'close' });
  }
}

// ---- report -------------------------------------------------------------------------------------

const seconds = (Date.now() - startedAt.getTime()) / 1000;
const uptimeAfter = uptime();
const busyAfter = busyProcesses();
const results = CASES.map((c) => ({
  broker: c.broker.id,
  size: c.size,
  ack: c.ack,
  count: COUNT[c.size],
  ceiling: (() => {
    const runs = samples.get(`${caseKey(c)} ceiling`);
    if (runs === undefined) return undefined;
    return {
      msgsPerSecond: stats(runs.map((r) => r.msgsPerSecond)),
      brokerCpuUsPerMsg: median(runs.map((r) => r.brokerCpuUsPerMsg)),
      runs,
    };
  })(),
  clients: Object.fromEntries(
    CLIENTS.map((client) => {
      const runs = samples.get(`${caseKey(c)} ${client.id}`);
      return [
        client.id,
        {
          msgsPerSecond: stats(runs.map((r) => r.msgsPerSecond)),
          cpuUsPerMsg: stats(runs.map((r) => r.cpuUsPerMsg)),
          userShare: median(runs.map((r) => r.cpuUserUs / (r.cpuUserUs + r.cpuSystemUs))),
          brokerCpuUsPerMsg: median(runs.map((r) => r.brokerCpuUsPerMsg)),
          stale: runs.reduce((n, r) => n + r.stale, 0),
          runs,
        },
      ];
    }),
  ),
}));

/** Ratios of medians: CPU as a fraction of the reference's, throughput as a multiple. */
function ratios(entry, id, ref) {
  const a = entry.clients[id];
  const b = entry.clients[ref];
  if (a === undefined || b === undefined) return undefined;
  return {
    cpu: a.cpuUsPerMsg.median / b.cpuUsPerMsg.median,
    rate: a.msgsPerSecond.median / b.msgsPerSecond.median,
  };
}

const checks = [];
for (const entry of results) {
  for (const id of ['ours-tcp', 'ours-ws']) {
    const r = ratios(entry, id, 'stompjs-ws');
    if (r === undefined) continue;
    const what = `${entry.broker} ${String(entry.size)} B ${entry.ack}: ${id}`;
    checks.push({
      target: `${what} CPU/msg ≤ ⅓ of stompjs-ws`,
      value: `${r.cpu.toFixed(2)}× stompjs`,
      met: r.cpu <= TARGETS.cpuVsStompjs,
    });
    // Through RabbitMQ the broker is the bottleneck (it caps every client alike): that rate is
    // RabbitMQ's limit, not the client's, so only the CPU target applies there.
    if (entry.broker === 'rabbitmq') continue;
    checks.push({
      target: `${what} msgs/s ≥ 2× stompjs-ws`,
      value: `${r.rate.toFixed(2)}× stompjs`,
      met: r.rate >= TARGETS.rateVsStompjs,
    });
  }
}

const info = {
  nproc: Number(version('nproc', [])) || cpus().length,
  cpu: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
  memoryGiB: totalmem() / 2 ** 30,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  rabbitmq: version('dpkg-query', ['-W', '-f=${Version}', 'rabbitmq-server']),
  stompjs: packageVersion('@stomp/stompjs'),
  stompit: packageVersion('stompit'),
  ws: packageVersion('ws'),
};
const command = `node bench/client-run.mjs${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
const report = {
  date: startedAt.toISOString(),
  command,
  durationSeconds: seconds,
  machine: info,
  load: {
    uptimeBefore,
    uptimeAfter,
    loadavgAfter: loadavg(),
    busyBefore,
    busyAfter,
  },
  settings: { reps, count: COUNT, window: WINDOW, perMessageDeflate: false },
  targets: checks,
  results,
};

/** The hand-written part of client.md (profile findings) below this marker survives a rerun. */
const KEEP_MARKER =
  '<!-- Hand-written below this line (profile findings); client-run.mjs keeps it. -->';
function handWritten(path) {
  try {
    const old = readFileSync(path, 'utf8');
    const at = old.indexOf(KEEP_MARKER);
    return at === -1 ? '' : old.slice(at + KEEP_MARKER.length + 1);
  } catch {
    return '';
  }
}

const cell = (s) =>
  `${k(s.msgsPerSecond.median)} (${k(s.msgsPerSecond.min)}–${k(s.msgsPerSecond.max)})`;
const cpuCell = (s) =>
  `${us(s.cpuUsPerMsg.median)} (${us(s.cpuUsPerMsg.min)}–${us(s.cpuUsPerMsg.max)})`;
const x = (v) => (v === undefined ? '–' : `${v.toFixed(2)}×`);

function table() {
  const out = [
    '| broker | body | ack | client | transport | msgs/s | client CPU µs/msg | CPU vs stompjs | msgs/s vs stompjs | CPU vs stompit | msgs/s vs stompit | broker CPU µs/msg |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const entry of results) {
    for (const client of CLIENTS) {
      const s = entry.clients[client.id];
      const vsJs = ratios(entry, client.id, 'stompjs-ws');
      const vsIt = ratios(entry, client.id, 'stompit-tcp');
      out.push(
        `| ${entry.broker === 'ours' ? 'stompede' : 'RabbitMQ'} | ${entry.size === 100 ? '100 B' : '4 KiB'} | ${entry.ack} | ${client.name} | ${client.transport} | ${cell(s)} | ${cpuCell(s)} | ${x(vsJs?.cpu)} | ${x(vsJs?.rate)} | ${x(vsIt?.cpu)} | ${x(vsIt?.rate)} | ${us(s.brokerCpuUsPerMsg)} |`,
      );
    }
  }
  return out;
}

/**
 * Whether 2× stompjs's msgs/s fits the broker: the broker CPU that rate needs (its CPU per message
 * when our client drives it × twice stompjs's msgs/s) against the machine's cores, and the raw-frame
 * generator's rate for reference.
 */
function ceilingTable() {
  const out = [
    '## Can the broker carry 2× stompjs?',
    '',
    `For 2× stompjs's msgs/s through a broker, the broker itself needs (its CPU per message, measured while our client drives it, over the transport that costs it less) × (2 × stompjs's msgs/s) CPU-seconds per second: when that is near or above the machine's ${String(info.nproc)} cores (which also run both clients), no client can reach the target through that broker. \`stompede bench\` (packages/cli: raw frames, no client library, one producer and one consumer, same size, ack mode and count, over TCP, once per repetition) is given for reference; its producer is not windowed (the queue fills up first), so it is not an upper bound for a windowed client.`,
    '',
    '| broker | body | ack | stompjs-ws msgs/s | 2× stompjs | broker CPU µs/msg (our client, the cheaper transport) | broker cores needed for 2× stompjs | best client msgs/s | raw-frame generator msgs/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const e of results) {
    const js = e.clients['stompjs-ws'];
    const ours = ['ours-tcp', 'ours-ws']
      .map((id) => e.clients[id]?.brokerCpuUsPerMsg)
      .filter((v) => v !== undefined && Number.isFinite(v));
    if (js === undefined || ours.length === 0) continue;
    const brokerCpu = Math.min(...ours);
    const double = 2 * js.msgsPerSecond.median;
    const cores = (double * brokerCpu) / 1e6;
    const best = Math.max(...Object.values(e.clients).map((c) => c.msgsPerSecond.median));
    out.push(
      `| ${e.broker === 'ours' ? 'stompede' : 'RabbitMQ'} | ${e.size === 100 ? '100 B' : '4 KiB'} | ${e.ack} | ${k(js.msgsPerSecond.median)} | ${k(double)} | ${us(brokerCpu)} | ${cores.toFixed(2)} of ${String(info.nproc)} | ${k(best)} | ${e.ceiling === undefined ? '–' : cell(e.ceiling)} |`,
    );
  }
  out.push('');
  return out;
}

const summary = [
  ...results.map(
    (entry) =>
      `${entry.broker.padEnd(8)} ${String(entry.size).padStart(4)} B ${entry.ack.padEnd(17)} ` +
      CLIENTS.map(
        (c) =>
          `${c.id} ${k(entry.clients[c.id].msgsPerSecond.median)}/s ${us(entry.clients[c.id].cpuUsPerMsg.median)} µs`,
      ).join(' | '),
  ),
  ...results
    .filter((e) => e.ceiling !== undefined)
    .map(
      (e) =>
        `${e.broker.padEnd(8)} ${String(e.size).padStart(4)} B ${e.ack.padEnd(17)} raw-frame generator ${k(e.ceiling.msgsPerSecond.median)}/s`,
    ),
  ...checks.map((c) => `${c.met ? 'MET   ' : 'MISSED'} ${c.target}: ${c.value}`),
];

if (outDir !== undefined) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'client.json'), `${JSON.stringify(report, null, 2)}\n`);
  const met = checks.filter((c) => c.met).length;
  const md = [
    '# Client benchmark: @stompede/client vs @stomp/stompjs vs stompit',
    '',
    `- Date: ${startedAt.toISOString()} (${seconds.toFixed(0)} s)`,
    `- Command: \`${command}\` (from the repository root, after \`npx tsc --build\`)`,
    `- Machine: ${String(info.nproc)} CPUs (\`nproc\`), ${info.cpu}, ${info.memoryGiB.toFixed(1)} GiB, ${info.platform}; Node ${info.node}`,
    `- Load (\`uptime\`): before \`${uptimeBefore}\`; after \`${uptimeAfter}\``,
    `- Other busy processes (≥ 5% CPU) at start: ${busyBefore.join(', ') || 'none'}; at end: ${busyAfter.join(', ') || 'none'}`,
    `- Clients: @stompede/client (this repository, \`@stompede/client/node\`), @stomp/stompjs ${info.stompjs} (WebSocket only: \`webSocketFactory\`), stompit ${info.stompit} (TCP only); WebSockets from \`ws\` ${info.ws} with **\`perMessageDeflate: false\`** in every client (our client gets a \`ws\` subclass that passes it, stompjs a factory that does): \`ws\` offers compression by default, which costs 5–6× here and would measure zlib, not STOMP.`,
    `- Brokers: RabbitMQ ${info.rabbitmq} (STOMP and Web-STOMP plugins, \`web_stomp.ws_frame = binary\`) and our broker (\`bench/broker-server.mjs\`, its own process).`,
    `- Method: per case, one producer connection and one consumer connection of the same client library, in one process that runs only that client (\`bench/client-worker.mjs\`, forked once per client, driven over IPC); the broker in another process. The producer sends ${String(COUNT[100])} (100 B) or ${String(COUNT[4096])} (4 KiB) string bodies to one queue as its library does it (ours: \`await client.send()\`; stompjs: \`publish()\`; stompit: \`send()\`/\`write()\`/\`end()\`), never more than ${String(WINDOW)} in flight (sent, not yet received); the consumer uses its library's callback subscription, acknowledging each message in client-individual mode (with \`prefetch-count: ${String(WINDOW)}\`), and checks that every message arrives once (tag + sequence number) and intact (body byte length), without decoding bodies. Heart-beats off. msgs/s = messages / wall time from the first send to the last delivery; **client CPU µs/msg** = \`process.cpuUsage()\` (user + system, all threads, GC included) of the client process over that interval / messages, so producer and consumer together. Broker CPU µs/msg (from /proc, RabbitMQ's beam.smp or our broker's process) is given for context.`,
    `- ${String(reps)} repetitions after ${String(warmups)} unmeasured warm-up run(s) per client and case (each as long as a measurement), interleaved: every repetition runs every case, and within a case every client in turn (order rotated per repetition). Figures: median (min–max); ratios are ratios of medians.`,
    `- Measured earlier against RabbitMQ (the issue): @stomp/stompjs ≈ ${String(EARLIER['stompjs TCP'])} µs of client CPU per message over TCP, ≈ ${String(EARLIER['stompjs WebSocket'])} over WebSocket; stompit ≈ ${String(EARLIER.stompit)}.`,
    '',
    '## Targets',
    '',
    `Our client, through the same broker as @stomp/stompjs: CPU per message at most ⅓ of stompjs's, and at least 2× its msgs/s. ${String(met)} of ${String(checks.length)} met.`,
    '',
    '| target | value | met |',
    '| --- | --- | --- |',
    ...checks.map((c) => `| ${c.target} | ${c.value} | ${c.met ? 'yes' : '**no**'} |`),
    '',
    '## Results',
    '',
    ...table(),
    '',
    'Every run delivered every message exactly once with the right length; stale messages (left by an earlier aborted run, ignored): ' +
      String(
        results.reduce((n, e) => n + Object.values(e.clients).reduce((m, c) => m + c.stale, 0), 0),
      ) +
      '.',
    '',
    'Where the client is not the bottleneck (the broker is), msgs/s ratios understate differences in client cost: CPU per message is the figure that isolates the client.',
    '',
    ...ceilingTable(),
    KEEP_MARKER,
  ];
  writeFileSync(
    join(outDir, 'client.md'),
    `${md.join('\n')}\n${handWritten(join(outDir, 'client.md'))}`,
  );
  log(`wrote ${join(outDir, 'client.md')} and ${join(outDir, 'client.json')}`);
} else {
  log('quick or filtered run: bench/results not written (use --out DIR)');
}

process.stdout.write(
  `\nSummary (${seconds.toFixed(0)} s, ${uptimeAfter}):\n${summary.join('\n')}\n`,
);
