// Fault: a live broker fed random and mutated frames, in random splits, by many connections at
// once, while a watchdog client sends and receives one message every 100 ms.
//
// Each fuzz connection (seeded) sends a CONNECT most of the time, then a stream of frames built
// from every client command with plausible headers and bodies, mutated (bytes flipped, inserted,
// deleted, runs duplicated) or replaced by random bytes, written in random-sized pieces with
// short pauses; then it closes.
//
// Pass when: the broker process stays up and answers the watchdog (worst round trip under 2 s);
// every ERROR a fuzz connection receives has an `ERR_STOMP_*` code header (bad input always gets
// a clear, typed error); the broker logs nothing at error level; after the run the broker serves
// a fresh session. Figures: connections, bytes and frames sent, ERRORs by code.
//
// Usage: node bench/faults/fuzz.mjs [--long] [--seed N] [--connections N]
import { connect as tcpConnect } from 'node:net';
import { connect } from '@stompede/client/node';
import { startBroker } from './lib/broker.mjs';
import { startWatchdog } from './lib/watchdog.mjs';
import { faultOptions, progress, random, sleep, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, { connections: { type: 'string' } });
const total = Number(opts.connections ?? (opts.long ? 20_000 : 300));
const parallel = 20;

const COMMANDS = ['SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT'];
const HEADERS = [
  [
    'destination',
    (r) => pick(r, ['/queue/fz', '/topic/fz', '/queue/fz.' + r.int(5), 'nowhere', '']),
  ],
  ['id', (r) => String(r.int(4))],
  ['ack', (r) => pick(r, ['auto', 'client', 'client-individual', 'x'])],
  ['receipt', (r) => 'r' + r.int(100)],
  ['transaction', (r) => 't' + r.int(3)],
  ['content-length', (r) => pick(r, ['0', '3', String(r.int(100)), '-1', 'x', '99999999999'])],
  ['content-type', () => 'text/plain'],
  ['persistent', (r) => pick(r, ['true', 'false'])],
  ['x-' + 'h'.repeat(3), () => 'v\\n\\c\\\\'],
];
function pick(r, list) {
  return list[r.int(list.length)];
}

function frame(r) {
  const command = pick(r, COMMANDS);
  let text = command + '\n';
  for (let i = r.int(5); i > 0; i--) {
    const [name, value] = pick(r, HEADERS);
    text += `${name}:${value(r)}\n`;
  }
  text += '\n' + 'b'.repeat(r.int(3) === 0 ? r.int(2000) : r.int(10)) + '\0';
  return Buffer.from(text, 'latin1');
}

function mutate(r, bytes) {
  const out = [...bytes];
  for (let m = r.int(4); m > 0; m--) {
    const at = r.int(out.length + 1);
    switch (r.int(4)) {
      case 0:
        if (at < out.length) out[at] ^= 1 + r.int(255);
        break;
      case 1:
        out.splice(at, 0, pick(r, [0, 10, 13, 58, 92, 255, r.int(256)]));
        break;
      case 2:
        out.splice(at, 1 + r.int(4));
        break;
      default:
        out.splice(at, 0, ...out.slice(at, at + 1 + r.int(40)));
    }
  }
  return Buffer.from(out);
}

/** The bytes one fuzz connection sends. */
function stream(r) {
  const parts = [];
  if (r.int(10) > 0) {
    parts.push(
      Buffer.from(
        `CONNECT\naccept-version:${pick(r, ['1.0', '1.1', '1.2', '1.1,1.2'])}\nhost:/\nheart-beat:0,0\n\n\0`,
      ),
    );
  }
  for (let i = 1 + r.int(8); i > 0; i--) {
    const kind = r.int(10);
    if (kind === 0) parts.push(Buffer.from(Array.from({ length: r.int(300) }, () => r.int(256))));
    else parts.push(kind < 5 ? frame(r) : mutate(r, frame(r)));
  }
  return Buffer.concat(parts);
}

const figures = { connections: total, bytes: 0, errors: {}, uncoded: 0, closedByBroker: 0 };
const failures = [];
const broker = await startBroker({ args: [] });
try {
  const dog = await startWatchdog(broker.url, '/queue/faults.fuzz.watch');

  async function fuzzOne(i) {
    // Each connection draws from its own seeded source: its bytes and splits do not depend on
    // how the connections interleave.
    const r = random(opts.seed * 100_003 + i);
    const data = stream(r);
    figures.bytes += data.length;
    const s = tcpConnect(broker.port, '127.0.0.1');
    let received = '';
    s.setEncoding('latin1');
    s.on('data', (d) => (received += d));
    s.on('error', () => undefined);
    const closed = new Promise((resolve) => s.on('close', resolve));
    await new Promise((resolve) => s.once('connect', resolve));
    for (let at = 0; at < data.length && !s.destroyed;) {
      const n = 1 + r.int(r.int(4) === 0 ? 8 : 600);
      s.write(data.subarray(at, at + n));
      at += n;
      if (r.int(4) === 0) await sleep(r.int(5));
    }
    // Give the broker a moment to answer, then close our side.
    await Promise.race([closed, sleep(50)]);
    if (s.destroyed || s.readableEnded) figures.closedByBroker++;
    s.end();
    await Promise.race([closed, sleep(3000)]);
    s.destroy();
    for (const m of received.matchAll(/(?:^|\0\n?)ERROR\n([\s\S]*?)\n\n/g)) {
      const code = /(?:^|\n)code:([^\n]*)/.exec(m[1])?.[1];
      if (code === undefined || !code.startsWith('ERR_STOMP_')) figures.uncoded++;
      else figures.errors[code] = (figures.errors[code] ?? 0) + 1;
    }
  }

  let started = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (started < total) {
        await fuzzOne(started++);
        if (++done % 100 === 0) progress(opts, `${done}/${total} connections`);
      }
    }),
  );
  figures.watchdog = await dog.stop();
  if (figures.watchdog.worstMs >= 2000) {
    failures.push(`the watchdog waited ${figures.watchdog.worstMs} ms`);
  }
  if (figures.uncoded > 0)
    failures.push(`${figures.uncoded} ERROR frames without an ERR_STOMP_ code`);
  const fresh = await connect(broker.url, { reconnect: false });
  await fresh.send('/queue/faults.fuzz.after', 'x', { receipt: true });
  await fresh.close();
  const errors = broker.logs.filter((l) => l.level >= 50);
  figures.brokerErrorLogs = errors.length;
  if (errors.length > 0) failures.push(`broker error logs: ${JSON.stringify(errors.slice(0, 3))}`);
} catch (err) {
  failures.push(String(err?.stack ?? err));
} finally {
  await broker.stop();
}
verdictOf(opts, figures, failures);
