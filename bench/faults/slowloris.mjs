// Fault: peers that hold a connection open by never finishing a frame (slowloris), and peers that
// park most of a large frame and stop (issue 19.4, 19.5).
//
// Three phases against one broker (connectTimeout and frameTimeout 2 s, unfinished frames bounded
// to 32 MiB broker-wide), while a watchdog client sends and receives one message every 100 ms:
//   1. before CONNECT: connections trickle a CONNECT frame one byte every 200 ms;
//   2. after CONNECT (heart-beat 0,0, so no heart-beat ever drops them): connections trickle a
//      SEND one byte every 200 ms;
//   3. unfinished frames: connections each send the head and 4 MiB of an 8 MiB body, and stop.
//
// Pass when: every phase-1 connection is dropped, and every phase-2 connection gets an ERROR
// `ERR_STOMP_TIMEOUT`, within its timeout plus 3 s; in phase 3 the connections that took the total
// past 32 MiB get `ERR_STOMP_LIMIT_EXCEEDED` (so fewer than 8 × 4 MiB are held at once; a holder
// may also run out of frameTimeout first) and, once the holders close, seven new connections may
// hold 4 MiB each again (their bytes were given back); the watchdog's worst round trip stays
// under 2 s throughout. The broker's RSS at start, while holding and at the end is reported.
//
// Usage: node bench/faults/slowloris.mjs [--long] [--seed N] [--connections N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from './lib/broker.mjs';
import { startWatchdog } from './lib/watchdog.mjs';
import { faultOptions, progress, random, sleep, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, { connections: { type: 'string' } });
const n = Number(opts.connections ?? (opts.long ? 1000 : 40));
const rnd = random(opts.seed);
const TIMEOUT_MS = 2000;
const SLACK_MS = 3000;
const BUDGET = 32 * 1024 * 1024;
const PART = 4 * 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'stompede-slowloris-'));
const config = join(dir, 'broker.yaml');
writeFileSync(
  config,
  [
    `connectTimeout: ${TIMEOUT_MS}`,
    `frameTimeout: ${TIMEOUT_MS}`,
    `maxPartialFrameBytes: ${BUDGET}`,
    'maxPartialFrameBytesPerAddress: 0',
    `maxConnectionsPerAddress: ${n * 2 + 100}`,
    '',
  ].join('\n'),
);

/** The broker's resident and V8 heap memory in MiB (its admin metrics). */
async function memory() {
  const text = await (await fetch(`${broker.adminUrl}/metrics`)).text();
  const mib = (name) =>
    Math.round(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) / 1048576);
  return {
    rssMiB: mib('stompede_process_resident_memory_bytes'),
    heapMiB: mib('stompede_process_heap_used_bytes'),
  };
}

/** A raw socket that records what it received and when it closed. */
function rawPeer(port) {
  const s = tcpConnect(port, '127.0.0.1');
  const peer = { socket: s, data: '', closedAt: undefined, opened: Date.now() };
  s.setEncoding('latin1');
  s.on('data', (d) => (peer.data += d));
  s.on('error', () => undefined);
  s.on('close', () => (peer.closedAt = Date.now()));
  return peer;
}

/** Write `text` one byte every `everyMs` until the socket closes or `stop()` says so. */
async function trickle(peer, text, everyMs, stop) {
  for (let i = 0; peer.closedAt === undefined && !stop(); i = (i + 1) % text.length) {
    peer.socket.write(text[i]);
    await sleep(everyMs);
  }
}

async function until(predicate, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

const codeOf = (data) => /\ncode:(ERR_STOMP_[A-Z_]+)\n/.exec(data)?.[1];

const figures = { connections: n };
const failures = [];
const broker = await startBroker({ admin: true, args: ['--config', config] });
try {
  figures.memoryStart = await memory();
  const dog = await startWatchdog(broker.url, '/queue/faults.slowloris.watch');

  // 1. Before CONNECT.
  progress(opts, `phase 1: ${n} connections trickle a CONNECT`);
  const before = Array.from({ length: n }, () => rawPeer(broker.port));
  const connectText = 'CONNECT\naccept-version:1.2\nhost:/\nx-pad:' + 'p'.repeat(200);
  let stop1 = false;
  const t1 = before.map((p) => trickle(p, connectText, 200, () => stop1));
  await until(() => before.every((p) => p.closedAt !== undefined), TIMEOUT_MS + SLACK_MS);
  stop1 = true;
  await Promise.all(t1);
  const held1 = before.map((p) => (p.closedAt ?? Infinity) - p.opened);
  figures.beforeConnect = {
    dropped: held1.filter((ms) => ms <= TIMEOUT_MS + SLACK_MS).length,
    longestHeldMs: Math.max(...held1),
  };
  if (figures.beforeConnect.dropped !== n) failures.push('phase 1: not every connection dropped');
  for (const p of before) p.socket.destroy();

  // 2. After CONNECT, heart-beats off.
  progress(opts, `phase 2: ${n} connected sessions trickle a SEND`);
  const after = Array.from({ length: n }, () => rawPeer(broker.port));
  for (const p of after)
    p.socket.write('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0');
  await until(() => after.every((p) => p.data.startsWith('CONNECTED')), 10_000);
  const sendText = `SEND\ndestination:/queue/faults.slowloris\nreceipt:r\n\n${'b'.repeat(1000)}`;
  let stop2 = false;
  // Staggered starts (seeded), so the drops do not all fall in one tick.
  const t2 = after.map(async (p) => {
    await sleep(rnd.int(200));
    p.trickleFrom = Date.now();
    await trickle(p, sendText, 200, () => stop2);
  });
  await until(() => after.every((p) => p.closedAt !== undefined), TIMEOUT_MS + SLACK_MS + 200);
  stop2 = true;
  await Promise.all(t2);
  const held2 = after.map((p) => (p.closedAt ?? Infinity) - (p.trickleFrom ?? p.opened));
  const codes2 = after.map((p) => codeOf(p.data));
  figures.afterConnect = {
    timedOut: codes2.filter((c) => c === 'ERR_STOMP_TIMEOUT').length,
    longestHeldMs: Math.max(...held2),
  };
  if (
    figures.afterConnect.timedOut !== n ||
    figures.afterConnect.longestHeldMs > TIMEOUT_MS + SLACK_MS
  ) {
    failures.push('phase 2: not every trickling session got ERR_STOMP_TIMEOUT in time');
  }
  for (const p of after) p.socket.destroy();

  // 3. Unfinished frames.
  const holders = Math.min(n, 20);
  progress(opts, `phase 3: ${holders} connections each park 4 MiB of an 8 MiB body`);
  const head = `SEND\ndestination:/queue/faults.slowloris.big\ncontent-length:${2 * PART}\n\n`;
  const part = Buffer.alloc(PART, 120);
  /** `count` connected sessions, each with the head and half the body of a SEND written. */
  async function park(count) {
    const list = [];
    for (let i = 0; i < count; i++) {
      const p = rawPeer(broker.port);
      p.socket.write('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0');
      await until(() => p.data.startsWith('CONNECTED'), 10_000);
      p.socket.write(head);
      p.socket.write(part);
      list.push(p);
    }
    return list;
  }
  const parked = await park(holders);
  await until(
    () => parked.every((p) => p.closedAt !== undefined || p.socket.writableLength === 0),
    10_000,
  );
  await sleep(300);
  figures.memoryParked = await memory();
  // Each holder is still holding, was refused for the budget, or ran out of frameTimeout (the
  // first ones may, on a slow machine, before the last ones are set up).
  const outcome = parked.map(
    (p) => codeOf(p.data) ?? (p.closedAt === undefined ? 'holding' : 'closed'),
  );
  const count = (what) => outcome.filter((o) => o === what).length;
  figures.unfinished = {
    holders,
    holding: count('holding'),
    refused: count('ERR_STOMP_LIMIT_EXCEEDED'),
    timedOut: count('ERR_STOMP_TIMEOUT'),
  };
  const u = figures.unfinished;
  if (u.holding + u.refused + u.timedOut !== holders) {
    failures.push(`phase 3: unexpected outcomes ${JSON.stringify(outcome)}`);
  }
  if (u.holding * PART > BUDGET || ((holders - u.timedOut) * PART > BUDGET && u.refused === 0)) {
    failures.push('phase 3: unfinished frames were not bounded by maxPartialFrameBytes');
  }
  for (const p of parked) p.socket.destroy();
  await until(() => parked.every((p) => p.closedAt !== undefined), 5000);
  await sleep(300);
  // Their bytes were given back: a new connection may park 4 MiB × 8 again.
  const again = await park(BUDGET / PART - 1);
  await sleep(500);
  const refusedAgain = again.filter((p) => codeOf(p.data) !== undefined).length;
  figures.unfinished.refusedAfterRelease = refusedAgain;
  if (refusedAgain > 0) failures.push('phase 3: bytes of closed connections were not given back');
  for (const p of again) p.socket.destroy();

  figures.watchdog = await dog.stop();
  if (figures.watchdog.worstMs >= 2000) {
    failures.push(`the watchdog waited ${figures.watchdog.worstMs} ms`);
  }
  await sleep(500);
  figures.memoryEnd = await memory();
} catch (err) {
  failures.push(String(err?.stack ?? err));
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
verdictOf(opts, figures, failures);
