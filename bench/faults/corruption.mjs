// Fault: journal corruption at random offsets, then a restart; the broker must lose only the
// records the damage touched, and report exactly what it lost.
//
// Each cycle fills a fresh data directory through a broker process: persistent messages with
// receipts to two queues, a random part of them consumed and acknowledged (receipted). The broker
// is then stopped, by SIGTERM (a clean stop, with a checkpoint) or SIGKILL, and 8 bytes are
// flipped at a random offset among the records of a random segment file, or in a REMOVE record one
// time in three (the records there are listed first). The broker is started again, one of three
// ways: after the SIGKILL (recovery scans), with
// --verify-journal, or plainly after the clean stop (the checkpoint is used, and the background
// verification finds the damage). Every queue is then drained.
//
// Pass when, in every cycle: the broker starts and serves; the messages missing are only those
// whose records the flipped bytes touched, and every one is named in the broker's reports (by
// message id) unless the report says records of unknown content were found; no message is named
// lost that came back; the only acknowledged messages that come back are those whose REMOVE
// records were touched, within the count the report gives.
//
// Usage: node bench/faults/corruption.mjs [--long] [--seed N] [--cycles N] [--messages N]
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@stompede/client/node';
import { inspectSegment } from '@stompede/broker/internal';
import { startBroker } from './lib/broker.mjs';
import { faultOptions, progress, random, verdict } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, {
  cycles: { type: 'string' },
  messages: { type: 'string' },
});
const cycles = Number(opts.cycles ?? (opts.long ? 200 : 6));
const perQueue = Number(opts.messages ?? (opts.long ? 1000 : 200));
const rnd = random(opts.seed);
const QUEUES = ['/queue/faults.corrupt.a', '/queue/faults.corrupt.b'];
const WINDOW = 32;
const ENQUEUE = 1;
const REMOVE = 2;

async function windowed(n, start) {
  const inflight = new Set();
  for (let i = 0; i < n; i++) {
    const p = start(i);
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= WINDOW) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

/** Fill: every message sent with a receipt; a random share consumed and acked with receipts. */
async function fill(broker) {
  const client = await connect(broker.url, { reconnect: false });
  const acked = new Set();
  for (const q of QUEUES) {
    await windowed(perQueue, (i) =>
      client.send(q, `${q}#${i}`, { headers: { persistent: 'true' }, receipt: true }),
    );
  }
  for (const q of QUEUES) {
    const take = rnd.int(perQueue);
    if (take === 0) continue;
    const sub = await client.subscribe(q, { ack: 'client-individual', prefetch: 64 });
    const acks = new Set();
    for (let i = 0; i < take; i++) {
      const msg = await sub.receive({ timeout: 10_000 });
      const p = msg.ack({ receipt: true }).then(() => acked.add(msg.text));
      acks.add(p);
      void p.finally(() => acks.delete(p));
      if (acks.size >= WINDOW) await Promise.race(acks);
    }
    await Promise.all(acks);
    await sub.unsubscribe();
  }
  await client.close();
  return acked;
}

/** Every segment's records: seq → body, and where each record lies. */
function survey(dir) {
  const jdir = join(dir, 'journal');
  const segments = readdirSync(jdir)
    .filter((f) => /^\d{10}\.log$/.test(f))
    .map((f) => ({ path: join(jdir, f), size: statSync(join(jdir, f)).size }));
  const bodyOf = new Map();
  for (const s of segments) {
    s.records = inspectSegment(s.path);
    for (const r of s.records) if (r.type === ENQUEUE) bodyOf.set(r.seqs[0], r.body);
  }
  return { segments, bodyOf };
}

/**
 * Flip 8 bytes at a random offset of a random segment (weighted by size), among its records
 * (not in the zeros a killed broker leaves after them).
 */
function corrupt(segments) {
  for (const s of segments) {
    const last = s.records.at(-1);
    s.used = last === undefined ? s.size : last.offset + last.length;
  }
  // One time in three, a REMOVE record: the damage that brings acknowledged messages back.
  const removes = segments.flatMap((s) =>
    s.records.filter((r) => r.type === REMOVE).map((r) => [s, r]),
  );
  let seg;
  let at;
  if (removes.length > 0 && rnd.int(3) === 0) {
    const [s, r] = removes[rnd.int(removes.length)];
    seg = s;
    at = r.offset + rnd.int(Math.max(1, r.length - 8));
  } else {
    const total = segments.reduce((n, s) => n + s.used, 0);
    at = rnd.int(Math.max(1, total - 8));
    seg = segments.find((s) => (at < s.used ? true : ((at -= s.used), false))) ?? segments[0];
    at = Math.min(at, Math.max(0, seg.used - 8));
  }
  const bytes = readFileSync(seg.path);
  for (let i = at; i < Math.min(at + 8, bytes.length); i++) bytes[i] ^= 1 + rnd.int(255);
  writeFileSync(seg.path, bytes);
  const touched = seg.records.filter((r) => r.offset < at + 8 && r.offset + r.length > at);
  return { seg, at, touched };
}

/** What the broker's logs report: lost seqs, unreadable acks, unknown content. */
function reports(logs, storeId) {
  const lost = new Set();
  let unreadableAcks = 0;
  let unknown = 0;
  for (const l of logs) {
    if (l.level < 30) continue;
    for (const q of l.lost ?? []) for (const s of q.seqs ?? []) lost.add(s);
    if (typeof l.seq === 'number' && l.level >= 50 && typeof l.id === 'string') lost.add(l.seq);
    if (l.msg?.startsWith('journal: torn write')) for (const s of l.seqs ?? []) lost.add(s);
    if (l.known !== true) {
      unreadableAcks += l.unreadableAcks ?? 0;
      unknown += (l.unknownRecords ?? 0) + (l.unknownBytes ?? 0);
      if (l.msg?.includes('unreadable header')) unknown += 1;
    }
  }
  void storeId;
  return { lost, unreadableAcks, unknown };
}

/** Every message left, each queue drained up to a marker sent after subscribing. */
async function drain(broker) {
  const client = await connect(broker.url, { reconnect: false });
  const got = [];
  for (const q of QUEUES) {
    const sub = await client.subscribe(q, { ack: 'auto' });
    await client.send(q, '#end', { receipt: true });
    for (;;) {
      const text = (await sub.receive({ timeout: 10_000 })).text;
      if (text === '#end') break;
      got.push(text);
    }
    await sub.unsubscribe();
  }
  await client.close();
  return got;
}

const root = mkdtempSync(join(tmpdir(), 'stompede-fault-corruption-'));
const totals = {
  cycles: 0,
  sent: 0,
  acked: 0,
  recordsTouched: 0,
  lost: 0,
  lostNamed: 0,
  lostInUnknown: 0,
  resurrected: 0,
  violations: 0,
  byRestart: { scan: 0, verify: 0, checkpoint: 0 },
};
const failures = [];
let broker;
try {
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const dir = join(root, String(cycle));
    broker = await startBroker({ dataDir: dir });
    const acked = await fill(broker);
    const how = ['scan', 'verify', 'checkpoint'][cycle % 3];
    if (how === 'scan') await broker.kill();
    else await broker.stop();
    const { segments, bodyOf } = survey(dir);
    const { seg, at, touched } = corrupt(segments);
    const args = how === 'verify' ? ['--verify-journal'] : [];
    broker = await startBroker({ dataDir: dir, args });
    const recovered = await broker.waitForLog((l) => l.msg?.startsWith('journal recovered'));
    const got = new Set(await drain(broker));
    // A start through the checkpoint verifies in the background: its summary ends it.
    if (recovered.from === 'checkpoint') {
      await broker.waitForLog((l) => l.msg?.startsWith('journal: background verification done'));
    }
    await broker.stop();
    const r = reports(broker.logs);
    broker = undefined;

    const all = QUEUES.flatMap((q) => Array.from({ length: perQueue }, (_, i) => `${q}#${i}`));
    const seqOf = new Map([...bodyOf].map(([seq, body]) => [body, seq]));
    const missing = all.filter((b) => !acked.has(b) && !got.has(b)).map((b) => seqOf.get(b));
    const back = all.filter((b) => acked.has(b) && got.has(b)).map((b) => seqOf.get(b));
    const touchedEnq = new Set(touched.filter((t) => t.type === ENQUEUE).map((t) => t.seqs[0]));
    const touchedRem = new Set(touched.filter((t) => t.type === REMOVE).flatMap((t) => t.seqs));
    const problems = [];
    for (const s of missing) if (!touchedEnq.has(s)) problems.push(`seq ${s} lost, untouched`);
    for (const s of back) if (!touchedRem.has(s)) problems.push(`seq ${s} came back, untouched`);
    for (const s of r.lost) {
      if (!missing.includes(s) && !acked.has(bodyOf.get(s)))
        problems.push(`seq ${s} named lost, came back`);
    }
    const unnamed = missing.filter((s) => !r.lost.has(s));
    if (unnamed.length > 0 && r.unknown === 0) problems.push(`lost seqs ${unnamed} not reported`);
    if (back.length > r.unreadableAcks + (r.unknown > 0 ? touchedRem.size : 0)) {
      problems.push(`${back.length} came back, ${r.unreadableAcks} acks reported unreadable`);
    }
    totals.cycles++;
    totals.sent += all.length;
    totals.acked += acked.size;
    totals.recordsTouched += touched.length;
    totals.lost += missing.length;
    totals.lostNamed += missing.length - unnamed.length;
    totals.lostInUnknown += unnamed.length;
    totals.resurrected += back.length;
    totals.byRestart[how]++;
    if (problems.length > 0) {
      totals.violations += problems.length;
      failures.push({
        cycle,
        how,
        segment: seg.path.slice(-14),
        at,
        touched: touched.length,
        problems,
      });
    }
    progress(
      opts,
      `cycle ${cycle}/${cycles} (${how}): 8 bytes at ${seg.path.slice(-14)}+${at} touched ${touched.length} records; lost ${missing.length} (${missing.length - unnamed.length} named), came back ${back.length}${problems.length > 0 ? `; PROBLEMS: ${problems.join('; ')}` : ''}`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
  verdict(
    opts,
    failures.length === 0,
    { ...totals, failures: failures.slice(0, 5) },
    failures.length === 0 ? undefined : `${failures.length} cycles reported inexactly`,
  );
} catch (err) {
  verdict(opts, false, totals, String(err?.stack ?? err));
} finally {
  await broker?.kill();
  rmSync(root, { recursive: true, force: true });
}
