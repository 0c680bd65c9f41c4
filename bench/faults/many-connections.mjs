// Fault: many connections at once, up to and past the broker's connection limits, while a
// watchdog client sends and receives one message every 100 ms.
//
// The broker runs with maxConnections = N + 1 (the watchdog's) and maxConnectionsPerAddress
// high enough. N raw connections open (in waves of 200), each sends CONNECT and must get
// CONNECTED; one more must be refused with an ERROR `ERR_STOMP_LIMIT_EXCEEDED`; then every
// session sends one frame with a receipt and must get its RECEIPT; then all close, and a new
// connection is served again.
//
// Pass when all of that holds and the watchdog's worst round trip stays under 2 s. Figures:
// connects per second, the broker's RSS before, at N sessions and after they closed.
//
// Usage: node bench/faults/many-connections.mjs [--long] [--seed N] [--connections N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from './lib/broker.mjs';
import { startWatchdog } from './lib/watchdog.mjs';
import { faultOptions, progress, sleep, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, { connections: { type: 'string' } });
const n = Number(opts.connections ?? (opts.long ? 10_000 : 1000));
const WAVE = 200;

const dir = mkdtempSync(join(tmpdir(), 'stompede-many-'));
const config = join(dir, 'broker.yaml');
writeFileSync(config, `maxConnections: ${n + 1}\nmaxConnectionsPerAddress: ${n + 10}\n`);

/** A raw session: its received text, and whether it closed. */
function rawSession(port) {
  const s = tcpConnect(port, '127.0.0.1');
  const peer = { socket: s, data: '', closed: false };
  s.setEncoding('latin1');
  s.on('data', (d) => (peer.data += d));
  s.on('error', () => undefined);
  s.on('close', () => (peer.closed = true));
  s.write('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0');
  return peer;
}

async function until(predicate, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function memory(broker) {
  const text = await (await fetch(`${broker.adminUrl}/metrics`)).text();
  const v = /^stompede_process_resident_memory_bytes (\S+)$/m.exec(text)?.[1];
  return Math.round(Number(v) / 1048576);
}

const figures = { connections: n };
const failures = [];
const broker = await startBroker({ admin: true, args: ['--config', config] });
try {
  figures.rssStartMiB = await memory(broker);
  const dog = await startWatchdog(broker.url, '/queue/faults.many.watch');

  const sessions = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i += WAVE) {
    const wave = Array.from({ length: Math.min(WAVE, n - i) }, () => rawSession(broker.port));
    if (!(await until(() => wave.every((p) => p.data.startsWith('CONNECTED')), 30_000))) {
      failures.push(`wave at ${i}: not every session got CONNECTED`);
      break;
    }
    sessions.push(...wave);
    progress(opts, `${sessions.length}/${n} sessions`);
  }
  figures.connectsPerSecond = Math.round((sessions.length * 1000) / (Date.now() - t0));
  figures.rssAtNMiB = await memory(broker);

  const extra = rawSession(broker.port);
  await until(() => extra.closed, 10_000);
  figures.overLimit = /\ncode:(ERR_STOMP_[A-Z_]+)\n/.exec(extra.data)?.[1] ?? 'none';
  if (figures.overLimit !== 'ERR_STOMP_LIMIT_EXCEEDED') {
    failures.push(`connection ${n + 2} was not refused with ERR_STOMP_LIMIT_EXCEEDED`);
  }

  sessions.forEach((p, i) =>
    p.socket.write(`SEND\ndestination:/queue/faults.many\nreceipt:m${i}\n\nx\0`),
  );
  const receipted = await until(
    () => sessions.every((p, i) => p.data.includes(`receipt-id:m${i}\n`)),
    60_000,
  );
  figures.receipted = sessions.filter((p, i) => p.data.includes(`receipt-id:m${i}\n`)).length;
  if (!receipted) failures.push('not every session got its RECEIPT');

  for (const p of sessions) p.socket.end();
  await until(() => sessions.every((p) => p.closed), 30_000);
  await sleep(500);
  figures.rssAfterMiB = await memory(broker);
  const again = rawSession(broker.port);
  if (!(await until(() => again.data.startsWith('CONNECTED'), 10_000))) {
    failures.push('a new session was not served after the others closed');
  }
  again.socket.destroy();

  figures.watchdog = await dog.stop();
  if (figures.watchdog.worstMs >= 2000) {
    failures.push(`the watchdog waited ${figures.watchdog.worstMs} ms`);
  }
} catch (err) {
  failures.push(String(err?.stack ?? err));
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
verdictOf(opts, figures, failures);
