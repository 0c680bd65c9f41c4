#!/usr/bin/env node
// Durable messaging benchmark: persistent SENDs of 1 KiB bodies to a queue with a RECEIPT on
// every message (one in flight: the latency of a durable write) and on every 100th (throughput
// with group commit), and the restart with N queued messages: fill N, stop the broker cleanly,
// start it, time until the first message can be consumed and until all N are consumed.
//
// One target, JSON lines on stdout (bench/report.mjs reads them):
//   node bench/durable-throughput.mjs --target ours|rabbitmq|activemq [--count N] [--restart N]
//   --count N      messages of the every-100th scenario (every-message: min(N, 2000), half that
//                  with a consumer); 0 skips them
//   --scenarios 0,1,2   only these (0: receipt on every message, 1 in flight; 1: the same with an
//                  auto-ack consumer attached; 2: a receipt on every 100th); default all
//   Ours runs in a child process in every scenario, as the peers run in their own.
//   --restart N    queue N messages, then restart the broker and drain them. Ours is stopped with
//                  SIGTERM; RabbitMQ is stopped and started with
//                  interop/peers/rabbitmq.sh, which interrupts everyone else using it; ActiveMQ
//                  runs it on a second instance of interop/peers/activemq.sh (fresh KahaDB, own
//                  port). Waits are generous (minutes) and progress goes to stderr.
// All targets side by side, writing bench/results/durable.{md,json}:
//   node bench/durable-throughput.mjs --all [--reps 3] [--count 20000] [--restart 1000000]
//                  [--targets ours,rabbitmq,activemq] [--out bench/results] [--merge]
//   --merge        replace only these targets' runs in the existing durable.json, keep the rest
// Write durable.md again from durable.json: node bench/durable-throughput.mjs --render [--out DIR]
// This disk's limit (1 KiB write + fdatasync in a loop, S seconds; one JSON line):
//   node bench/durable-throughput.mjs --disk-rate S
// Memory per queued message of ours after a restart (in-process fill, no fsync, 1 KiB bodies):
//   node bench/durable-throughput.mjs --memory 1000000
// Memory is heapUsed + arrayBuffers after GC (once the reading settles): the store's index and the
// queues' packed runs are typed arrays, outside the V8 heap.
// Internal: --serve DIR PORT runs our broker on DIR for the restart scenario.
import { execFileSync, fork, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Message, createBroker } from '@stompede/broker';
import { client } from './lib/raw-client.mjs';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

const self = fileURLToPath(import.meta.url);
const repo = join(dirname(self), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(`--${name}`);
const body = Buffer.alloc(1024, 'x');

const PEERS = {
  rabbitmq: { port: 61633, login: 'guest', passcode: 'guest', host: '/' },
  activemq: { port: 61623, login: 'admin', passcode: 'admin', host: 'localhost' },
};
const QUEUE = '/queue/bench-durable';
const RESTART_QUEUE = '/queue/bench-durable-restart';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * Send `n` persistent messages, a receipt every `every`, at most `window` receipts awaited; fail
 * when no RECEIPT comes for `timeoutMs`. `progress(i)` is called every 100,000 messages.
 */
async function produce(c, queue, n, every, window, timeoutMs = 120_000, progress = undefined) {
  const started = now();
  let outstanding = 0;
  for (let i = 1; i <= n; i++) {
    const h = {
      destination: queue,
      persistent: 'true',
      'content-type': 'application/octet-stream',
    };
    if (i % every === 0 || i === n) {
      h.receipt = String(i);
      outstanding++;
    }
    c.send('SEND', h, body);
    while (outstanding >= window || (i === n && outstanding > 0)) {
      const f = await c.next(timeoutMs);
      if (f === undefined) {
        throw new Error(
          `no RECEIPT for ${String(timeoutMs / 60_000)} minutes (message ${String(i)})`,
        );
      }
      if (f.command === 'ERROR') throw new Error(f.header('message'));
      outstanding--;
    }
    if (progress !== undefined && i % 100_000 === 0) progress(i);
  }
  return (now() - started) / 1000;
}

/** Subscribe with auto-ack and a large prefetch (each broker's own header). */
function subscribe(c, queue, id, receipt = undefined) {
  c.send('SUBSCRIBE', {
    ...(receipt === undefined ? {} : { receipt }),
    destination: queue,
    id,
    ack: 'auto',
    'prefetch-count': '1000',
    'activemq.prefetchSize': '1000',
  });
}

async function drain(c, queue, n) {
  subscribe(c, queue, 'd');
  for (let i = 0; i < n; i++) {
    const f = await c.next(120_000);
    if (f === undefined)
      throw new Error(`drain: ${String(i)} of ${String(n)} messages, then none for 2 minutes`);
  }
  c.send('UNSUBSCRIBE', { id: 'd' });
}

/** Consume whatever `queue` holds (left by an earlier, interrupted run) until it is quiet. */
async function purge(c, queue) {
  subscribe(c, queue, 'purge');
  let n = 0;
  while ((await c.next(1000)) !== undefined) n++;
  c.send('UNSUBSCRIBE', { id: 'purge' });
  return n;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

// ---- our broker in a child process (restart scenario) ----

/**
 * Heap and typed arrays (heapUsed + arrayBuffers) after GC, once the reading settles; needs
 * --expose-gc.
 */
async function usedMemory() {
  // ArrayBuffers freed by a GC are counted out only once V8 has swept them (on another thread):
  // collect and wait until two readings agree within 1 MiB.
  let last = -1;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 2; i++) globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 25));
    const m = process.memoryUsage();
    const used = m.heapUsed + m.arrayBuffers;
    if (Math.abs(used - last) < 2 ** 20 || globalThis.gc === undefined) {
      return { used, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
    }
    last = used;
  }
  const m = process.memoryUsage();
  return {
    used: m.heapUsed + m.arrayBuffers,
    heapUsed: m.heapUsed,
    arrayBuffers: m.arrayBuffers,
    rss: m.rss,
  };
}

/** Memory after GC per queued (paged-out) message of a restarted broker, in this process. */
async function memoryScenario(n) {
  if (globalThis.gc === undefined) {
    // Needs --expose-gc: run again with it.
    const child = spawn(process.execPath, ['--expose-gc', self, ...args], { stdio: 'inherit' });
    await new Promise((resolve) => child.once('exit', resolve));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'stompede-bench-memory-'));
  try {
    let broker = createBroker({ listeners: [], dataDir: dir, persistence: { fsync: false } });
    for (let i = 0; i < n; i++) {
      broker.engine.publish(
        '/',
        'bench',
        new Message(RESTART_QUEUE, ['persistent', 'true'], body),
        false,
      );
      if (i % 10000 === 9999) await new Promise((r) => setImmediate(r));
    }
    await broker.close();
    broker = undefined;
    const before = await usedMemory();
    const t0 = now();
    const restarted = createBroker({ listeners: [], dataDir: dir, persistence: { fsync: false } });
    const ms = now() - t0;
    const after = await usedMemory();
    console.log(
      JSON.stringify({
        target: 'ours',
        scenario: `memory per queued message after a restart with ${String(n)}`,
        messages: restarted.engine.stats().messages,
        recoveryMs: Math.round(ms),
        // heapUsed + arrayBuffers; the split below.
        heapMiB: Math.round((after.used - before.used) / 2 ** 20),
        heapBytesPerMessage: Math.round((after.used - before.used) / n),
        heapUsedBytesPerMessage: Math.round((after.heapUsed - before.heapUsed) / n),
        arrayBuffersBytesPerMessage: Math.round((after.arrayBuffers - before.arrayBuffers) / n),
      }),
    );
    await restarted.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function startOurs(dataDir, port) {
  const child = fork(self, ['--serve', dataDir, String(port)], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.ready));
    child.once('exit', (code) => reject(new Error(`our broker exited with ${String(code)}`)));
  });
  return { child, exited, ready };
}

function childMemory(child) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m?.mem !== undefined) {
        child.off('message', on);
        resolve(m.mem);
      }
    };
    child.on('message', on);
    child.send({ cmd: 'mem' });
  });
}

function peerScript(target) {
  return join(repo, 'interop', 'peers', `${target}.sh`);
}

const say = (line) => process.stderr.write(`[durable] ${line}\n`);

/** Run `interop/peers/<target>.sh cmd` to the end; its output goes to stderr (stdout is JSON). */
function peerCommand(target, cmd, env) {
  execFileSync('bash', [peerScript(target), cmd], { stdio: ['ignore', 2, 2], env });
}

/** Size in MiB of a directory tree (du), or undefined. */
function dirMiB(dir) {
  try {
    return Math.round(
      Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024,
    );
  } catch {
    return undefined;
  }
}

// Generous limits for the restart with a large backlog: a peer's start (journal replay), its first
// delivery (index and cursor loading) and each gap while draining may take minutes; the progress
// lines say when a wait is long.
const RESTART_RECEIPT_MS = 600_000; // fill: a RECEIPT at least every 10 minutes
const RESTART_CONNECT_MS = 1_200_000; // start → accepting STOMP: 20 minutes
const RESTART_FIRST_MS = 600_000; // subscribe → first MESSAGE: 10 minutes
const RESTART_GAP_MS = 120_000; // then at most 2 minutes between two messages

async function restartScenario(target, n) {
  const out = { target, scenario: `restart with ${String(n)} queued 1 KiB messages`, messages: n };
  let port;
  let headers;
  let ours;
  let dataDir;
  let heapEmpty = 0;
  // ActiveMQ runs as a second instance of interop/peers/activemq.sh (same configuration, its own
  // fresh KahaDB directory and port), so that the shared peer on 61623 keeps serving whoever uses
  // it and the restart does not also load what other runs left in its store.
  let peerEnv;
  if (target === 'ours') {
    dataDir = mkdtempSync(join(tmpdir(), 'stompede-bench-restart-'));
    port = await freePort();
    ours = startOurs(dataDir, port);
    await ours.ready;
    heapEmpty = (await childMemory(ours.child)).used;
    out.heapMiBEmpty = Math.round(heapEmpty / 2 ** 20);
    headers = { host: '/' };
  } else {
    const p = PEERS[target];
    port = p.port;
    headers = { host: p.host, login: p.login, passcode: p.passcode };
    if (target === 'activemq') {
      dataDir = mkdtempSync(join(tmpdir(), 'stompede-bench-activemq-'));
      port = await freePort();
      peerEnv = {
        ...process.env,
        ACTIVEMQ_INSTANCE_DIR: dataDir,
        ACTIVEMQ_STOMP_PORT: String(port),
      };
      out.instance = 'a separate instance of interop/peers/activemq.sh on a fresh KahaDB directory';
    }
  }
  let ok = false;
  try {
    if (peerEnv !== undefined) {
      say(`${target}: starting a separate instance on port ${String(port)} in ${dataDir}`);
      peerCommand(target, 'start', peerEnv);
    }
    // Fill: a receipt every 1000th message, at most 4 awaited.
    const c = await client(port, headers);
    out.leftover = await purge(c, RESTART_QUEUE);
    say(`${target}: filling ${fmt(n)} messages (a RECEIPT every 1000th, up to 10 minutes for one)`);
    const fillStart = now();
    const fillS = await produce(c, RESTART_QUEUE, n, 1000, 4, RESTART_RECEIPT_MS, (i) =>
      say(`${target}: ${fmt(i)} queued, ${fmt(i / ((now() - fillStart) / 1000))} msg/s`),
    );
    out.fillPerSecond = Math.round(n / fillS);
    c.socket.destroy();
    if (target === 'activemq') out.storeMiBAfterFill = dirMiB(join(dataDir, 'data', 'kahadb'));

    // Stop cleanly (the peer scripts return once the process has exited).
    say(`${target}: stopping`);
    let t = now();
    if (ours !== undefined) {
      ours.child.kill('SIGTERM');
      await ours.exited;
      out.storeMiBAfterFill = dirMiB(dataDir);
    } else {
      peerCommand(target, 'stop', peerEnv);
    }
    out.stopMs = Math.round(now() - t);

    // Start, and consume as soon as the broker lets us.
    say(`${target}: stopped in ${fmt(out.stopMs)} ms; starting (waiting up to 20 minutes)`);
    t = now();
    let starter;
    if (ours !== undefined) {
      ours = startOurs(dataDir, port);
      ours.ready.catch(() => undefined);
    } else {
      const proc = spawn('bash', [peerScript(target), 'start'], {
        stdio: ['ignore', 2, 2],
        env: peerEnv,
      });
      starter = new Promise((resolve) => proc.once('exit', resolve));
    }
    let d;
    let nextNote = 60_000;
    for (;;) {
      try {
        d = await client(port, headers);
        break;
      } catch {
        const waited = now() - t;
        if (waited > RESTART_CONNECT_MS) {
          throw new Error(`${target} did not accept STOMP within 20 minutes of its start`);
        }
        if (waited > nextNote) {
          say(`${target}: not accepting STOMP yet, ${fmt(waited / 1000)} s after the start`);
          nextNote += 60_000;
        }
        await sleep(50);
      }
    }
    out.connectMs = Math.round(now() - t);
    say(`${target}: connected ${fmt(out.connectMs)} ms after the start; draining`);
    if (ours !== undefined) {
      const ready = await ours.ready;
      out.recoveryMs = Math.round(ready.recoveredMs);
      const mem = await childMemory(ours.child);
      // heapUsed + arrayBuffers (the packed index and runs are typed arrays).
      out.heapMiBAfterRecovery = Math.round(mem.used / 2 ** 20);
      out.arrayBuffersMiBAfterRecovery = Math.round(mem.arrayBuffers / 2 ** 20);
      out.rssMiBAfterRecovery = Math.round(mem.rss / 2 ** 20);
      // Above the heap of the same broker started empty.
      out.heapBytesPerMessage = Math.round((mem.used - heapEmpty) / n);
    }
    subscribe(d, RESTART_QUEUE, 'r');
    let got = 0;
    for (;;) {
      const f = await d.next(got === 0 ? RESTART_FIRST_MS : RESTART_GAP_MS);
      if (f === undefined) {
        // Nothing for that long: the rest is lost (reported by `consumed`).
        say(
          `${target}: no message for ${got === 0 ? '10' : '2'} minutes after ${fmt(got)}; giving up`,
        );
        break;
      }
      if (f.command === 'ERROR') throw new Error(`drain: ERROR ${f.header('message') ?? ''}`);
      if (f.command !== 'MESSAGE') continue;
      if (got === 0) out.firstMessageMs = Math.round(now() - t);
      if (++got === n) break;
      if (got % 100_000 === 0)
        say(`${target}: ${fmt(got)} consumed, ${fmt((now() - t) / 1000)} s after the start`);
    }
    if (got === n) out.allConsumedMs = Math.round(now() - t);
    out.consumed = got;
    say(
      `${target}: ${fmt(got)} of ${fmt(n)} consumed, ${fmt((now() - t) / 1000)} s after the start`,
    );
    d.socket.destroy();
    if (starter !== undefined) await starter;
    ok = true;
  } finally {
    if (ours !== undefined) {
      ours.child.kill('SIGTERM');
      await ours.exited;
    }
    if (peerEnv !== undefined) {
      try {
        peerCommand(target, 'stop', peerEnv);
      } catch (err) {
        say(`${target}: stopping the separate instance failed: ${String(err)}`);
      }
    }
    if (peerEnv !== undefined && !ok) {
      // Keep the broker's logs of a failed run (the instance directory is removed): its stdout
      // (JVM errors, warnings) and log4j's file.
      const log = `${dataDir}.log`;
      const text = ['activemq.log', join('data', 'activemq.log')]
        .map((f) => join(dataDir, f))
        .filter((f) => existsSync(f))
        .map((f) => `==> ${f}\n${readFileSync(f, 'utf8')}`)
        .join('\n');
      if (text !== '') {
        writeFileSync(log, text);
        say(`${target}: its log: ${log}`);
      }
    }
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
  return out;
}

async function runTarget(target) {
  const count = Number(opt('count', '5000'));
  const restartCount = Number(opt('restart', '0'));
  const results = [];
  if (count > 0) {
    let ours;
    let dir;
    let port;
    let headers = { host: '/' };
    if (target === 'ours') {
      // In its own process, like the peers: in this one it would share an event loop (and a
      // core) with the load generator, and every round trip would wait for both.
      dir = mkdtempSync(join(tmpdir(), 'stompede-bench-durable-'));
      port = await freePort();
      ours = startOurs(dir, port);
      await ours.ready;
    } else {
      const p = PEERS[target];
      port = p.port;
      headers = { host: p.host, login: p.login, passcode: p.passcode };
    }
    const c = await client(port, headers);
    const one = Math.min(count, 2000);
    const only = opt('scenarios')?.split(',').map(Number);
    for (const [label, every, window, n, consumer] of [
      [SCENARIOS[0], 1, 1, one, false],
      // No disk in the way for ours (see docs/durability.md): half as many suffice.
      [SCENARIOS[1], 1, 1, Math.ceil(one / 2), true],
      [SCENARIOS[2], 100, 4, count, false],
    ].filter((_, i) => only === undefined || only.includes(i))) {
      say(`${target}: ${label}, ${fmt(n)} messages`);
      // The consumer (auto ack) is on its own connection, subscribed before the first SEND.
      const taker = consumer ? await client(port, headers) : undefined;
      let taken;
      if (taker !== undefined) {
        subscribe(taker, QUEUE, 'taker', 'taker');
        // Its RECEIPT: the subscription is in place before the first SEND.
        if ((await taker.next(30_000))?.command !== 'RECEIPT')
          throw new Error('no SUBSCRIBE receipt');
        taken = (async () => {
          for (let i = 0; i < n; i++) {
            if ((await taker.next(120_000)) === undefined)
              throw new Error(`consumer: ${String(i)} of ${String(n)} messages`);
          }
        })();
      }
      const s = await produce(c, QUEUE, n, every, window);
      results.push({
        target,
        scenario: label,
        messages: n,
        seconds: s,
        perSecond: Math.round(n / s),
      });
      say(`${target}: ${label}: ${fmt(Math.round(n / s))} msgs/s`);
      if (taker !== undefined) {
        await taken;
        taker.socket.destroy();
      } else {
        await drain(c, QUEUE, n);
      }
    }
    c.socket.destroy();
    if (ours !== undefined) {
      ours.child.kill('SIGTERM');
      await ours.exited;
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
  for (const r of results) console.log(JSON.stringify(r));
  if (restartCount > 0) {
    const scenario = `restart with ${String(restartCount)} queued 1 KiB messages`;
    try {
      console.log(JSON.stringify(await restartScenario(target, restartCount)));
    } catch (err) {
      // A line for the results (their "Failed runs"), then the usual exit status of a failure.
      console.log(
        JSON.stringify({ target, scenario, messages: restartCount, failed: String(err) }),
      );
      throw err;
    }
  }
}

// ---- all targets, side by side ----

function fdatasyncCost() {
  const path = join(tmpdir(), `stompede-fsync-probe-${String(process.pid)}`);
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1024, 'x');
  const t = [];
  try {
    for (let i = 0; i < 200; i++) {
      const a = now();
      writeSync(fd, buf);
      fdatasyncSync(fd);
      t.push(now() - a);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

/**
 * This disk's limit for a producer that waits for each message to be durable: 1 KiB written and
 * fdatasync'd, again and again, for `seconds` (half appending to a growing file, half writing
 * over preallocated blocks, as the journal does); the better of the two, per second.
 */
function diskRate(seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-disk-rate-'));
  const buf = Buffer.alloc(1024, 'x');
  const rate = (preallocated) => {
    const fd = openSync(join(dir, preallocated ? 'pre' : 'append'), 'w');
    try {
      if (preallocated) {
        writeSync(fd, Buffer.alloc(16 * 1024 * 1024));
        fdatasyncSync(fd);
      }
      let n = 0;
      const t0 = now();
      while (now() - t0 < (seconds * 1000) / 2) {
        writeSync(fd, buf, 0, buf.length, n * buf.length);
        fdatasyncSync(fd);
        n++;
      }
      return Math.round((n * 1000) / (now() - t0));
    } finally {
      closeSync(fd);
    }
  };
  try {
    const appending = rate(false);
    const overwriting = rate(true);
    say(
      `disk (${dir}): append + fdatasync ${fmt(appending)}/s, over preallocated ${fmt(overwriting)}/s`,
    );
    return {
      target: 'disk',
      scenario: DISK_SCENARIO,
      perSecond: Math.max(appending, overwriting),
      appending,
      overwriting,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function version(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' });
  } catch {
    return 'unknown';
  }
}

function stats(values) {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v.at(-1), n: v.length };
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const cell = (s, unit = '') =>
  s === undefined
    ? 'not measured'
    : `${fmt(s.median)}${unit}` + (s.n > 1 ? ` (${fmt(s.min)}–${fmt(s.max)})` : '');

async function runAll() {
  const reps = Number(opt('reps', '3'));
  const count = Number(opt('count', '20000'));
  const restart = Number(opt('restart', '0'));
  const targets = opt('targets', 'ours,rabbitmq,activemq').split(',');
  const outDir = opt('out', join(repo, 'bench', 'results'));
  const started = new Date().toISOString();
  const machine = {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    rabbitmq: version('rabbitmq-server'),
    activemq: version('activemq'),
    fdatasync1KiBMs: Number(fdatasyncCost().toFixed(3)),
    loadAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
  const commands = [];
  const runs = [];
  for (let rep = 0; rep < reps; rep++) {
    // Rotate the order so that no target always runs first.
    const order = targets.map((_, i) => targets[(i + rep) % targets.length]);
    for (const target of order) {
      // The restart (which stops the peer) only once per target: it is long and disruptive.
      const a = ['--target', target, '--count', String(count)];
      if (restart > 0 && rep === 0) a.push('--restart', String(restart));
      const cmd = `node ${relative(repo, self)} ${a.join(' ')}`;
      if (rep === 0) commands.push(cmd);
      say(`rep ${String(rep + 1)}/${String(reps)}: ${cmd}`);
      // A peer found down (a long session may lose one) is started again rather than recorded
      // as a failed run: start is idempotent.
      if (target !== 'ours') {
        try {
          peerCommand(target, 'start');
        } catch (err) {
          say(`${target}: could not be started (${err.message}); its run will fail`);
        }
      }
      const r = await new Promise((resolve) => {
        const child = spawn(process.execPath, [self, ...a], {
          cwd: repo,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let text = '';
        child.stdout.on('data', (c) => (text += c));
        child.once('exit', (code) => resolve({ code, text }));
      });
      const lines = r.text.split('\n').filter((l) => l.startsWith('{'));
      if (lines.length === 0) runs.push({ target, rep, failed: `exit ${String(r.code)}` });
      for (const l of lines) runs.push({ ...JSON.parse(l), rep });
    }
  }
  machine.loadAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const invocation =
    `node ${relative(repo, self)} --all --reps ${String(reps)} --count ${String(count)}` +
    (restart > 0 ? ` --restart ${String(restart)}` : '') +
    (opt('targets') !== undefined ? ` --targets ${targets.join(',')}` : '') +
    (flag('merge') ? ' --merge' : '');
  const session = {
    started,
    targets,
    invocation,
    commands,
    reps,
    count,
    restart,
    loadAtStart: machine.loadAtStart,
    loadAtEnd: machine.loadAtEnd,
    fdatasync1KiBMs: machine.fdatasync1KiBMs,
  };
  let sessions = [session];
  let allRuns = runs.map((r) => ({ ...r, session: started }));
  const jsonPath = join(outDir, 'durable.json');
  if (flag('merge') && existsSync(jsonPath)) {
    // Replace these targets' runs in the recorded results, keep the other targets' runs.
    const old = JSON.parse(readFileSync(jsonPath, 'utf8'));
    const oldSessions = old.sessions ?? [
      {
        started: old.started,
        targets: [...new Set(old.runs.map((r) => r.target))],
        invocation:
          `node ${relative(repo, self)} --all --reps ${String(old.reps)} --count ${String(old.count)}` +
          (old.restart > 0 ? ` --restart ${String(old.restart)}` : ''),
        commands: old.commands,
        reps: old.reps,
        count: old.count,
        restart: old.restart,
        loadAtStart: old.machine.loadAtStart,
        loadAtEnd: old.machine.loadAtEnd,
        fdatasync1KiBMs: old.machine.fdatasync1KiBMs,
      },
    ];
    const kept = old.runs
      .filter((r) => !targets.includes(r.target))
      .map((r) => ({ ...r, session: r.session ?? old.started }));
    sessions = oldSessions
      .map((x) => ({ ...x, targets: x.targets.filter((t) => !targets.includes(t)) }))
      .filter((x) => x.targets.length > 0)
      .concat(sessions);
    allRuns = kept.concat(allRuns);
  }
  const result = { started, machine, sessions, summary: summarize(allRuns), runs: allRuns };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(outDir, 'durable.md'), markdown(result));
  say(`wrote ${join(outDir, 'durable.md')} and durable.json`);
}

/** The label of the disk's own rate (the limit of SCENARIOS[0]). */
const DISK_SCENARIO = 'this disk: 1 KiB write + fdatasync, one at a time (limit)';
const SCENARIOS = [
  'receipt on every message, 1 in flight',
  'receipt on every message, 1 in flight, a consumer attached',
  'receipt on every 100th message',
];
const shownTargets = (runs) =>
  ['ours', 'rabbitmq', 'activemq'].filter((t) => runs.some((r) => r.target === t));

function summarize(runs) {
  const summary = {};
  for (const s of SCENARIOS) {
    summary[s] = {};
    for (const t of shownTargets(runs)) {
      summary[s][t] = stats(
        runs.filter((r) => r.target === t && r.scenario === s).map((r) => r.perSecond),
      );
    }
  }
  return summary;
}

/** --render: write durable.md again from durable.json (after an edit of this script's text). */
function render() {
  const outDir = opt('out', join(repo, 'bench', 'results'));
  const result = JSON.parse(readFileSync(join(outDir, 'durable.json'), 'utf8'));
  writeFileSync(join(outDir, 'durable.md'), markdown(result));
  say(`wrote ${join(outDir, 'durable.md')} from durable.json`);
}

const NAMES = {
  ours: 'stompede (journal, fsync)',
  rabbitmq: 'RabbitMQ',
  activemq: 'ActiveMQ (KahaDB)',
};

const utc = (iso) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

function markdown(r) {
  const m = r.machine;
  const targets = shownTargets(r.runs);
  const scenarios = SCENARIOS;
  const restartRows = r.runs.filter((x) => x.scenario?.startsWith('restart'));
  const fsync = (x) => `one fdatasync of 1 KiB ${String(x.fdatasync1KiBMs)} ms (median of 200)`;
  const L = [];
  L.push('# Durable messaging: persistent SEND throughput and restart time', '');
  if (r.sessions.length === 1) {
    const x = r.sessions[0];
    L.push(
      `Generated by \`${x.invocation}\` on ${utc(x.started)}; load average ` +
        `${x.loadAtStart.join(' ')} at the start, ${x.loadAtEnd.join(' ')} at the end; ${fsync(x)}.`,
    );
  } else {
    L.push('Generated in several runs, each measuring some of the targets (`--merge`):', '');
    for (const x of r.sessions) {
      L.push(
        `- ${x.targets.map((t) => NAMES[t] ?? t).join(', ')}: \`${x.invocation}\` on ${utc(x.started)}; ` +
          `load average ${x.loadAtStart.join(' ')} at the start, ${x.loadAtEnd.join(' ')} at the end; ` +
          `${fsync(x)}.`,
      );
    }
  }
  L.push(
    '',
    `Machine: ${m.cpu ?? '?'}, ${String(m.cores)} cores, ${String(m.memoryGiB)} GiB; Node ${m.node}; ` +
      `RabbitMQ ${m.rabbitmq} (STOMP 61633, classic durable queue via \`/queue/…\`); ActiveMQ ${m.activemq} ` +
      '(KahaDB; configuration below).',
    '',
    'One producer, 1 KiB bodies, `persistent:true` to a queue, drained between scenarios; every broker ' +
      'runs on this machine. msgs/s, median (min–max) of the repetitions, whose order of targets rotates.',
    '',
  );
  L.push(`| scenario | ${targets.map((t) => NAMES[t] ?? t).join(' | ')} |`);
  L.push(`| --- | ${targets.map(() => '---:').join(' | ')} |`);
  for (const s of scenarios) {
    L.push(`| ${s} | ${targets.map((t) => cell(r.summary[s][t], ' msg/s')).join(' | ')} |`);
  }
  L.push('');
  if (restartRows.length > 0) {
    const sizes = [...new Set(restartRows.map((x) => x.messages))];
    L.push(
      `## Restart with ${sizes.map((n) => fmt(n)).join(' / ')} queued messages`,
      '',
      'Filled over STOMP (a receipt on every 1000th message), stopped cleanly (ours: SIGTERM; the peers: ' +
        '`interop/peers/<peer>.sh stop`, which returns once the process has exited), started again (ours: ' +
        'a new process on the same data directory; the peers: `interop/peers/<peer>.sh start`), then ' +
        'drained by one auto-ack subscriber. Times from the start command: connected, first MESSAGE, all ' +
        'messages consumed. ActiveMQ runs this as a second instance of `interop/peers/activemq.sh` ' +
        '(same configuration, a fresh KahaDB directory, its own port); RabbitMQ is the shared peer. ' +
        'One run per target.',
      '',
      '| | ' + targets.map((t) => NAMES[t] ?? t).join(' | ') + ' |',
      '| --- | ' + targets.map(() => '---:').join(' | ') + ' |',
    );
    const row = (label, key, unit = ' ms') => {
      const cells = targets.map((t) => {
        const x = restartRows.find((q) => q.target === t);
        return x?.[key] === undefined ? '—' : `${fmt(x[key])}${unit}`;
      });
      if (cells.some((c) => c !== '—')) L.push(`| ${label} | ${cells.join(' | ')} |`);
    };
    row('messages queued', 'messages', '');
    row('fill rate', 'fillPerSecond', ' msg/s');
    row('store on disk after the fill', 'storeMiBAfterFill', ' MiB');
    row('clean stop', 'stopMs');
    row('start → connected', 'connectMs');
    row('start → first message', 'firstMessageMs');
    row('start → all consumed', 'allConsumedMs');
    row('messages consumed', 'consumed', '');
    row('ours: recovery (journal read)', 'recoveryMs');
    row('ours: heap + typed arrays after recovery (after GC)', 'heapMiBAfterRecovery', ' MiB');
    row('ours: heap + typed-array bytes per queued message', 'heapBytesPerMessage', ' B');
    L.push('');
  } else {
    L.push('Restart with queued messages: not measured in this run (`--restart N`).', '');
  }
  const failed = r.runs.filter((x) => x.failed !== undefined);
  if (failed.length > 0) {
    L.push(
      'Failed runs: ' +
        failed.map((x) => `${x.target} rep ${String(x.rep + 1)} (${x.failed})`).join('; '),
      '',
    );
  }
  if (targets.includes('activemq')) {
    L.push(
      '## ActiveMQ configuration',
      '',
      '`interop/peers/activemq.sh` (the one configuration the interop tests and the benchmarks use): ' +
        'JVM heap 2 GiB (`-Xms2G -Xmx2G`); `systemUsage` memoryUsage `percentOfJvmHeap="70"`, storeUsage ' +
        "40 GB, tempUsage 10 GB (upstream's `conf/activemq.xml` has the same shape with 100 GB / 50 GB, " +
        'more than this disk has free); KahaDB at its defaults (journal fsync on every write batch, ' +
        '`enableJournalDiskSyncs`), the default store cursor and producer flow control; empty queues ' +
        'unused for 5 minutes are deleted (`gcInactiveDestinations`).',
      '',
      "Why: with the configuration this script first ran against (Debian's `-Xmx1G`, no " +
        '`systemUsage`), a fill of 1,000,000 messages into the shared peer stalled at 276,000 (no ' +
        "RECEIPT for 2 minutes) and the next run got `ERROR ShutdownBrokerInitiated` (what ActiveMQ's " +
        'DefaultIOExceptionHandler sends when the store reports an I/O error and it stops the broker); ' +
        'the broker had logged nothing (below), so the error itself is unknown. Without ' +
        '`systemUsage`, ActiveMQ 5.17 sets memoryUsage to 1 GiB and lowers it to 70% of the heap only ' +
        'when the heap is smaller, so with a 1 GiB heap the limit was the whole heap, and the store ' +
        'cursor caches queued persistent messages until 70% of that limit. Repeated on a separate ' +
        "instance with that configuration and a copy of the shared peer's store (~350 MiB, thousands " +
        'of leftover test queues, ~150 MiB of heap at start), the 1,000,000-message fill did complete ' +
        '(8,900 msg/s), but with 367,302 messages cached and 725 MiB of the 1 GiB heap live after a ' +
        'full GC (`jcmd GC.class_histogram`; ~2 KiB of heap per queued 1 KiB STOMP message). The ' +
        'stall did not recur there; the likeliest cause is the heap running short in a broker that ' +
        'had run for hours beside the test suites. The configuration above leaves the heap a margin (the cache stops at ~1 GiB ' +
        'of a 2 GiB heap) and purges the leftover queues. ' +
        "Debian's package also ships only a log4j2 configuration while its ActiveMQ logs through " +
        'log4j 1.2, so the broker logged nothing; the script now writes a `log4j.properties` (log: ' +
        '`<instance>/data/activemq.log`).',
      '',
    );
  }
  L.push(
    'Commands (first repetition):',
    '',
    ...r.sessions
      .flatMap((x) => x.commands.filter((c) => x.targets.some((t) => c.includes(`--target ${t} `))))
      .map((c) => `- \`${c}\``),
    '',
  );
  L.push(
    'Raw runs: [durable.json](durable.json). How the journal works and why: [docs/durability.md](../../docs/durability.md).',
    '',
  );
  return L.join('\n');
}

// ---- main (last: everything above is defined by now) ----

if (flag('serve')) {
  const i = args.indexOf('--serve');
  const dataDir = args[i + 1];
  const port = Number(args[i + 2]);
  const t0 = now();
  const broker = createBroker({
    listeners: [{ protocol: 'tcp', host: '127.0.0.1', port }],
    dataDir,
  });
  const recoveredMs = now() - t0;
  await broker.listen();
  process.send?.({ ready: { recoveredMs, messages: broker.engine.stats().messages } });
  process.on('message', (msg) => {
    if (msg?.cmd === 'mem') {
      void usedMemory().then((mem) => process.send?.({ mem }));
    }
  });
  process.on('SIGTERM', () => {
    void broker.close().then(() => process.exit(0));
  });
} else if (flag('disk-rate')) {
  console.log(JSON.stringify(diskRate(Number(opt('disk-rate', '2')))));
} else if (flag('memory')) {
  await memoryScenario(Number(opt('memory', '1000000')));
} else if (flag('render')) {
  render();
} else if (flag('all')) {
  await runAll();
} else {
  await runTarget(opt('target', 'ours'));
}
