// The benchmark report: every scenario of the benchmark issues side by side in one run — our
// broker against RabbitMQ, ActiveMQ and Artemis, our client against @stomp/stompjs and stompit,
// our parser against stompjs's, durable messaging with receipts — several repetitions each
// (interleaved between implementations by the per-area runners), then
// bench/results/report.{md,json}, plots in
// bench/results/plots/*.svg and the headline section of README.md.
//
// Usage: npm run bench:report                (build, then the full run: ≈ 15 min on 2 cores)
//        node bench/report.mjs --quick        (1 repetition, short runs; writes to --out only)
//        node bench/report.mjs --from bench/results/report.json   (render again from saved data)
//        node bench/report.mjs --help         (this text)
//        node bench/report.mjs [--reps 3] [--seconds 2] [--connections 10000] [--durable-count 5000]
//                              [--phases generator,codec,client,broker,durable] [--out DIR] [--no-readme]
// A full run (no --quick, no --phases) writes bench/results and README.md; other runs write to
// --out DIR only (or nothing). Progress (phase, repetition, ETA) on stderr, a summary on stdout.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPORT_SCENARIOS } from './lib/broker-scenarios.mjs';
import { artemisVersion } from './lib/peers.mjs';
import { BUDGET_SECONDS, DURABLE_TARGETS, reportPlan, reportSettings } from './lib/plan.mjs';
import { buildReport, headline, renderPlots, replaceHeadline } from './lib/report-build.mjs';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    'durable-count': { type: 'string' },
    phases: { type: 'string' },
    out: { type: 'string' },
    'no-readme': { type: 'boolean', default: false },
    from: { type: 'string' },
  },
});
const num = (v) => (v === undefined ? undefined : Number(v));
const settings = reportSettings({
  quick: values.quick,
  reps: num(values.reps),
  seconds: num(values.seconds),
  connections: num(values.connections),
  durableCount: num(values['durable-count']),
});
const full = !values.quick && values.phases === undefined;
const outDir = values.out ?? (full ? join(here, 'results') : undefined);
const wantedPhases = values.phases?.split(',') ?? [
  'generator',
  'codec',
  'client',
  'broker',
  'durable',
];
const plan = reportPlan(settings);
plan.phases = plan.phases.filter((p) => wantedPhases.includes(p.id));

const log = (m) => process.stderr.write(m + '\n');
const mmss = (s) => {
  const t = Math.round(s);
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
};

// ---- machine, peers ----
function version(cmd, args) {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    kernel: version('uname', ['-r']),
    rabbitmq: version('dpkg-query', ['-W', '-f=${Version}', 'rabbitmq-server']),
    activemq: version('dpkg-query', ['-W', '-f=${Version}', 'activemq']),
    artemis: artemisVersion(),
    erlang: version('dpkg-query', ['-W', '-f=${Version}', 'erlang-base']),
    java: /version "([^"]+)"/.exec(javaVersion())?.[1],
    stompjs: packageVersion('@stomp/stompjs'),
    stompit: packageVersion('stompit'),
    openFilesLimit: version('bash', ['-c', 'ulimit -n']),
  };
}

function javaVersion() {
  try {
    const r = execFileSync('bash', ['-c', 'java -version 2>&1'], { encoding: 'utf8' });
    return r;
  } catch {
    return '';
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return undefined;
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** RabbitMQ, ActiveMQ and Artemis up (interop/peers/*.sh start if not); what happened, per peer. */
async function ensurePeers() {
  const peers = { rabbitmq: 61633, activemq: 61623, artemis: 61653 };
  const status = {};
  for (const [id, port] of Object.entries(peers)) {
    if (await portOpen(port)) {
      status[id] = 'running';
      continue;
    }
    log(`report: ${id} is not up on ${port}; starting it (interop/peers/${id}.sh start)`);
    try {
      execFileSync('bash', [join(root, 'interop/peers', `${id}.sh`), 'start'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      status[id] = 'started by the report';
    } catch (err) {
      status[id] = `could not be started: ${err.message}`;
    }
  }
  return status;
}

// ---- phases ----
const startedAt = Date.now();
const loads = { before: loadavg(), during: [], after: undefined };
const loadTimer = setInterval(() => loads.during.push(loadavg()[0]), 5000);
loadTimer.unref();
let phaseIndex = 0;
let phaseStart = 0;

function eta() {
  const p = plan.phases[phaseIndex];
  const inPhase = (Date.now() - phaseStart) / 1000;
  const rest = plan.phases.slice(phaseIndex + 1).reduce((t, x) => t + x.seconds, 0);
  return Math.max(0, (p?.seconds ?? 0) - inPhase) + rest;
}

/** Run a child; its stderr lines go to ours with the phase and ETA; resolves with its stdout. */
function run(label, command, args, { raiseFileLimit = false } = {}) {
  const [cmd, argv] = raiseFileLimit
    ? ['bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', command, ...args]]
    : [command, args];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let partial = '';
    let lastError;
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      const p = plan.phases[phaseIndex];
      for (const line of lines) {
        if (line.trim() === '' || line.startsWith('npm warn')) continue;
        if (/\bError\b/.test(line)) lastError = line.trim().slice(0, 300);
        log(
          `[${phaseIndex + 1}/${plan.phases.length} ${p?.id ?? label} ${mmss((Date.now() - startedAt) / 1000)}, ETA ${mmss(eta())}] ${line}`,
        );
      }
    });
    child.on('close', (code) => resolve({ code, out, lastError }));
  });
}

const work = mkdtempSync(join(tmpdir(), 'stompede-report-'));
const commands = [];
const phaseResults = {};
/** Peers found down (and started again) between phases. */
const events = [];
const nodeCmd = (script, args) => `node ${script} ${args.join(' ')}`.trim();

async function phaseCodec() {
  const dir = join(work, 'codec');
  const args = settings.quick ? ['--quick'] : ['--reps', String(settings.reps)];
  commands.push(nodeCmd('bench/run.mjs', args));
  const r = await run('codec', process.execPath, ['bench/run.mjs', ...args, '--out', dir]);
  return readJson(join(dir, 'codec.json'), r);
}

async function phaseClient() {
  const dir = join(work, 'client');
  const args = settings.quick ? ['--quick'] : ['--reps', String(settings.reps)];
  commands.push(nodeCmd('bench/client-run.mjs', args));
  const r = await run('client', process.execPath, ['bench/client-run.mjs', ...args, '--out', dir]);
  return readJson(join(dir, 'client.json'), r);
}

async function phaseBroker() {
  const dir = join(work, 'broker');
  const args = [
    '--reps',
    String(settings.reps),
    '--seconds',
    String(settings.seconds),
    '--connections',
    String(settings.connections),
    '--scenarios',
    REPORT_SCENARIOS.join(','),
    '--relay',
  ];
  commands.push(`ulimit -n "$(ulimit -Hn)"; ${nodeCmd('bench/broker-run.mjs', args)}`);
  const r = await run('broker', process.execPath, ['bench/broker-run.mjs', ...args, '--out', dir], {
    raiseFileLimit: true,
  });
  return readJson(join(dir, 'broker.json'), r);
}

/** The load generator's own ceiling: `stompede bench --self-test` (a sink in a worker thread). */
async function phaseGenerator() {
  const runs = [];
  const args = [
    'bench',
    '--self-test',
    '-z',
    String(settings.seconds),
    '-s',
    '100',
    '--json',
    '--quiet',
  ];
  commands.push(`node packages/cli/dist/main.js ${args.join(' ')}`);
  for (let rep = 0; rep < settings.reps; rep++) {
    log(`[generator] rep ${rep + 1}/${settings.reps}`);
    const r = await run('generator', process.execPath, ['packages/cli/dist/main.js', ...args]);
    try {
      const j = JSON.parse(r.out.trim().split('\n').pop());
      runs.push({ rateIn: j.rateIn, rateOut: j.rateOut, p99: j.latencyMs.p99, ok: j.ok });
    } catch {
      runs.push({ failed: `exit ${r.code}, no summary` });
    }
  }
  return { runs };
}

async function phaseDurable() {
  const runs = [];
  for (let rep = 0; rep < settings.reps; rep++) {
    // This disk's limit for one receipted message at a time, measured beside the brokers.
    const diskArgs = ['--disk-rate', String(settings.quick ? 1 : 2)];
    if (rep === 0) commands.push(nodeCmd('bench/durable-throughput.mjs', diskArgs));
    log(`[durable] rep ${rep + 1}/${settings.reps} disk: append + fdatasync of 1 KiB`);
    const d = await run('durable', process.execPath, ['bench/durable-throughput.mjs', ...diskArgs]);
    const disk = d.out.split('\n').find((l) => l.startsWith('{'));
    runs.push(
      disk === undefined
        ? { target: 'disk', rep, failed: `exit ${d.code}, no result` }
        : { ...JSON.parse(disk), rep },
    );
    // Rotate the order per repetition, so that no target always runs first.
    const order = DURABLE_TARGETS.map(
      (_, i) => DURABLE_TARGETS[(i + rep) % DURABLE_TARGETS.length],
    );
    for (const target of order) {
      const args = ['--target', target, '--count', String(settings.durableCount)];
      if (rep === 0) commands.push(nodeCmd('bench/durable-throughput.mjs', args));
      log(`[durable] rep ${rep + 1}/${settings.reps} ${target}`);
      const r = await run('durable', process.execPath, ['bench/durable-throughput.mjs', ...args]);
      const lines = r.out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      if (lines.length === 0)
        runs.push({
          target,
          rep,
          failed: `exit ${r.code}, no result${r.lastError ? `: ${r.lastError}` : ''}`,
        });
      for (const x of lines) runs.push({ ...x, target, rep });
    }
  }
  return { runs };
}

function readJson(path, r) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {
      failed: `exit code ${r.code}; no ${relative(work, path)}${r.lastError === undefined ? '' : ` (${r.lastError})`}`,
    };
  }
}

const PHASES = {
  generator: phaseGenerator,
  codec: phaseCodec,
  client: phaseClient,
  broker: phaseBroker,
  durable: phaseDurable,
};

// --from report.json: only render (report.md, plots, README) from an earlier run's data.
if (values.from !== undefined) {
  const data = JSON.parse(readFileSync(values.from, 'utf8'));
  writeOutputs(
    data,
    values.out ?? dirname(values.from),
    values.out === undefined && !values['no-readme'],
  );
  process.exit(0);
}

// ---- run ----
const info = machine();
info.peers = await ensurePeers();
log(
  `report: ${settings.quick ? 'quick' : 'full'} run, ${settings.reps} repetition(s), ${settings.seconds}-s runs, ${settings.connections} idle connections; ${info.cores} cores, load ${loads.before.map((x) => x.toFixed(2)).join(' ')}`,
);
log('plan (estimated on a quiet 2-core machine; a busy one is slower):');
for (const p of plan.phases) log(`  ${p.id.padEnd(8)} ${mmss(p.seconds)}  ${p.title}`);
log(`  total    ${mmss(plan.total)}  (budget ${mmss(BUDGET_SECONDS)})`);
const phaseSeconds = {};
try {
  for (phaseIndex = 0; phaseIndex < plan.phases.length; phaseIndex++) {
    const p = plan.phases[phaseIndex];
    phaseStart = Date.now();
    // The peers are shared: someone may have stopped them since the last phase.
    if (p.id !== 'codec' && p.id !== 'generator') {
      for (const [peer, status] of Object.entries(await ensurePeers()))
        if (status !== 'running') events.push(`before ${p.id}: ${peer} was down, ${status}`);
    }
    log(
      `[${phaseIndex + 1}/${plan.phases.length} ${p.id}] start (planned ${mmss(p.seconds)}, ETA ${mmss(eta())})`,
    );
    phaseResults[p.id] = await PHASES[p.id]();
    phaseSeconds[p.id] = (Date.now() - phaseStart) / 1000;
    log(`[${phaseIndex + 1}/${plan.phases.length} ${p.id}] done in ${mmss(phaseSeconds[p.id])}`);
  }
} finally {
  clearInterval(loadTimer);
  rmSync(work, { recursive: true, force: true });
}
loads.after = loadavg();
const totalSeconds = (Date.now() - startedAt) / 1000;

// ---- report ----
const data = {
  date: new Date(startedAt).toISOString(),
  command: `node bench/report.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
  settings,
  plan,
  phaseSeconds,
  totalSeconds,
  machine: info,
  loads,
  commands,
  events,
  results: phaseResults,
};
if (outDir !== undefined) writeOutputs(data, outDir, full && !values['no-readme']);
else process.stdout.write(buildReport(data).summary + '\n');

/** report.md, report.json, plots/*.svg in `dir`, and the README headline when `readme`. */
function writeOutputs(data, dir, readme) {
  const { markdown, summary } = buildReport(data);
  process.stdout.write(summary + '\n');
  mkdirSync(join(dir, 'plots'), { recursive: true });
  for (const [name, svg] of Object.entries(renderPlots(data)))
    writeFileSync(join(dir, 'plots', name), svg);
  writeFileSync(join(dir, 'report.md'), markdown);
  writeFileSync(join(dir, 'report.json'), JSON.stringify(data, null, 2) + '\n');
  log(`report: wrote ${join(dir, 'report.md')}, report.json and plots/`);
  if (readme) {
    const path = join(root, 'README.md');
    writeFileSync(path, replaceHeadline(readFileSync(path, 'utf8'), headline(data)));
    log('report: README.md headline updated');
  }
}
log(
  `report: ${mmss(totalSeconds)} in all (plan ${mmss(plan.total)}, budget ${mmss(BUDGET_SECONDS)})`,
);
