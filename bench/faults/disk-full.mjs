// Fault: a full disk. The data directory is on an 8 MiB tmpfs; the broker runs as a process.
//
// A round: (1) a producer sends 16 KiB persistent messages with receipts until one is refused;
// (2) a consumer takes and acknowledges them all, with receipts; (3) a persistent SEND is taken
// again without a restart; (4) the disk is filled to the refusal again and the broker is killed
// (SIGKILL) and restarted on the nearly full disk; every receipted message is drained from it;
// (5) with --disk-free-limit 0 the disk is filled until a write meets ENOSPC, then a consumer
// acknowledges everything, each ACK with its receipt.
//
// Pass when: the refusal is the coded ERROR (ERR_STOMP_DISK_FULL) with its receipt-id and comes
// while space is left (the limit, not ENOSPC); every ACK is receipted while the disk is short;
// SENDs are taken again within 5 s of the space coming back; the restart works and loses no
// receipted message; with the limit at 0 the disk fills until a write meets ENOSPC, the reserve
// is released for it (and persistent SENDs refused), every ACK is still receipted, nothing
// receipted is lost, and SENDs are taken again once consumers freed space. Mounting needs root:
// elsewhere the verdict is skip, with the reason.
//
// Usage: node bench/faults/disk-full.mjs [--long] [--seed N] [--rounds N]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@stompede/client/node';
import { startBroker } from './lib/broker.mjs';
import { faultOptions, progress, skip, sleep, verdict, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, { rounds: { type: 'string' } });
const rounds = Number(opts.rounds ?? (opts.long ? 20 : 1));
const Q = '/queue/faults.diskfull';
const PAD = '|' + 'x'.repeat(16 * 1024);
/** The name part of a body. */
const nameOf = (text) => text.slice(0, text.indexOf('|') >>> 0);

let mount;
function mountTmpfs() {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (CI runs as root)';
  const dir = mkdtempSync(join(tmpdir(), 'stompede-fault-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    mount = dir;
    return undefined;
  } catch (err) {
    rmdirSync(dir);
    return `cannot mount a tmpfs here: ${String(err.stderr ?? err).trim()}`;
  }
}

function free() {
  const s = statfsSync(mount);
  return s.bavail * s.bsize;
}

/** Send until refused; the bodies receipted and the refusal. */
async function fillToRefusal(broker, tag) {
  const client = await connect(broker.url, { reconnect: false });
  client.on('error', () => undefined);
  const receipted = [];
  for (let i = 0; ; i++) {
    try {
      await client.send(Q, `${tag}#${i}${PAD}`, { headers: { persistent: 'true' }, receipt: true });
      receipted.push(`${tag}#${i}`);
    } catch (err) {
      client.destroy();
      return { receipted, code: err.code, text: String(err.message), free: free() };
    }
    if (i > 2000) throw new Error('never refused');
  }
}

/** Take and acknowledge `n` messages with receipts; their bodies. */
async function consume(broker, n) {
  const client = await connect(broker.url, { reconnect: false });
  const sub = await client.subscribe(Q, { ack: 'client-individual', prefetch: 64 });
  const got = [];
  for (let i = 0; i < n; i++) {
    const m = await sub.receive({ timeout: 10_000 });
    got.push(nameOf(m.text));
    await m.ack({ receipt: true });
  }
  await client.close();
  return got;
}

async function sendTakenWithin(broker, ms) {
  const started = Date.now();
  for (;;) {
    const client = await connect(broker.url, { reconnect: false });
    client.on('error', () => undefined);
    try {
      await client.send(Q, 'again', { headers: { persistent: 'true' }, receipt: true });
      await client.close();
      return Date.now() - started;
    } catch {
      client.destroy();
      if (Date.now() - started > ms) return undefined;
      await sleep(100);
    }
  }
}

const figures = {
  rounds: 0,
  refusedAt: [],
  freeAtRefusal: [],
  acksReceipted: 0,
  resumeMs: [],
  restartLost: 0,
  enospcTaken: [],
  enospcResumeMs: [],
  lost: 0,
};
const reasons = [];
let broker;
const why = mountTmpfs();
const configDir = mkdtempSync(join(tmpdir(), 'stompede-fault-diskfull-'));
const smallSegments = join(configDir, 'broker.yaml');
writeFileSync(smallSegments, 'persistence:\n  segmentSize: 1048576\n');
if (why !== undefined) {
  skip(opts, why);
} else {
  try {
    for (let round = 1; round <= rounds; round++) {
      const dataDir = join(mount, `r${round}`);
      const limit = ['--disk-free-limit', '1MiB'];
      broker = await startBroker({ dataDir, args: limit });
      // (1) refused at the limit, with the code
      const f = await fillToRefusal(broker, 'a');
      figures.refusedAt.push(f.receipted.length);
      figures.freeAtRefusal.push(f.free);
      if (!/ERR_STOMP_DISK_FULL/.test(f.text) && f.code !== 'ERR_STOMP_DISK_FULL') {
        reasons.push(`round ${round}: refused with ${f.code}: ${f.text}`);
      }
      if (f.free < 256 * 1024) reasons.push(`round ${round}: refused only at ${f.free} bytes free`);
      progress(
        opts,
        `round ${round}: ${f.receipted.length} messages taken, then ERR_STOMP_DISK_FULL with ${(f.free / 1048576).toFixed(2)} MiB free`,
      );
      // (2) every ACK receipted while short
      const got = await consume(broker, f.receipted.length);
      figures.acksReceipted += got.length;
      // (3) taken again, no restart
      const resumed = await sendTakenWithin(broker, 5000);
      if (resumed === undefined) reasons.push(`round ${round}: SENDs not taken again within 5 s`);
      else figures.resumeMs.push(resumed);
      progress(
        opts,
        `round ${round}: ${got.length} ACKs receipted; SENDs taken again after ${resumed} ms (${(free() / 1048576).toFixed(2)} MiB free)`,
      );
      await consume(broker, 1);
      // (4) fill, kill, restart on the nearly full disk, drain
      const g = await fillToRefusal(broker, 'b');
      await broker.kill();
      broker = await startBroker({ dataDir, args: limit });
      const drained = await consume(broker, g.receipted.length);
      const missing = g.receipted.filter((b) => !drained.includes(b));
      figures.restartLost += missing.length;
      if (missing.length > 0)
        reasons.push(`round ${round}: ${missing.length} receipted lost over the restart`);
      progress(
        opts,
        `round ${round}: restarted on a nearly full disk, ${drained.length} messages drained`,
      );
      await broker.stop();
      // (5) no limit: a write meets ENOSPC. Segments of 1 MiB, so that consumed ones are deleted
      // while the newest still holds messages.
      broker = await startBroker({
        dataDir,
        args: ['--disk-free-limit', '0', '--config', smallSegments],
      });
      const h = await fillToRefusal(broker, 'c');
      const released = broker.logs.some((l) => l.msg?.includes('reserve is released'));
      if (!released) reasons.push(`round ${round}: the refusal came before the disk was full`);
      if (h.code !== 'ERR_STOMP_DISK_FULL' && !/ERR_STOMP_DISK_FULL/.test(h.text)) {
        reasons.push(`round ${round}: refused with ${h.code}: ${h.text}`);
      }
      const all = await consume(broker, h.receipted.length);
      const lost = h.receipted.filter((b) => !all.includes(b));
      figures.lost += lost.length;
      if (lost.length > 0) reasons.push(`round ${round}: ${lost.length} lost after ENOSPC`);
      const again = await sendTakenWithin(broker, 5000);
      if (again === undefined) reasons.push(`round ${round}: not taken again after ENOSPC`);
      else figures.enospcResumeMs.push(again);
      figures.enospcTaken.push(h.receipted.length);
      progress(
        opts,
        `round ${round}: limit 0: ${h.receipted.length} taken until the disk was full (reserve released), all ${all.length} ACKs receipted, taken again after ${again} ms`,
      );
      await broker.stop();
      broker = undefined;
      figures.rounds++;
    }
    verdictOf(opts, figures, reasons);
  } catch (err) {
    const said = (broker?.logs ?? []).filter((l) => l.level >= 40).slice(-3);
    verdict(opts, false, figures, `${String(err?.stack ?? err)}; broker: ${JSON.stringify(said)}`);
  }
  await broker?.kill();
  try {
    execFileSync('umount', [mount], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', mount], { stdio: 'pipe' });
  }
  rmdirSync(mount);
}
rmSync(configDir, { recursive: true, force: true });
