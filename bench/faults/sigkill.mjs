// Fault: the broker is SIGKILLed again and again while producers and consumers run.
//
// Each cycle starts the broker on the same data directory (so every start after the first
// recovers a journal whose last stop was a crash), runs one producer and one consumer per queue
// for a random while, then kills the broker with SIGKILL. Producers send persistent messages
// numbered 0, 1, 2, ... with a receipt each (a window of them in flight); consumers take them
// with client-individual acks, each with a receipt. A last, clean start drains every queue.
//
// Pass when: no receipted message is lost (every one is delivered at least once), no message is
// delivered again after its ACK was receipted (resurrection), each consumer connection sees its
// queue's numbers strictly rising (order), and no start logs journal damage at error level.
// Messages whose SEND or ACK was cut by a kill before its receipt may go either way; they are
// counted, not judged.
//
// Usage: node bench/faults/sigkill.mjs [--long] [--seed N] [--cycles N] [--queues N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@stompede/client/node';
import { startBroker } from './lib/broker.mjs';
import { faultOptions, progress, random, sleep, verdict, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, {
  cycles: { type: 'string' },
  queues: { type: 'string' },
});
const cycles = Number(opts.cycles ?? (opts.long ? 200 : 8));
const queueCount = Number(opts.queues ?? 2);
const rnd = random(opts.seed);
const WINDOW = 32;

/** What one queue's producer and consumer saw, across every cycle. */
function queueState(i) {
  return {
    destination: `/queue/faults.sigkill.${i}`,
    next: 0,
    receipted: new Set(),
    sendUnknown: 0,
    delivered: new Map(), // n -> deliveries
    ackReceipted: new Set(),
    ackUnknown: 0,
    resurrected: [],
    orderViolations: [],
  };
}
const queues = Array.from({ length: queueCount }, (_, i) => queueState(i));

async function produce(client, q, running) {
  const inflight = new Set();
  while (running.on) {
    const n = q.next++;
    const p = client
      .send(q.destination, String(n), { headers: { persistent: 'true' }, receipt: true })
      .then(
        () => q.receipted.add(n),
        () => {
          q.sendUnknown++;
          running.on = false;
        },
      );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= WINDOW) await Promise.race(inflight);
  }
  await Promise.allSettled(inflight);
}

/** Consume until the connection goes (or, when `idleMs` is set, until the queue stays empty). */
async function consume(client, q, idleMs) {
  const sub = await client.subscribe(q.destination, { ack: 'client-individual', prefetch: 64 });
  let last = -1;
  const acks = new Set();
  try {
    for (;;) {
      const msg = await sub.receive(idleMs === undefined ? {} : { timeout: idleMs });
      const n = Number(msg.text);
      if (q.ackReceipted.has(n)) q.resurrected.push(n);
      if (n <= last) q.orderViolations.push([last, n]);
      last = n;
      q.delivered.set(n, (q.delivered.get(n) ?? 0) + 1);
      const p = msg.ack({ receipt: true }).then(
        () => q.ackReceipted.add(n),
        () => q.ackUnknown++,
      );
      acks.add(p);
      void p.finally(() => acks.delete(p));
      if (acks.size >= WINDOW) await Promise.race(acks);
    }
  } catch {
    // the connection went (a kill), or the queue stayed empty for idleMs
  }
  await Promise.allSettled(acks);
}

const dir = mkdtempSync(join(tmpdir(), 'stompede-fault-sigkill-'));
const recoveries = [];
const damage = [];
let broker;
try {
  for (let cycle = 1; cycle <= cycles; cycle++) {
    broker = await startBroker({ dataDir: join(dir, 'data') });
    const recovered = await broker.waitForLog((l) => l.msg?.startsWith('journal recovered'));
    recoveries.push(recovered.ms ?? 0);
    const clients = [];
    const running = { on: true };
    const work = [];
    for (const q of queues) {
      const producer = await connect(broker.url, { reconnect: false });
      const consumer = await connect(broker.url, { reconnect: false });
      producer.on('error', () => undefined);
      consumer.on('error', () => undefined);
      clients.push(producer, consumer);
      work.push(produce(producer, q, running), consume(consumer, q));
    }
    await sleep(200 + rnd.int(1300));
    await broker.kill();
    running.on = false;
    for (const c of clients) c.destroy();
    await Promise.allSettled(work);
    damage.push(...broker.logs.filter((l) => l.level >= 50 && /journal/.test(l.msg ?? '')));
    const sent = queues.reduce((s, q) => s + q.receipted.size, 0);
    const acked = queues.reduce((s, q) => s + q.ackReceipted.size, 0);
    progress(opts, `cycle ${cycle}/${cycles}: ${sent} sends receipted, ${acked} acks receipted`);
  }
  // A last start drains what is left, then stops cleanly.
  broker = await startBroker({ dataDir: join(dir, 'data') });
  recoveries.push((await broker.waitForLog((l) => l.msg?.startsWith('journal recovered'))).ms);
  await Promise.all(
    queues.map(async (q) => {
      const consumer = await connect(broker.url, { reconnect: false });
      await consume(consumer, q, 3000);
      await consumer.close();
    }),
  );
  damage.push(...broker.logs.filter((l) => l.level >= 50 && /journal/.test(l.msg ?? '')));
  const stopped = await broker.stop();
  broker = undefined;

  const lost = [];
  for (const q of queues) for (const n of q.receipted) if (!q.delivered.has(n)) lost.push(n);
  const sum = (f) => queues.reduce((s, q) => s + f(q), 0);
  const figures = {
    cycles,
    queues: queueCount,
    sendsReceipted: sum((q) => q.receipted.size),
    sendsCutByKill: sum((q) => q.sendUnknown),
    deliveries: sum((q) => [...q.delivered.values()].reduce((a, b) => a + b, 0)),
    redelivered: sum((q) => [...q.delivered.values()].reduce((a, b) => a + b - 1, 0)),
    acksReceipted: sum((q) => q.ackReceipted.size),
    acksCutByKill: sum((q) => q.ackUnknown),
    lost: lost.length,
    resurrected: sum((q) => q.resurrected.length),
    orderViolations: sum((q) => q.orderViolations.length),
    journalErrors: damage.length,
    recoveryMsMax: Math.max(...recoveries),
    cleanStopExit: stopped.code,
  };
  const reasons = [];
  if (lost.length > 0) reasons.push(`${lost.length} receipted messages lost (${lost.slice(0, 5)})`);
  if (figures.resurrected > 0) reasons.push(`${figures.resurrected} acked messages came back`);
  if (figures.orderViolations > 0) reasons.push(`${figures.orderViolations} out of order`);
  if (damage.length > 0) reasons.push(`journal errors: ${damage[0].msg}`);
  if (stopped.code !== 0) reasons.push(`the last stop exited with ${stopped.code}`);
  if (figures.sendsReceipted === 0) reasons.push('no message was receipted at all');
  verdictOf(opts, figures, reasons);
} catch (err) {
  verdict(opts, false, {}, String(err?.stack ?? err));
} finally {
  await broker?.kill();
  rmSync(dir, { recursive: true, force: true });
}
