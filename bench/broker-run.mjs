// The broker benchmark: the same load generator (`stompede bench`, raw frames) against our broker
// (in its own process), RabbitMQ, ActiveMQ and Artemis on this machine; several repetitions
// interleaved between brokers; medians and ranges; writes bench/results/broker.{md,json}.
//
// Usage: npm run build && node bench/broker-run.mjs [--reps 3] [--seconds 5]
//          [--only ours,rabbitmq,activemq,artemis] [--scenarios q100-auto,...,idle] [--quick]
//          [--out DIR]
//          [--baseline DIR]   also run another build of our broker (DIR/index.js): before/after
//          [--relay]          also run the relay (bench/relay-server.mjs: a trivial STOMP relay,
//                             not ours) on RELAY_SCENARIOS: the ceiling of a broker here
// Results are written to bench/results only by a full run (no --quick/--only/--scenarios),
// or to --out DIR.
import { execFileSync, fork, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureIdle } from './broker-idle.mjs';
import { artemisVersion } from './lib/peers.mjs';
import {
  BROKER_SCENARIOS,
  CLASSIC_SCENARIOS,
  IDLE_SCENARIO,
  RELAY_SCENARIOS,
  runTiming,
} from './lib/broker-scenarios.mjs';
import { exitOnHelp } from './lib/usage.mjs';
import { cpuSecondsOf } from './lib/process-cpu.mjs';

exitOnHelp(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const CLI = join(root, 'packages/cli/dist/main.js');

const { values } = parseArgs({
  options: {
    reps: { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
    scenarios: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    connections: { type: 'string' },
    baseline: { type: 'string' },
    relay: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const reps = Number(values.reps ?? (quick ? 1 : 3));
const seconds = Number(values.seconds ?? (quick ? 2 : 5));
const idleConnections = Number(values.connections ?? 1000);
const full = !quick && values.only === undefined && values.scenarios === undefined;
/** Slow-consumer scenario: how long the slow side starts before the fast pair. */
const SLOW_HEAD_START_MS = 700;
const outDir = values.out ?? (full ? join(here, 'results') : undefined);

/** Brokers: how the load generator reaches each. */
const BROKERS = [
  { id: 'ours', name: 'stompede', args: [] },
  ...(values.baseline === undefined
    ? []
    : [{ id: 'baseline', name: 'stompede (baseline)', args: [], dist: values.baseline }]),
  {
    id: 'rabbitmq',
    name: 'RabbitMQ',
    url: 'tcp://127.0.0.1:61633',
    args: ['--login', 'guest', '--passcode', 'guest', '--vhost', '/'],
    process: /beam\.smp/,
    memoryNote: 'beam.smp RSS',
  },
  {
    id: 'activemq',
    name: 'ActiveMQ',
    url: 'tcp://127.0.0.1:61623',
    args: [],
    // activemq.jar: Artemis's JVM mentions org.apache.activemq too.
    process: /java .*activemq\.jar/,
    memoryNote: 'JVM (java) process RSS',
  },
  {
    // ActiveMQ Artemis from Maven Central (interop/peers/artemis.sh).
    id: 'artemis',
    name: 'Artemis',
    // tcp:// (stompede bench takes tcp, ssl, ws, wss; the port is Artemis's STOMP acceptor).
    url: 'tcp://127.0.0.1:61653',
    args: ['--login', 'guest', '--passcode', 'guest'],
    process: /java .*org\.apache\.activemq\.artemis\.boot\.Artemis/,
    memoryNote: 'JVM (java) process RSS',
  },
  ...(values.relay ? [{ id: 'relay', name: 'relay (limit)', args: [], relay: true }] : []),
].filter(
  (b) =>
    values.only === undefined ||
    values.only.split(',').includes(b.id) ||
    b.id === 'baseline' ||
    b.id === 'relay',
);

// Scenarios: see lib/broker-scenarios.mjs. Without --scenarios, the classic set; `--scenarios all`
// runs every one; bench/report.mjs asks for its own list.
const wanted =
  values.scenarios === undefined
    ? CLASSIC_SCENARIOS
    : values.scenarios === 'all'
      ? [...BROKER_SCENARIOS.map((s) => s.id), 'idle']
      : values.scenarios.split(',');
for (const id of wanted) {
  if (id !== 'idle' && !BROKER_SCENARIOS.some((s) => s.id === id))
    throw new Error(`unknown scenario ${id}`);
}
const SCENARIOS = wanted
  .filter((id) => id !== 'idle')
  .map((id) => BROKER_SCENARIOS.find((s) => s.id === id));
const runIdle = wanted.includes('idle');

/** Earlier measurements on this machine (the brief), for the record. */
const EARLIER = {
  rabbitmq: {
    'q100-auto': 20600,
    'q100-ci': 16000,
    'q4k-auto': 15000,
    fanout: 25000,
    latency: 4,
    idle: 165e3,
  },
  activemq: {
    'q100-auto': 35000,
    'q100-ci': 24000,
    'q4k-auto': 9000,
    fanout: 81000,
    latency: 38,
    idle: 28e3,
  },
};

const log = (m) => process.stderr.write(m + '\n');
const fmt = (x, unit) =>
  unit === 'ms' ? x.toFixed(x < 10 ? 2 : 1) : Math.round(x).toLocaleString('en-US');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Our broker (or, for `b.relay`, the relay) in a process of its own. */
function startOurs(dist, script = 'broker-server.mjs') {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    if (dist !== undefined) env.STOMPEDE_BROKER = join(resolvePath(dist), 'index.js');
    const child = fork(join(here, script), [], {
      env,
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`our broker exited with ${code}`)));
    child.once('message', (m) => resolve({ child, ready: m.ready }));
  });
}

function ask(child, cmd, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m[key] !== undefined) {
        child.off('message', on);
        resolve(m[key]);
      }
    };
    child.on('message', on);
    child.send({ cmd });
  });
}

function pidOf(pattern) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m !== null && pattern.test(m[2])) return Number(m[1]);
  }
  throw new Error(`no process matches ${pattern}`);
}

/** Bytes of JVM heap in use after a full GC (`jcmd PID GC.run`, `GC.heap_info`); undefined if jcmd fails. */
function jvmHeapUsed(pid) {
  try {
    execFileSync('jcmd', [String(pid), 'GC.run'], { stdio: 'ignore', timeout: 20_000 });
    const info = execFileSync('jcmd', [String(pid), 'GC.heap_info'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const kb = /heap\s+total \d+K, used (\d+)K/.exec(info)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * One `stompede bench` run; resolves with its JSON summary, or with `{ failed }` saying what
 * happened when it produced none (connection refused, killed after `timeoutMs`, ...).
 */
function bench(args, timeoutMs = 120_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'bench', ...args, '--json', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      process.stderr.write(d);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ failed: e.message });
    });
    child.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        resolve({
          failed: timedOut
            ? `no summary within ${timeoutMs / 1000} s (killed)`
            : (err.trim().split('\n').pop() ?? '').slice(0, 300) || 'no summary',
        });
      }
    });
  });
}

function machine() {
  const model =
    /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  const version = (cmd, args) => {
    try {
      return execFileSync(cmd, args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return undefined;
    }
  };
  return {
    cpu: model,
    nproc: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    rabbitmq: version('dpkg-query', ['-W', '-f=${Version}', 'rabbitmq-server']),
    activemq: version('dpkg-query', ['-W', '-f=${Version}', 'activemq']),
    artemis: artemisVersion(),
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

/**
 * The slow-consumer scenario: a consumer that reads `s.slowRate` msgs/s (by pausing its socket)
 * on one queue while a producer floods that queue at `s.floodRate`; after a head start, the fast
 * pair (`fastArgs`) runs on another queue of the same broker. Then the slow queue is drained, so
 * that the next run starts from an empty broker.
 */
async function beside(b, s, fastArgs) {
  const slowDest = `/queue/stompede.bench.${s.id}.slow`;
  const slowSeconds = String(seconds + SLOW_HEAD_START_MS / 1000 + 1);
  const common = ['--broker', b.url, ...b.args, '-d', slowDest, '-s', '100', '-a', 'auto'];
  const slowRun = bench([
    ...common,
    '-x',
    '0',
    '-y',
    '1',
    '--consume-rate',
    String(s.slowRate),
    '-z',
    slowSeconds,
  ]);
  const floodRun = bench([
    ...common,
    '-x',
    '1',
    '-y',
    '0',
    '-r',
    String(s.floodRate),
    '-z',
    slowSeconds,
  ]);
  await new Promise((r) => setTimeout(r, SLOW_HEAD_START_MS));
  const fast = await bench(fastArgs, (seconds + 60) * 1000);
  const [slow, flood] = await Promise.all([slowRun, floodRun]);
  // What the slow consumer left: consumed at full speed (its own run's figures are not used).
  await bench([...common, '-x', '0', '-y', '1', '-z', '2']);
  return { fast, slow, flood };
}

// ---- run ----
const startedAt = new Date();
const info = machine();
log(
  `broker bench: ${BROKERS.map((b) => b.id).join(', ')}; ${SCENARIOS.map((s) => s.id).join(', ')}${runIdle ? ', idle' : ''}; ${reps} rep(s) of ${seconds} s; load ${info.loadAverageAtStart.join(' ')}`,
);
const servers = {};
for (const b of BROKERS.filter((x) => x.id === 'ours' || x.id === 'baseline' || x.relay)) {
  const server = await startOurs(b.dist, b.relay ? 'relay-server.mjs' : undefined);
  servers[b.id] = server;
  const tcp = server.ready.addresses.find((a) => a.protocol === 'tcp');
  b.url = `tcp://127.0.0.1:${tcp.port}`;
  log(`${b.name}: pid ${server.ready.pid}, ${tcp.url}`);
}
/** A peer's current pid, or undefined when it is not running. */
function peerPid(b) {
  try {
    return pidOf(b.process);
  } catch {
    return undefined;
  }
}
for (const b of BROKERS) b.pid = servers[b.id]?.ready.pid ?? peerPid(b);
/** Peers stopped or restarted during the run (by someone else: the machine is shared). */
const events = [];
const commands = {};
const results = {};
const loads = [];
try {
  for (const s of SCENARIOS) {
    for (let rep = 0; rep < reps; rep++) {
      for (const b of BROKERS) {
        // The relay is a ceiling for a few throughput rows only.
        if (b.relay && !RELAY_SCENARIOS.includes(s.id)) continue;
        const kind = s.args.includes('topic') ? 'topic' : 'queue';
        const args = [
          '--broker',
          b.url,
          ...b.args,
          ...(s.count === undefined
            ? ['-z', String(runTiming(s, seconds, quick).duration)]
            : ['-C', String(s.count)]),
          ...(s.count === undefined && runTiming(s, seconds, quick).warmup > 0
            ? ['--warmup', String(runTiming(s, seconds, quick).warmup)]
            : []),
          '-d',
          `/${kind}/stompede.bench.${s.id}`,
          ...s.args,
        ];
        commands[`${b.id} ${s.id}`] = `node packages/cli/dist/main.js bench ${args.join(' ')}`;
        if (servers[b.id] === undefined) {
          const pid = peerPid(b);
          if (pid !== b.pid) {
            const what =
              pid === undefined
                ? `${b.name} is not running`
                : b.pid === undefined
                  ? `${b.name} is running again (pid ${pid})`
                  : `${b.name} was restarted (pid ${b.pid} → ${pid})`;
            events.push(`${s.id} rep ${rep + 1}: ${what}`);
            log(`  ${what}`);
            b.pid = pid;
          }
          if (pid === undefined) {
            ((results[b.id] ??= {})[s.id] ??= { runs: [] }).runs.push({
              value: null,
              ok: false,
              failed: `${b.name} not running`,
            });
            continue;
          }
        }
        const cpu0 = cpuSecondsOf(b.pid);
        let r;
        let slow;
        let asked = s.rate;
        if (s.kind === 'slow') {
          const solo = (results[b.id]?.['fast-alone']?.runs ?? [])
            .filter((x) => x.ok && x.value != null)
            .map((x) => x.value);
          if (solo.length > 0) asked = Math.round(median(solo) * s.fastShare);
          slow = await beside(b, s, asked === undefined ? args : [...args, '-r', String(asked)]);
          r = slow.fast;
        } else {
          r = await bench(
            args,
            s.count === undefined
              ? (runTiming(s, seconds, quick).duration + runTiming(s, seconds, quick).warmup + 60) *
                  1000
              : 120_000,
          );
        }
        const cpu = cpuSecondsOf(b.pid) - cpu0;
        const runs = ((results[b.id] ??= {})[s.id] ??= { runs: [] }).runs;
        loads.push(loadavg()[0]);
        if (r.failed !== undefined) {
          runs.push({ value: null, ok: false, failed: r.failed });
          log(`  ${s.id.padEnd(16)} rep ${rep + 1}/${reps} ${b.id.padEnd(8)} FAILED: ${r.failed}`);
          continue;
        }
        const value = s.metric === 'p99' ? r.latencyMs.p99 : r[s.metric];
        runs.push({
          value,
          rateIn: r.rateIn,
          rateOut: r.rateOut,
          askedRate: asked,
          sent: r.sent,
          received: r.received,
          p50: r.latencyMs.p50,
          p90: r.latencyMs.p90,
          p99: r.latencyMs.p99,
          p999: r.latencyMs.p999,
          max: r.latencyMs.max,
          brokerCpuSeconds: cpu,
          perCpuSecond: cpu > 0 ? r.received / cpu : undefined,
          ok: r.ok,
          lost: r.lost,
          duplicated: r.duplicated,
          corrupted: r.corrupted,
          errors: r.errors,
          ...(slow === undefined
            ? {}
            : {
                slowDelivered: slow.slow.foreign ?? null,
                floodSent: slow.flood.sent ?? null,
                slowErrors: [...(slow.slow.errors ?? []), ...(slow.flood.errors ?? [])],
                slowFailed: slow.slow.failed ?? slow.flood.failed,
              }),
        });
        log(
          `  ${s.id.padEnd(16)} rep ${rep + 1}/${reps} ${b.id.padEnd(8)} ${fmt(value, s.unit).padStart(9)} ${s.unit}` +
            `  (in ${fmt(r.rateIn)}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, broker CPU ${cpu.toFixed(2)} s = ${fmt(cpu > 0 ? r.received / cpu : 0)} deliveries per CPU-second)${r.ok ? '' : `  NOT OK: lost ${r.lost} dup ${r.duplicated} ${r.errors.join('; ')}`}`,
        );
      }
    }
  }
  if (runIdle) {
    for (const b of BROKERS.filter((x) => !x.relay)) {
      let own = servers[b.id];
      if (own !== undefined) {
        // A fresh process: what the load runs left on the heap would blur a few KB.
        own.child.removeAllListeners('exit');
        own.child.send({ cmd: 'close' });
        own = servers[b.id] = await startOurs(b.dist);
        b.pid = own.ready.pid;
        b.url = `tcp://127.0.0.1:${own.ready.addresses.find((a) => a.protocol === 'tcp').port}`;
      } else {
        b.pid = peerPid(b);
        if (b.pid === undefined) {
          events.push(`idle: ${b.name} is not running`);
          (results[b.id] ??= {}).idle = {
            runs: [{ value: null, ok: false, failed: `${b.name} not running` }],
          };
          continue;
        }
      }
      const pid = b.pid;
      const loginArgs = {};
      for (let i = 0; i < b.args.length; i += 2) loginArgs[b.args[i].slice(2)] = b.args[i + 1];
      // ActiveMQ: the JVM's heap after a full GC (jcmd), read with each RSS reading; RSS alone
      // hardly moves, the heap being pre-sized.
      const jvmHeaps = [];
      const settle =
        own !== undefined
          ? () => ask(own.child, 'mem', 'mem')
          : b.id === 'activemq' || b.id === 'artemis'
            ? async () => {
                const heap = jvmHeapUsed(b.pid);
                if (heap !== undefined) jvmHeaps.push(heap);
              }
            : undefined;
      // Twice: the first round (at most 1,000) pays one-time costs (heap growth, compiled code,
      // pools); the second, measured, shows what each further connection costs.
      let r;
      try {
        await measureIdle(b.url, pid, {
          connections: Math.min(idleConnections, 1000),
          login: loginArgs.login,
          passcode: loginArgs.passcode,
          vhost: loginArgs.vhost,
        });
        r = await measureIdle(b.url, pid, {
          connections: idleConnections,
          login: loginArgs.login,
          passcode: loginArgs.passcode,
          vhost: loginArgs.vhost,
          settle,
        });
      } catch (err) {
        // The broker process went away during the round (stopped or restarted by someone else).
        events.push(`idle: ${b.name}: ${err.message}`);
        (results[b.id] ??= {}).idle = { runs: [{ value: null, ok: false, failed: err.message }] };
        continue;
      }
      // Our broker's heap after a full GC, read by `settle` before the round and while its
      // connections were still open.
      const before = own !== undefined ? r.settledBefore : undefined;
      const heap = own !== undefined ? r.settledAfter : undefined;
      const entry = ((results[b.id] ??= {}).idle = {
        runs: [
          {
            value: r.perConnection,
            ok: r.failed === undefined,
            ...r,
            settledBefore: undefined,
            settledAfter: undefined,
          },
        ],
      });
      if (jvmHeaps.length === 2 && r.opened > 0)
        entry.heapPerConnection = (jvmHeaps[1] - jvmHeaps[0]) / r.opened;
      if (heap !== undefined && r.opened > 0)
        entry.heapPerConnection =
          (heap.heapUsed + heap.external - before.heapUsed - before.external) / r.opened;
      commands[`${b.id} idle`] =
        `node bench/broker-idle.mjs ${b.url} --pid ${pid} --connections ${idleConnections}${b.args.length ? ' ' + b.args.join(' ') : ''}`;
      log(
        `  idle       ${b.id.padEnd(8)} ${r.opened}/${idleConnections} open at ${fmt(r.connectRate)} connections/s${r.failed === undefined ? '' : ` (stopped: ${r.failed})`}, ${fmt((r.perConnection ?? NaN) / 1000)} KB per connection (${b.memoryNote ?? 'broker process RSS'} ${fmt(r.rssBefore / 1e6)} → ${fmt(r.rssAfter / 1e6)} MB)` +
          (entry.heapPerConnection === undefined
            ? ''
            : `; ${own !== undefined ? 'JS heap+external' : 'JVM heap after GC'} ${fmt(entry.heapPerConnection / 1000, 'ms')} KB`),
      );
    }
  }
} finally {
  for (const server of Object.values(servers)) {
    server.child.removeAllListeners('exit');
    server.child.send({ cmd: 'close' });
  }
}

// ---- summarise ----
const ALL = [
  ...SCENARIOS,
  ...(runIdle
    ? [
        {
          ...IDLE_SCENARIO,
          title: `memory per idle connection (${idleConnections} connections, 1 subscription each)`,
        },
      ]
    : []),
];
for (const b of Object.values(results)) {
  for (const r of Object.values(b)) {
    // Failed runs (no summary) have no value: they are reported, not averaged in.
    const xs = r.runs
      .map((x) => x.value)
      .filter((x) => typeof x === 'number' && Number.isFinite(x));
    if (xs.length === 0) continue;
    r.median = median(xs);
    r.min = Math.min(...xs);
    r.max = Math.max(...xs);
  }
}
const TARGETS = { throughputVsBestPeer: 3, p99Ms: 1, idleBytes: 8_000 };
const show = (r, unit) => {
  if (r === undefined) return '—';
  if (r.median === undefined) return `failed (${r.runs.find((x) => x.failed)?.failed ?? '?'})`;
  const d = unit === 'KB' ? 1000 : 1;
  const u = unit === 'KB' ? 'KB' : unit;
  const range = r.runs.length > 1 ? ` (${fmt(r.min / d, u)}–${fmt(r.max / d, u)})` : '';
  return `${fmt(r.median / d, u === 'KB' ? 'ms' : u)}${range}${r.runs.every((x) => x.ok !== false) ? '' : ' ⚠'}`;
};
const lines = [];
lines.push('# Broker benchmark', '');
lines.push(
  `${startedAt.toISOString().slice(0, 10)}, ${info.cpu}, ${info.nproc} cores, ${info.memoryGiB} GiB, Node ${info.node}, ${info.platform}; RabbitMQ ${info.rabbitmq ?? '?'}, ActiveMQ ${info.activemq ?? '?'}, Artemis ${info.artemis ?? '?'}.`,
);
lines.push(
  `Load average at start ${info.loadAverageAtStart.join(' ')}; 1-minute load average during the runs ${fmt(Math.min(...loads), 'ms')}–${fmt(Math.max(...loads), 'ms')} (other engineers' builds and tests share the machine).`,
  '',
);
lines.push(
  `Every figure is the median of ${reps} repetition(s) (min–max in parentheses) of a ${seconds}-second run (latency: 2 s of warm-up, 4 s at 1k msgs/s, left out of the percentiles, then 5 s) of the same load generator, \`stompede bench\` (raw STOMP 1.2 frames over TCP, producers and consumers in one process, every message checked for loss, duplication and corruption), interleaved between brokers. Our broker runs in its own process (\`bench/broker-server.mjs\`, default options). Throughput is deliveries per second at the consumers, from the first send to the last delivery (the queue drains before a run ends). ⚠ marks a run that lost, duplicated or corrupted messages or got an ERROR.`,
  '',
);
const header = [
  'scenario',
  ...BROKERS.map((b) => b.name),
  ...BROKERS.filter((b) => b.id !== 'ours').map((b) => `ours / ${b.name}`),
];
lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
for (const s of ALL) {
  const row = [
    `${s.title} (${s.unit === 'KB' ? 'KB/connection' : s.unit === 'ms' ? 'p99 ms' : s.unit})`,
  ];
  for (const b of BROKERS) row.push(show(results[b.id]?.[s.id], s.unit));
  for (const b of BROKERS.filter((x) => x.id !== 'ours')) {
    const o = results.ours?.[s.id]?.median;
    const p = results[b.id]?.[s.id]?.median;
    row.push(
      o === undefined || p === undefined
        ? '—'
        : s.lowerIsBetter
          ? `${(p / o).toFixed(1)}× better`
          : `${(o / p).toFixed(2)}×`,
    );
  }
  lines.push(`| ${row.join(' | ')} |`);
}
// Deliveries per broker CPU-second: what each broker does with the CPU it gets, which load from
// other processes (and the load generator sharing the machine) distorts much less than wall-clock rates.
{
  const rated = SCENARIOS.filter((x) => x.metric === 'rateOut');
  const cpuOf = (id, sid) => {
    const runs = results[id]?.[sid]?.runs;
    const xs = (runs ?? []).map((r) => r.perCpuSecond).filter((x) => x !== undefined);
    return xs.length === 0 ? undefined : median(xs);
  };
  const head = [
    'scenario',
    ...BROKERS.map((b) => b.name),
    ...BROKERS.filter((b) => b.id !== 'ours').map((b) => `ours / ${b.name}`),
  ];
  lines.push(
    '',
    'Deliveries per CPU-second of the broker process (its user + system time from /proc during the run, every thread; RabbitMQ and ActiveMQ use both cores): the work each broker needs per message, much less sensitive to the machine being shared than the rates above.',
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
  );
  for (const sc of rated) {
    const row = [sc.title];
    for (const b of BROKERS) {
      const v = cpuOf(b.id, sc.id);
      row.push(v === undefined ? '—' : fmt(v));
    }
    for (const b of BROKERS.filter((x) => x.id !== 'ours')) {
      const o = cpuOf('ours', sc.id);
      const p = cpuOf(b.id, sc.id);
      row.push(o === undefined || p === undefined || p === 0 ? '—' : `${(o / p).toFixed(2)}×`);
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
}
if (results.ours?.latency !== undefined) {
  const lat = (id) => results[id]?.latency;
  lines.push(
    '',
    'Latency at a fixed 5,000 msgs/s (median of repetitions): ' +
      BROKERS.map((b) =>
        lat(b.id)?.median === undefined
          ? `${b.name} failed`
          : `${b.name} p50 ${fmt(
              median(
                lat(b.id)
                  .runs.filter((r) => r.p50 !== undefined)
                  .map((r) => r.p50),
              ),
              'ms',
            )} ms, p99 ${fmt(lat(b.id).median, 'ms')} ms`,
      ).join('; ') +
      '.',
  );
}
if (results.ours?.idle?.heapPerConnection !== undefined) {
  lines.push(
    '',
    `Memory: the second of two rounds of ${idleConnections} idle connections (the first pays one-time costs); our figure is the RSS delta / ${idleConnections} of a freshly started broker process, read after a forced GC (JS heap + external alone: ${fmt(results.ours.idle.heapPerConnection / 1000, 'ms')} KB per connection); RabbitMQ: beam.smp RSS delta; ActiveMQ and Artemis: the JVM's RSS delta (heap is pre-sized with -Xms, so this is pages the JVM touched, not live objects).`,
  );
}
// Targets
const peers = BROKERS.filter((b) => b.id === 'rabbitmq' || b.id === 'activemq').map((b) => b.id);
const targetLines = [];
for (const s of SCENARIOS.filter((x) => x.metric === 'rateOut')) {
  const o = results.ours?.[s.id]?.median;
  const best = Math.max(...peers.map((p) => results[p]?.[s.id]?.median ?? 0));
  if (o === undefined || !(best > 0)) continue;
  targetLines.push(
    `- ${s.title}: ${fmt(o)} vs ${TARGETS.throughputVsBestPeer}× the better peer = ${fmt(best * 3)} ${s.unit} → ${o >= best * 3 ? 'met' : `not met (${(o / best).toFixed(2)}×)`}`,
  );
}
if (results.ours?.latency !== undefined)
  targetLines.push(
    `- p99 < 1 ms at 5k msgs/s: ${fmt(results.ours.latency.median, 'ms')} ms → ${results.ours.latency.median < TARGETS.p99Ms ? 'met' : 'not met'}`,
  );
if (results.ours?.idle !== undefined)
  targetLines.push(
    `- ≤ 8 KB per idle connection: ${fmt(results.ours.idle.median / 1000, 'ms')} KB → ${results.ours.idle.median <= TARGETS.idleBytes ? 'met' : 'not met'}`,
  );
if (targetLines.length > 0) lines.push('', '## Targets', '', ...targetLines);
lines.push(
  '',
  'Earlier measurements of the peers on this machine (100-byte bodies unless noted): RabbitMQ ≈ 20.6k / 16k (client-individual) / 15k (4 KiB) msgs/s, fan-out 25k deliveries/s, p99 4 ms, 165 KB per connection; ActiveMQ ≈ 35k / 24k / 9k msgs/s, 81k deliveries/s, p99 38 ms, 28 KB per connection.',
);
lines.push(
  '',
  '## Commands',
  '',
  '```sh',
  'npm run build',
  `node bench/broker-run.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
  '# which runs, per repetition:',
  ...Object.entries(commands).map(([k, v]) => `${v}    # ${k}`),
  '```',
);
// A hand-written "## Analysis" section of an existing report is kept (it follows the figures).
let analysis = '';
if (outDir !== undefined) {
  try {
    const previous = readFileSync(join(outDir, 'broker.md'), 'utf8');
    const at = previous.indexOf('\n## Analysis');
    if (at !== -1) analysis = previous.slice(at);
  } catch {
    // no earlier report
  }
}
const report = lines.join('\n') + '\n' + analysis;
process.stdout.write('\n' + report);
if (outDir !== undefined) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'broker.md'), report);
  writeFileSync(
    join(outDir, 'broker.json'),
    JSON.stringify(
      {
        date: startedAt.toISOString(),
        machine: info,
        reps,
        seconds,
        idleConnections,
        loads,
        events,
        commands,
        results,
        earlier: EARLIER,
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${join(outDir, 'broker.md')} and broker.json`);
}
