// Fault: cluster mode (issue 16) under random crashes. A real 3-server JetStream cluster and two
// stompede nodes (`stompede broker --cluster`) run while producers and consumers with failover
// URIs (both nodes) send and take persistent messages; again and again one victim — a stompede
// node, or one NATS server of three (never two at once) — is killed with SIGKILL, left down a
// random while, and started again.
//
// Producers send serially, each SEND with a receipt and an idempotency key, and send the same
// message again (same key) when the outcome is unknown (an ERROR, a lost connection): the cluster
// stores it once. Consumers use client-individual acks with receipts.
//
// Pass when: no receipted message is lost (each is delivered at least once); a message delivered
// more than once carries `redelivered:true` on every delivery but one (with a nats-server before
// 2.11, judged by --long only: see the known issue in docs/cluster.md); each consumer connection sees
// each producer's first deliveries in the order they were sent. Figures: how long publishing
// and delivery stalled after each kind of victim (kill to the first receipt, kill to the first
// delivery), redeliveries, and deliveries that came after their ACK was receipted (JetStream's
// ack wait ran out while a NATS server was down: counted, not judged).
//
// Brief (what the campaign runs): two cycles, a node then a NATS server, victims and pauses from
// the seed. Long: random victims for --cycles cycles (default 100).
//
// Usage: node bench/faults/cluster-crash.mjs [--long] [--seed N] [--cycles N] [--producers N]
//        [--consumers N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@stompede/client/node';
import { NodeProcess, ensureNatsServer, hasDedupeGap, startNatsServers } from '@stompede/cluster';
import { CLI } from './lib/broker.mjs';
import { faultOptions, progress, random, skip, sleep, verdict, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, {
  cycles: { type: 'string' },
  producers: { type: 'string' },
  consumers: { type: 'string' },
});
const cycles = Number(opts.cycles ?? (opts.long ? 100 : 2));
const producerCount = Number(opts.producers ?? 2);
const consumerCount = Number(opts.consumers ?? 2);
const rnd = random(opts.seed);
const NODES = 2;
const NATS = 3;
const QUEUE = '/queue/faults.cluster-crash';
/** Each node's NATS settings: a short ack wait, so a dead node's messages come back quickly. */
const CLUSTER = { ackWait: 2000, publishTimeout: 4000, connectTimeout: 20_000 };

let natsBinary;
try {
  natsBinary = ensureNatsServer();
} catch (err) {
  skip(opts, `nats-server is not installed: ${err.message}`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'stompede-fault-cluster-'));
/** Every receipted SEND, as 'p:n'. */
const receipted = new Set();
/** Deliveries per message: [{ redelivered, at }]. */
const deliveries = new Map();
const ackReceipted = new Map(); // key -> time its ACK was receipted
const orderViolations = [];
let afterAck = 0;
let resends = 0;
let acksFailed = 0;
/** Restarted NATS servers still not current after 20 s. */
let notCurrent = 0;
/** When the last victim was killed, and what it was (for a delivery's story). */
let lastKill = { at: 0, what: 'none' };
/** Times of each producer's receipts and each consumer's deliveries, for the stalls. */
const receiptTimes = Array.from({ length: producerCount }, () => []);
const deliveryTimes = Array.from({ length: consumerCount }, () => []);

let nats;
const nodes = [];
const clients = [];
/** Producers run while this is on; off in `finally` too, so a failed run ends (no resends). */
const running = { on: true };
try {
  nats = await startNatsServers({
    dir: join(dir, 'nats'),
    size: NATS,
    binary: natsBinary,
  });
  const config = join(dir, 'node.yaml');
  writeFileSync(config, JSON.stringify({ cluster: { servers: nats.urls.split(','), ...CLUSTER } }));
  for (let i = 0; i < NODES; i++) {
    nodes.push(
      new NodeProcess({
        command: [process.execPath, CLI, 'broker'],
        cluster: nats.urls,
        port: 0,
        args: ['--config', config, '--log-level', 'info'],
      }),
    );
  }
  await Promise.all(nodes.map((n) => n.start()));
  const failover = `failover:(${nodes.map((n) => `tcp://127.0.0.1:${n.stompPort}`).join(',')})`;
  progress(opts, `NATS ${nats.urls}; nodes ${failover}`);

  const work = [];
  for (let c = 0; c < consumerCount; c++) {
    // Consumers start on different nodes (randomized failover picks a first node at random).
    const client = await connect(`${failover}?randomize=true`);
    clients.push(client);
    work.push(consume(client, c));
  }
  for (let p = 0; p < producerCount; p++) {
    const client = await connect(`${failover}?randomize=true`);
    clients.push(client);
    work.push(produce(client, p, running));
  }

  const stalls = { node: [], nats: [] };
  for (let cycle = 1; cycle <= cycles; cycle++) {
    await sleep(1000 + rnd.int(2000));
    // Brief: a node, then a NATS server; long: either, at random.
    const kind = opts.long
      ? rnd.int(NODES + NATS) < NODES
        ? 'node'
        : 'nats'
      : ['node', 'nats'][(cycle - 1) % 2];
    const victim = kind === 'node' ? rnd.int(NODES) : rnd.int(NATS);
    const killedAt = Date.now();
    lastKill = { at: killedAt, what: `${kind} ${victim + 1}` };
    if (kind === 'node') await nodes[victim].kill('SIGKILL');
    else await nats.kill(victim, 'SIGKILL');
    await sleep(500 + rnd.int(opts.long ? 2500 : 1000));
    if (kind === 'node') await nodes[victim].start();
    else {
      nats.start(victim);
      await nats.ready();
      await caughtUp(victim);
    }
    // Every producer and every consumer going again? Each stall is the slowest client's, from
    // the kill (a client of a killed node fails over to the other one first).
    const resumed = (lists) => lists.every((times) => times.at(-1) > killedAt);
    await until(
      () => resumed(receiptTimes) && resumed(deliveryTimes),
      60_000,
      'every client after the kill',
    );
    const slowest = (lists) =>
      Math.max(...lists.map((times) => times.find((t) => t > killedAt) - killedAt));
    const stall = {
      publishMs: slowest(receiptTimes),
      deliverMs: slowest(deliveryTimes),
    };
    stalls[kind].push(stall);
    progress(
      opts,
      `cycle ${cycle}/${cycles}: ${kind} ${victim + 1} killed; receipts resumed after ${stall.publishMs} ms, ` +
        `deliveries after ${stall.deliverMs} ms; ${receipted.size} receipted, ${deliveries.size} delivered`,
    );
  }

  running.on = false;
  await Promise.all(work.slice(consumerCount));
  progress(opts, `producers stopped: ${receipted.size} receipted; draining`);
  const drained = await until(
    () => [...receipted].every((k) => deliveries.has(k)),
    60_000,
    'every receipted message',
  ).then(
    () => true,
    () => false,
  );
  // Late duplicates (ack waits running out) show within a few ack waits.
  await sleep(2 * CLUSTER.ackWait);

  const lost = [...receipted].filter((k) => !deliveries.has(k));
  const unmarked = [];
  let redelivered = 0;
  let duplicated = 0;
  // A message the stream holds twice (a SEND stored twice) shows under two message-ids.
  let storedTwice = 0;
  for (const list of deliveries.values()) {
    redelivered += list.filter((d) => d.redelivered).length;
    if (list.length > 1) duplicated++;
    if (new Set(list.map((d) => d.messageId)).size > 1) storedTwice++;
    if (list.filter((d) => !d.redelivered).length > 1) unmarked.push(list);
  }
  const worst = (list, f) => (list.length === 0 ? null : Math.max(...list.map(f)));
  const gap = hasDedupeGap(natsBinary);
  const figures = {
    natsServer: natsBinary,
    cycles,
    nodeKills: stalls.node.length,
    natsKills: stalls.nats.length,
    producers: producerCount,
    consumers: consumerCount,
    sendsReceipted: receipted.size,
    sendsResent: resends,
    delivered: deliveries.size,
    redeliveries: redelivered,
    deliveredMoreThanOnce: duplicated,
    duplicatesWithoutRedelivered: unmarked.length,
    storedTwice,
    deliveredAfterAckReceipt: afterAck,
    acksFailed,
    natsRestartsNotCurrentIn20s: notCurrent,
    lost: lost.length,
    orderViolations: orderViolations.length,
    nodeKillPublishStallMsMax: worst(stalls.node, (s) => s.publishMs),
    nodeKillDeliveryStallMsMax: worst(stalls.node, (s) => s.deliverMs),
    natsKillPublishStallMsMax: worst(stalls.nats, (s) => s.publishMs),
    natsKillDeliveryStallMsMax: worst(stalls.nats, (s) => s.deliverMs),
  };
  const reasons = [];
  if (lost.length > 0) reasons.push(`${lost.length} receipted messages lost (${lost.slice(0, 5)})`);
  if (!drained && lost.length === 0) reasons.push('the drain timed out');
  if (unmarked.length > 0) {
    // Each delivery's message-id tells a message stored twice (two ids) from one delivered twice.
    progress(opts, `delivered again without redelivered:true: ${JSON.stringify(unmarked)}`);
    // nats-server before 2.11 can store a SEND retried across a leader election twice, about once
    // in 20 long cycles (docs/cluster.md): with such a server only the long run judges it, so
    // that a rare upstream fault does not fail the brief run in every landing.
    if (opts.long || !gap) {
      reasons.push(`${unmarked.length} messages delivered again without redelivered:true`);
    }
  }
  if (orderViolations.length > 0) {
    reasons.push(
      `${orderViolations.length} out of order (${JSON.stringify(orderViolations.slice(0, 3))})`,
    );
  }
  if (receipted.size === 0) reasons.push('no message was receipted at all');
  verdictOf(opts, figures, reasons);
} catch (err) {
  verdict(opts, false, {}, String(err?.stack ?? err));
} finally {
  running.on = false;
  for (const c of clients) c.destroy();
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** Send 0, 1, 2, ... serially; a SEND whose outcome is unknown goes again with the same key. */
async function produce(client, p, running) {
  client.on('error', () => undefined);
  for (let n = 0; running.on; n++) {
    const key = `${p}:${n}`;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) resends++;
      try {
        await client.send(QUEUE, key, {
          receipt: true,
          timeout: 15_000,
          headers: {
            persistent: 'true',
            'idempotency-key': `crash-${opts.seed}-${key}`,
          },
        });
        receipted.add(key);
        receiptTimes[p].push(Date.now());
        break;
      } catch {
        await sleep(100);
      }
    }
  }
}

/** Take every message, recording it, and ACK it with a receipt. */
async function consume(client, c) {
  let epoch = 0;
  client.on('disconnected', () => epoch++);
  client.on('error', () => undefined);
  const sub = await client.subscribe(QUEUE, {
    ack: 'client-individual',
    prefetch: 16,
    receipt: true,
  });
  /** Per connection (epoch) and producer: the last first-delivered number. */
  const last = new Map();
  try {
    for await (const m of sub) {
      const key = m.text;
      const [p, n] = key.split(':').map(Number);
      const redelivered = m.header('redelivered') === 'true';
      const list = deliveries.get(key) ?? [];
      list.push({
        redelivered,
        consumer: c,
        messageId: m.header('message-id'),
        count: Number(m.header('delivery-count') ?? '1'),
        afterKill: `${Date.now() - lastKill.at} ms after kill of ${lastKill.what}`,
      });
      deliveries.set(key, list);
      deliveryTimes[c].push(Date.now());
      if (ackReceipted.has(key)) afterAck++;
      if (!redelivered) {
        const lane = `${epoch}/${p}`;
        const prev = last.get(lane) ?? -1;
        if (n <= prev)
          orderViolations.push({
            consumer: c,
            producer: p,
            after: prev,
            got: n,
          });
        last.set(lane, n);
      }
      m.ack({ receipt: true }).then(
        () => ackReceipted.set(key, Date.now()),
        () => acksFailed++,
      );
    }
  } catch {
    // the client was destroyed at the end
  }
}

/**
 * Wait until the restarted NATS server `i` reports its streams and consumers current (/healthz),
 * at most 20 s: nats-server 2.9.10 sometimes reports an idle consumer "not current" for minutes.
 * The run goes on then (counted): a lagging replica slows the next election, it loses nothing.
 */
async function caughtUp(i) {
  const { httpPort } = nats.list[i];
  let last = '';
  const current = await until(
    async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      if (!res.ok) last = await res.text();
      return res.ok;
    },
    20_000,
    `NATS server ${i + 1} current`,
  ).then(
    () => true,
    () => false,
  );
  if (!current) {
    notCurrent++;
    progress(opts, `NATS server ${i + 1} not current 20 s after its restart (${last}); going on`);
  }
}

async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}
