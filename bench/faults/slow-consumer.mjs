// Fault: a topic subscriber that never reads, while one producer sends to the topic at full speed
// (issue 19, item 2), with small (100 B) and large (64 KiB) bodies.
//
// For each body size: a baseline phase (producer and one fast subscriber), then the same with a
// slow subscriber that subscribed and then stopped reading (its socket paused, so the broker's
// writes to it back up). Throughout, a probe sends to an unrelated queue with a receipt every
// 200 ms, and a consumer of that queue takes the probes.
//
// Pass when, with the slow subscriber sitting: the fast subscriber never waits 5 s for a message
// while the producer sends, and gets at least half of what the producer sent in the same phase;
// every probe is receipted and delivered, the worst receipt within 5 s (a stall never answers); no
// producer is paused; and the broker's message memory stays within its memory limit (the slow
// backlog is bounded and sheds its oldest). Each check compares within one phase or against a
// bound a stall cannot meet, never against the baseline's rate: the machine's load changes
// between phases, a blocked broker does not. The baseline's figures are printed for the reader.
//
// Usage: node bench/faults/slow-consumer.mjs [--long] [--seed N] [--seconds N]
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Frame, FrameParser, encodeFrameBytes } from '@stompede/core';
import { startBroker } from './lib/broker.mjs';
import { faultOptions, progress, sleep, verdictOf } from './lib/verdict.mjs';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const opts = faultOptions(import.meta.url, { seconds: { type: 'string' } });
const seconds = Number(opts.seconds ?? (opts.long ? 60 : 5));
const MEMORY_LIMIT = 64 * 1024 * 1024;
const PROBE_EVERY_MS = 200;
const WORST_RECEIPT_MS = 5000;

/** A STOMP 1.2 connection over a raw socket: frames out, frames in (with a callback). */
async function stomp(port, onFrame = () => undefined, headers = {}) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await once(socket, 'connect');
  let connected;
  const ready = new Promise((resolve) => (connected = resolve));
  const receipts = new Map();
  const parser = new FrameParser(
    {
      onFrame: (f) => {
        if (f.command === 'CONNECTED') connected();
        else if (f.command === 'RECEIPT') receipts.get(f.header('receipt-id'))?.();
        else if (f.command === 'ERROR') throw new Error(`ERROR: ${f.header('message')}`);
        else onFrame(f);
      },
      onHeartbeat: () => undefined,
    },
    { limits: { maxFrameSize: 1 << 30, maxBodySize: 1 << 29 } },
  );
  socket.on('data', (chunk) => parser.push(chunk));
  socket.on('error', () => undefined);
  let n = 0;
  const conn = {
    socket,
    /** Write a frame; resolves when the socket can take more (backpressure honoured). */
    send(command, h, body) {
      if (socket.write(encodeFrameBytes(new Frame(command, h, body)))) return undefined;
      return once(socket, 'drain');
    },
    /** Write a frame with a receipt; resolves with the milliseconds until its RECEIPT. */
    request(command, h, body) {
      const id = `r${++n}`;
      const start = performance.now();
      return new Promise((resolve) => {
        receipts.set(id, () => {
          receipts.delete(id);
          resolve(performance.now() - start);
        });
        conn.send(command, { ...h, receipt: id }, body);
      });
    },
  };
  conn.send('CONNECT', { 'accept-version': '1.2', host: '/', 'heart-beat': '0,0', ...headers });
  await ready;
  return conn;
}

/**
 * One phase: producer at full speed on `topic`, the fast subscriber counting, probes running, the
 * broker's message memory read every second.
 */
async function phase(broker, topic, body, withSlow) {
  const port = broker.port;
  const running = { on: false };
  let memoryMax = 0;
  const perSecond = [];
  let received = 0;
  let produced = 0;
  // The longest wait of the fast subscriber for a message, measured while the producer runs.
  let last = performance.now();
  let worstGapMs = 0;
  const fast = await stomp(port, () => {
    received++;
    const now = performance.now();
    if (running.on) worstGapMs = Math.max(worstGapMs, now - last);
    last = now;
  });
  await fast.request('SUBSCRIBE', { id: 'fast', destination: topic });
  let slow;
  if (withSlow) {
    slow = await stomp(port);
    await slow.request('SUBSCRIBE', { id: 'slow', destination: topic });
    slow.socket.pause(); // never reads again
  }
  const probes = { sent: 0, receipted: 0, delivered: 0, worstMs: 0 };
  const probeConsumer = await stomp(port, () => probes.delivered++);
  await probeConsumer.request('SUBSCRIBE', { id: 'p', destination: '/queue/faults.unrelated' });
  const prober = await stomp(port);
  const producer = await stomp(port);
  running.on = true;
  last = performance.now();
  const produce = (async () => {
    for (let n = 1; running.on; n++) {
      produced++;
      const wait = producer.send('SEND', { destination: topic }, body);
      if (wait !== undefined) await wait;
      // A socket that takes every write at once never says wait: let the timers run.
      else if (n % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const probe = (async () => {
    while (running.on) {
      probes.sent++;
      const ms = await prober.request('SEND', { destination: '/queue/faults.unrelated' }, 'probe');
      probes.receipted++;
      probes.worstMs = Math.max(probes.worstMs, ms);
      await sleep(PROBE_EVERY_MS);
    }
  })();
  for (let s = 0; s < seconds; s++) {
    const before = received;
    await sleep(1000);
    perSecond.push(received - before);
    memoryMax = Math.max(memoryMax, (await metrics(broker)).memoryBytes);
  }
  if (running.on) worstGapMs = Math.max(worstGapMs, performance.now() - last);
  running.on = false;
  await Promise.race([Promise.all([produce, probe]), sleep(WORST_RECEIPT_MS * 2)]);
  // The last probes and topic messages reach their consumers (until they stop coming, at most 2 s).
  for (let i = 0, seen = -1; i < 100 && received !== seen; i++) {
    seen = received;
    await sleep(20);
  }
  for (let i = 0; i < 50 && probes.delivered < probes.receipted; i++) await sleep(20);
  for (const c of [fast, probeConsumer, prober, producer, slow]) c?.socket.destroy();
  return { perSecond, rate: received / seconds, produced, received, worstGapMs, probes, memoryMax };
}

/** The broker's metrics (admin server, loopback without credentials). */
async function metrics(broker) {
  const text = await (await fetch(`${broker.adminUrl}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    memoryBytes: value('stompede_store_bytes'),
    producersPaused: value('stompede_producers_paused_total'),
    dropped: value('stompede_messages_dropped_total'),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'stompede-fault-slow-'));
const config = join(dir, 'broker.yaml');
writeFileSync(config, `memoryLimit: ${MEMORY_LIMIT}\n`);
const broker = await startBroker({ admin: true, args: ['--config', config] });
const figures = {};
const failures = [];
try {
  for (const [label, size] of [
    ['100B', 100],
    ['64KiB', 64 * 1024],
  ]) {
    const body = Buffer.alloc(size, 'x');
    progress(opts, `${label}: baseline, ${seconds} s`);
    const base = await phase(broker, `/topic/faults.base.${label}`, body, false);
    const before = await metrics(broker);
    progress(opts, `${label}: with a subscriber that never reads, ${seconds} s`);
    const slow = await phase(broker, `/topic/faults.slow.${label}`, body, true);
    const after = await metrics(broker);
    const m = {
      memoryMaxBytes: slow.memoryMax,
      producersPaused: after.producersPaused,
      dropped: after.dropped - before.dropped,
    };
    figures[label] = {
      baselineRate: Math.round(base.rate),
      rate: Math.round(slow.rate),
      perSecond: slow.perSecond,
      produced: slow.produced,
      received: slow.received,
      worstGapMs: Math.round(slow.worstGapMs),
      probes: slow.probes.sent,
      baselineWorstReceiptMs: Math.round(base.probes.worstMs),
      worstReceiptMs: Math.round(slow.probes.worstMs),
      ...m,
    };
    progress(opts, `${label}: ${JSON.stringify(figures[label])}`);
    if (slow.worstGapMs > WORST_RECEIPT_MS) {
      failures.push(`${label}: the fast subscriber waited ${Math.round(slow.worstGapMs)} ms`);
    }
    if (slow.received < slow.produced / 2) {
      failures.push(`${label}: the fast subscriber got ${slow.received} of ${slow.produced}`);
    }
    if (slow.probes.receipted < slow.probes.sent || slow.probes.delivered < slow.probes.receipted) {
      failures.push(`${label}: a probe to an unrelated queue went unanswered`);
    }
    if (slow.probes.worstMs > WORST_RECEIPT_MS) {
      failures.push(
        `${label}: an unrelated queue's receipt took ${Math.round(slow.probes.worstMs)} ms`,
      );
    }
    if (m.producersPaused > 0) failures.push(`${label}: a producer was paused`);
    if (!(m.memoryMaxBytes <= MEMORY_LIMIT)) failures.push(`${label}: memory over the limit`);
    if (m.dropped === 0) failures.push(`${label}: the slow backlog was never bounded`);
  }
} catch (err) {
  failures.push(String(err?.stack ?? err));
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
verdictOf(opts, figures, failures);
