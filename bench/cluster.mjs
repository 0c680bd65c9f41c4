#!/usr/bin/env node
// Cluster-mode benchmarks (issue 16), side by side in one run, on real processes: three
// nats-servers with JetStream (R3) on loopback and 1-3 `stompede broker --cluster` nodes.
// Two cores cannot show throughput scaling directly; these are the honest measures:
//
//   cpu        CPU per message on each node at a fixed offered load, with 1, 2 and 3 nodes
//              (producers on every node, each node's consumer on the next node, so every
//              message crosses nodes with 2 and 3): flat means no per-node broadcast tax.
//   capped     each node in a cgroup (v1 cpu controller) with a CPU quota well below one core,
//              saturated: messages per second with 1 node and with 2 (and the NATS servers' CPU,
//              to show they had headroom).
//   receipted  persistent SENDs per second, a RECEIPT on each (one in flight per connection, 16
//              connections): the cluster (R3) vs RabbitMQ with a quorum queue (its replicated
//              queue type, 127.0.0.1:61633) vs our single node (journal with fsync).
//   failover   kill -9 of the node a consumer (failover URI) is on, while a producer on the other
//              node sends 50 msgs/s: time to the consumer's first delivery through the other node.
//
//   path       (not run by default) one message's path with no other traffic: a producer on one
//              node and its consumer on another vs both on one node; CPU, syscalls and wake-ups.
//
// Usage: node bench/cluster.mjs [--phases cpu,capped,receipted,failover,path] [--seconds 10]
//          [--rate 400] [--quota 25] [--out bench/results] [--no-write]
// Writes bench/results/cluster.{md,json} unless --no-write (or only some phases ran). Progress on
// stderr. Build first (npm run build).
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from '@stompede/client/node';
import { NodeProcess, ensureNatsServer, startNatsServers } from '@stompede/cluster';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    phases: { type: 'string', default: 'cpu,capped,receipted,failover' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '400' },
    quota: { type: 'string', default: '25' },
    out: {
      type: 'string',
      default: fileURLToPath(new URL('./results', import.meta.url)),
    },
    'no-write': { type: 'boolean', default: false },
  },
});
const phases = values.phases.split(',');
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const QUOTA = Number(values.quota);
const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const started = Date.now();
const log = (line) =>
  process.stderr.write(`[cluster-bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU in 1/100 s

/** CPU ms used so far by process `pid` (user + system). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
}

/** Read and write system calls made so far by process `pid` (/proc/PID/io syscr + syscw). */
function syscalls(pid) {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
  return field('syscr') + field('syscw');
}

/** Times the threads of process `pid` went to sleep and were woken (voluntary context switches). */
function wakeups(pid) {
  let n = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      n += Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
    } catch {
      // the thread ended
    }
  }
  return n;
}

const dir = mkdtempSync(join(tmpdir(), 'stompede-cluster-bench-'));
const loads = [loadavg()[0]];
let nats;
/** Nodes of the current phase. */
let nodes = [];

async function startNodes(count, extraArgs = []) {
  const config = join(dir, 'node.yaml');
  writeFileSync(config, JSON.stringify({ cluster: { servers: nats.urls.split(',') } }));
  nodes = Array.from(
    { length: count },
    () =>
      new NodeProcess({
        command: [process.execPath, CLI, 'broker'],
        cluster: nats.urls,
        port: 0,
        args: ['--config', config, '--log-level', 'info', ...extraArgs],
      }),
  );
  await Promise.all(nodes.map((n) => n.start()));
  return nodes.map((n) => `tcp://127.0.0.1:${n.stompPort}`);
}

async function stopNodes() {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
}

/** A paced producer: `rate` msgs/s to `dest` with a receipt on every 10th, until `until`. */
async function pacedProducer(url, dest, rate, until, body) {
  const client = await connect(url);
  const every = 1000 / rate;
  let n = 0;
  const t0 = Date.now();
  const inflight = new Set();
  while (Date.now() < until) {
    const due = t0 + n * every;
    if (due > Date.now()) await sleep(due - Date.now());
    const p = client.send(dest, body, {
      receipt: n % 10 === 0,
      headers: { persistent: 'true' },
    });
    if (p) {
      inflight.add(p);
      void p.finally(() => inflight.delete(p)).catch(() => undefined);
    }
    n++;
  }
  await Promise.allSettled(inflight);
  await client.close();
  return n;
}

/** A saturating producer: `window` receipted SENDs in flight, until `until`. */
async function floodProducer(url, dest, window, until, body) {
  const client = await connect(url);
  let n = 0;
  const inflight = new Set();
  while (Date.now() < until) {
    const p = client.send(dest, body, {
      receipt: true,
      headers: { persistent: 'true' },
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    n++;
    if (inflight.size >= window) await Promise.race(inflight).catch(() => undefined);
  }
  await Promise.allSettled(inflight);
  await client.close();
  return n;
}

/** A consumer counting deliveries (auto ack) into `counter.n`, with their times. */
async function counter(url, dest, options = {}) {
  const client = await connect(url, options.connect ?? {});
  const state = { n: 0, times: [], client };
  const sub = await client.subscribe(dest, {
    ack: 'auto',
    receipt: true,
    ...options.subscribe,
  });
  state.done = (async () => {
    try {
      for await (const _m of sub) {
        state.n++;
        if (options.times) state.times.push(Date.now());
      }
    } catch {
      // closed
    }
  })();
  return state;
}

const results = { machine: {}, phases: {} };

/** One series of the cpu phase: 1, 2 and 3 nodes, node i's producer at `rateOf(count)` msgs/s. */
async function cpuSeries(rateOf) {
  const out = [];
  const body = Buffer.alloc(256, 'x');
  for (const count of [1, 2, 3]) {
    const urls = await startNodes(count);
    // Node i's producer sends to queue i, whose consumer is on node i+1.
    const dest = (i) => `/queue/bench.cpu.${count}.${i}`;
    const consumers = await Promise.all(
      urls.map((_, i) => counter(urls[(i + 1) % count], dest(i))),
    );
    // Idle first: what a node spends with its subscriptions waiting (pull requests, renewals),
    // subtracted below so the figure is the cost of the messages themselves.
    const idleMs = Math.min(5000, SECONDS * 500);
    const idle0 = nodes.map((n) => cpuMs(n.pid));
    await sleep(idleMs);
    const idle = nodes.map((n, i) => cpuMs(n.pid) - idle0[i]);
    const warm = Date.now() + 2000;
    const end = warm + SECONDS * 1000;
    const producing = urls.map((u, i) => pacedProducer(u, dest(i), rateOf(count), end, body));
    await sleep(warm - Date.now());
    const before = nodes.map((n) => cpuMs(n.pid));
    const callsBefore = nodes.map((n) => syscalls(n.pid));
    const wakeupsBefore = nodes.map((n) => wakeups(n.pid));
    const natsBefore = nats.list.map((s) => cpuMs(s.pid));
    const delivered0 = consumers.reduce((s, c) => s + c.n, 0);
    await sleep(end - Date.now());
    const delivered = consumers.reduce((s, c) => s + c.n, 0) - delivered0;
    const used = nodes.map((n, i) => cpuMs(n.pid) - before[i]);
    const calls = nodes.map((n, i) => syscalls(n.pid) - callsBefore[i]);
    const woken = nodes.map((n, i) => wakeups(n.pid) - wakeupsBefore[i]);
    const natsUsed = nats.list.reduce((s, x, i) => s + cpuMs(x.pid) - natsBefore[i], 0);
    await Promise.all(producing);
    for (const c of consumers) await c.client.close();
    await stopNodes();
    // Each node takes in 1/count of the messages and delivers 1/count.
    const perNode = used.map((ms) => (ms * 1000) / (delivered / count));
    const aboveIdle = used.map(
      (ms, i) => ((ms - (idle[i] * SECONDS * 1000) / idleMs) * 1000) / (delivered / count),
    );
    const mean = (xs) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    const row = {
      nodes: count,
      offered: Math.round(rateOf(count) * count),
      deliveredPerS: Math.round(delivered / SECONDS),
      nodeIdleCpuPercent: idle.map((ms) => +((ms / idleMs) * 100).toFixed(1)),
      nodeCpuUsPerMsg: perNode.map((x) => Math.round(x)),
      meanNodeCpuUsPerMsg: mean(perNode),
      nodeCpuUsPerMsgAboveIdle: aboveIdle.map((x) => Math.round(x)),
      meanNodeCpuUsPerMsgAboveIdle: mean(aboveIdle),
      natsCpuUsPerMsg: Math.round((natsUsed * 1000) / delivered),
      nodeSyscallsPerMsg: calls.map((n) => +(n / (delivered / count)).toFixed(1)),
      nodeWakeupsPerMsg: woken.map((n) => +(n / (delivered / count)).toFixed(1)),
    };
    log(`cpu: ${JSON.stringify(row)}`);
    out.push(row);
  }
  return out;
}

/**
 * One message's path, with no other traffic: a producer on the first node, its consumer on the
 * last, at half the rate, with 1 node (both on it) and with 2 (the message crosses them).
 */
async function pathPhase() {
  const rows = [];
  const body = Buffer.alloc(256, 'x');
  const rate = RATE / 2;
  for (const count of [1, 2]) {
    const urls = await startNodes(count);
    const dest = `/queue/bench.path.${count}`;
    const consumer = await counter(urls[count - 1], dest);
    const warm = Date.now() + 2000;
    const end = warm + SECONDS * 1000;
    const producing = pacedProducer(urls[0], dest, rate, end, body);
    await sleep(warm - Date.now());
    const sample = () =>
      nodes.map((n) => ({ cpu: cpuMs(n.pid), calls: syscalls(n.pid), woken: wakeups(n.pid) }));
    const before = sample();
    const delivered0 = consumer.n;
    await sleep(end - Date.now());
    const after = sample();
    const delivered = consumer.n - delivered0;
    await producing;
    await consumer.client.close();
    await stopNodes();
    const per = (key, scale, digits) =>
      after.map((a, i) => +(((a[key] - before[i][key]) * scale) / delivered).toFixed(digits));
    const cpu = per('cpu', 1000, 0);
    const row = {
      nodes: count,
      offered: rate,
      deliveredPerS: Math.round(delivered / SECONDS),
      nodeCpuUsPerMsg: cpu,
      totalCpuUsPerMsg: cpu.reduce((a, b) => a + b, 0),
      nodeSyscallsPerMsg: per('calls', 1, 1),
      nodeWakeupsPerMsg: per('woken', 1, 1),
    };
    log(`path: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  results.phases.path = rows;
}

async function cpuPhase() {
  results.phases.cpu = {
    // The measure: the same total load over 1, 2 and 3 nodes.
    fixedTotal: await cpuSeries((count) => RATE / count),
    // The same load per node: each node's batches stay the same size.
    fixedPerNode: await cpuSeries(() => RATE / 2),
  };
}

/** Put `pid` in a cgroup (v1 cpu) with `percent` of one core; returns the cgroup's path. */
function cap(pid, name, percent) {
  const cg = `/sys/fs/cgroup/cpu/${name}`;
  mkdirSync(cg, { recursive: true });
  writeFileSync(join(cg, 'cpu.cfs_period_us'), '100000');
  writeFileSync(join(cg, 'cpu.cfs_quota_us'), String(percent * 1000));
  writeFileSync(join(cg, 'cgroup.procs'), String(pid));
  return cg;
}

function uncap(cg) {
  // The nodes have exited: the cgroup is empty and can go.
  try {
    rmdirSync(cg);
  } catch (err) {
    log(`could not remove ${cg}: ${err.message}`);
  }
}

async function cappedPhase() {
  if (!existsSync('/sys/fs/cgroup/cpu/cgroup.procs')) {
    results.phases.capped = {
      skipped: 'no cgroup v1 cpu controller at /sys/fs/cgroup/cpu',
    };
    return;
  }
  const out = [];
  const body = Buffer.alloc(256, 'x');
  for (const count of [1, 2]) {
    const urls = await startNodes(count);
    const groups = nodes.map((n, i) => cap(n.pid, `stompede-bench-node${i}`, QUOTA));
    try {
      const dest = `/queue/bench.capped.${count}`;
      const consumers = await Promise.all(urls.map((u) => counter(u, dest)));
      const warm = Date.now() + 2000;
      const end = warm + SECONDS * 1000;
      // Two producers per node, 64 receipted SENDs in flight each: more than a capped node takes.
      const producing = urls.flatMap((u) =>
        [0, 1].map(() => floodProducer(u, dest, 64, end, body)),
      );
      await sleep(warm - Date.now());
      const natsBefore = nats.list.map((s) => cpuMs(s.pid));
      const nodesBefore = nodes.map((n) => cpuMs(n.pid));
      const d0 = consumers.reduce((s, c) => s + c.n, 0);
      await sleep(end - Date.now());
      const delivered = consumers.reduce((s, c) => s + c.n, 0) - d0;
      const natsUsed = nats.list.reduce((s, x, i) => s + cpuMs(x.pid) - natsBefore[i], 0);
      // Did the nodes use their quota? If not, something else (the machine) was the limit.
      const nodePercent = nodes.map((n, i) =>
        Math.round(((cpuMs(n.pid) - nodesBefore[i]) / (SECONDS * 1000)) * 100),
      );
      await Promise.all(producing);
      // Drain what is left so the next run starts empty.
      await sleep(2000);
      for (const c of consumers) await c.client.close();
      const row = {
        nodes: count,
        quotaPercentPerNode: QUOTA,
        deliveredPerS: Math.round(delivered / SECONDS),
        nodeCpuPercent: nodePercent,
        natsCpuPercent: Math.round((natsUsed / (SECONDS * 1000)) * 100),
      };
      log(`capped: ${JSON.stringify(row)}`);
      out.push(row);
    } finally {
      await stopNodes();
      for (const g of groups) uncap(g);
    }
  }
  results.phases.capped = {
    rows: out,
    ratio: out.length === 2 ? +(out[1].deliveredPerS / out[0].deliveredPerS).toFixed(2) : null,
  };
}

/** `connections` connections, each SENDing serially with a RECEIPT, for SECONDS; msgs/s. */
async function receiptedRate(urls, dest, connections, options = {}) {
  const body = Buffer.alloc(1024, 'x');
  const clients = await Promise.all(
    Array.from({ length: connections }, (_, i) => connect(urls[i % urls.length], options.connect)),
  );
  const drain = await counter(urls[0], dest, {
    connect: options.connect,
    subscribe: options.subscribe,
  });
  const warm = Date.now() + 1000;
  const end = warm + SECONDS * 1000;
  let counted = 0;
  await Promise.all(
    clients.map(async (c) => {
      while (Date.now() < end) {
        await c.send(dest, body, {
          receipt: true,
          headers: { persistent: 'true', ...options.headers },
        });
        if (Date.now() > warm) counted++;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  await drain.client.close();
  return Math.round(counted / SECONDS);
}

async function receiptedPhase() {
  const row = {};
  const N = 16;
  const urls = await startNodes(2);
  row.cluster = await receiptedRate(urls, '/queue/bench.receipted', N);
  log(`receipted: cluster (2 nodes, R3) ${row.cluster}/s`);
  await stopNodes();

  const single = spawn(
    process.execPath,
    [
      CLI,
      'broker',
      '--port',
      '0',
      '--ws-port',
      'off',
      '--data-dir',
      join(dir, 'single'),
      '--log-level',
      'info',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    single.stdout.on('data', (d) => {
      buf += d;
      const m = /"listeners":\["(?:tcp|stomp):\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    single.once('exit', () => reject(new Error('the single node exited')));
  });
  row.single = await receiptedRate([`tcp://127.0.0.1:${port}`], '/queue/bench.receipted', N);
  log(`receipted: single node (fsync) ${row.single}/s`);
  single.kill('SIGTERM');

  try {
    const rabbit = { login: 'guest', passcode: 'guest', host: '/' };
    const quorum = {
      'x-queue-type': 'quorum',
      durable: 'true',
      'auto-delete': 'false',
      'x-expires': '60000',
    };
    row.rabbitmqQuorum = await receiptedRate(
      ['tcp://127.0.0.1:61633'],
      `/queue/bench.receipted.${process.pid}`,
      N,
      { connect: rabbit, headers: quorum, subscribe: { headers: quorum } },
    );
    log(`receipted: RabbitMQ quorum queue ${row.rabbitmqQuorum}/s`);
  } catch (err) {
    row.rabbitmqQuorum = `failed (${err.message})`;
  }
  row.connections = N;
  results.phases.receipted = row;
}

async function failoverPhase() {
  const urls = await startNodes(2);
  const rows = [];
  const dest = '/queue/bench.failover';
  const producerUrl = (victim) => urls[1 - victim];
  for (let rep = 0; rep < 3; rep++) {
    const victim = rep % 2;
    // The consumer starts on the victim (failover URI: the victim first, then the other).
    const consumer = await counter(
      `failover:(${urls[victim]},${urls[1 - victim]})?randomize=false`,
      dest,
      {
        times: true,
      },
    );
    const end = Date.now() + 6000;
    const producing = pacedProducer(producerUrl(victim), dest, 50, end, 'x');
    await sleep(2000);
    const killedAt = Date.now();
    await nodes[victim].kill('SIGKILL');
    await producing;
    const first = consumer.times.find((t) => t > killedAt);
    rows.push(first === undefined ? null : first - killedAt);
    log(`failover ${rep + 1}/3: first delivery ${rows.at(-1)} ms after the kill`);
    await consumer.client.close();
    await nodes[victim].start();
  }
  await stopNodes();
  results.phases.failover = { msToFirstDelivery: rows };
}

function render() {
  const r = results;
  const lines = [
    '# Cluster mode benchmarks',
    '',
    `Measured ${new Date().toISOString()} by \`node bench/cluster.mjs\` (${SECONDS} s per measure) on ` +
      `${r.machine.cpus} × ${r.machine.cpu}, NATS server ${r.machine.nats}, Node ${process.version}.`,
    `**The machine was loaded** (load average ${r.machine.load.map((x) => x.toFixed(1)).join(' → ')}: ` +
      'other engineers built and tested on the same 2 cores): read the figures as rough, and the ' +
      'ratios within one phase as more telling than the absolute numbers.',
    '',
    'Setup: three `nats-server`s with JetStream on loopback (R3 streams, file storage), the nodes ' +
      '`stompede broker --cluster` in their own processes, the load from @stompede/client in this ' +
      'process.',
    '',
  ];
  const cpu = r.phases.cpu;
  if (cpu) {
    const table = (rows) => {
      const spread = (key) => {
        const xs = rows.map((c) => c[key]);
        return ((Math.max(...xs) / Math.min(...xs) - 1) * 100).toFixed(0);
      };
      return [
        '| nodes | offered/s | delivered/s | node idle CPU % | µs CPU per message, each node | mean | above idle, each node | mean above idle | NATS servers, µs per message | read+write syscalls per message, each node | wakeups per message, each node |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...rows.map(
          (c) =>
            `| ${c.nodes} | ${c.offered} | ${c.deliveredPerS} | ${c.nodeIdleCpuPercent.join(', ')} | ` +
            `${c.nodeCpuUsPerMsg.join(', ')} | ${c.meanNodeCpuUsPerMsg} | ` +
            `${c.nodeCpuUsPerMsgAboveIdle.join(', ')} | ${c.meanNodeCpuUsPerMsgAboveIdle} | ${c.natsCpuUsPerMsg} | ` +
            `${(c.nodeSyscallsPerMsg ?? []).join(', ')} | ${(c.nodeWakeupsPerMsg ?? []).join(', ')} |`,
        ),
        '',
        `Mean per node, 1 to 3 nodes: ${spread('meanNodeCpuUsPerMsg')}% apart as measured, ` +
          `${spread('meanNodeCpuUsPerMsgAboveIdle')}% above idle (target: flat within 15%).`,
        '',
      ];
    };
    lines.push(
      '## CPU per message on each node',
      '',
      "Producers on every node, each node's consumer on the next node (with 2 and 3 nodes every " +
        'message crosses nodes), 256 B bodies, auto ack. CPU time of each node process ' +
        '(/proc/PID/stat) divided by the messages that went through it (in and out). "Above idle" ' +
        "subtracts each node's CPU with its subscriptions waiting and no traffic (measured just " +
        'before).',
      '',
      `### The same total load (${RATE} msgs/s) over 1, 2 and 3 nodes`,
      '',
      ...table(cpu.fixedTotal),
      `### The same load per node (${RATE / 2} msgs/s each)`,
      '',
      ...table(cpu.fixedPerNode),
    );
  }
  const path = r.phases.path;
  if (path) {
    lines.push(
      "## One message's path",
      '',
      `One producer on the first node, its consumer on the last, ${RATE / 2} msgs/s, 256 B, ` +
        'auto ack, no other traffic: with 1 node both are on it, with 2 every message crosses ' +
        'them. Per message delivered, for each node (producing node first).',
      '',
      '| nodes | offered/s | delivered/s | µs CPU per message, each node | all nodes | read+write syscalls per message, each node | wake-ups per message, each node |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...path.map(
        (c) =>
          `| ${c.nodes} | ${c.offered} | ${c.deliveredPerS} | ${c.nodeCpuUsPerMsg.join(', ')} | ` +
          `${c.totalCpuUsPerMsg} | ${c.nodeSyscallsPerMsg.join(', ')} | ${c.nodeWakeupsPerMsg.join(', ')} |`,
      ),
      '',
    );
  }
  const capped = r.phases.capped;
  if (capped) {
    lines.push('## Capped-node scaling', '');
    if (capped.skipped) lines.push(`Skipped: ${capped.skipped}.`, '');
    else {
      lines.push(
        `Each node in a cgroup (v1 cpu, \`cpu.cfs_quota_us\` = ${QUOTA}% of a core), saturated by two ` +
          'producers per node with 64 receipted 256 B SENDs in flight each, one auto-ack consumer per node.',
        '',
        '| nodes | delivered/s | each node CPU (% of one core) | NATS servers CPU (% of one core, all three) |',
        '| --- | --- | --- | --- |',
        ...capped.rows.map(
          (c) =>
            `| ${c.nodes} | ${c.deliveredPerS} | ${c.nodeCpuPercent.join(', ')} | ${c.natsCpuPercent} |`,
        ),
        '',
        `2 nodes / 1 node: **${capped.ratio}×** (target ≥ 1.7×). This is "capped-node scaling", ` +
          'not capacity: it can show that the nodes share no bottleneck, but only while each ' +
          'node uses its whole quota and NATS and the load generator have headroom; a node ' +
          'below its quota means the machine, not the node, was the limit.',
        '',
      );
    }
  }
  const rec = r.phases.receipted;
  if (rec) {
    lines.push(
      '## Receipted persistent SENDs per second',
      '',
      `${rec.connections} connections, each one SEND of 1 KiB at a time with a RECEIPT (a consumer drains the queue).`,
      '',
      '| target | SENDs/s |',
      '| --- | --- |',
      `| stompede cluster, 2 nodes, R3 JetStream | ${rec.cluster} |`,
      `| RabbitMQ 3.10 quorum queue (\`x-queue-type: quorum\`, one node: no replicas here) | ${rec.rabbitmqQuorum} |`,
      `| stompede single node (journal, fsync before RECEIPT) | ${rec.single} |`,
      '',
      "RabbitMQ here is one node, so its quorum queue replicates nowhere; the cluster's RECEIPT " +
        'waits for 2 of 3 NATS servers. The single node fsyncs; NATS by default does not fsync ' +
        'before its PubAck (an fsync every 2 minutes; docs/cluster.md, durability).',
      '',
    );
  }
  const fo = r.phases.failover;
  if (fo) {
    lines.push(
      '## Failover',
      '',
      'kill -9 of the node a consumer (failover URI, both nodes) is on, while a producer on the ' +
        "other node sends 50 msgs/s: ms from the kill to the consumer's first delivery through the " +
        `other node: ${fo.msToFirstDelivery.join(', ')}. (The dead node's unacknowledged messages come ` +
        'back after `ackWait`, 30 s by default.)',
      '',
    );
  }
  lines.push(
    'Reproduce: `npm run build && node bench/cluster.mjs` (RabbitMQ from `interop/peers/rabbitmq.sh start`).',
    '',
  );
  return lines.join('\n');
}

try {
  nats = await startNatsServers({
    dir: join(dir, 'nats'),
    size: 3,
    install: false,
  });
  // The binary startNatsServers ran, not whichever nats-server is first on the PATH.
  const version = spawn(ensureNatsServer(undefined, false), ['--version'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  results.machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    nats: await new Promise((resolve) => {
      let s = '';
      version.stdout.on('data', (d) => (s += d));
      version.on('exit', () => resolve(s.trim().replace(/^nats-server: /, '')));
    }),
  };
  for (const p of phases) {
    log(`phase ${p}`);
    if (p === 'cpu') await cpuPhase();
    else if (p === 'capped') await cappedPhase();
    else if (p === 'receipted') await receiptedPhase();
    else if (p === 'failover') await failoverPhase();
    else if (p === 'path') await pathPhase();
    else throw new Error(`unknown phase ${p}`);
    loads.push(loadavg()[0]);
  }
  results.machine.load = loads;
  const md = render();
  process.stdout.write(md);
  if (
    !values['no-write'] &&
    ['cpu', 'capped', 'receipted', 'failover'].every((p) => phases.includes(p))
  ) {
    writeFileSync(join(values.out, 'cluster.md'), md);
    writeFileSync(join(values.out, 'cluster.json'), JSON.stringify(results, null, 2) + '\n');
    log(`wrote ${join(values.out, 'cluster.md')}`);
  }
} finally {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}
