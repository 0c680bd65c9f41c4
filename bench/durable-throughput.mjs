#!/usr/bin/env node
// Durable messaging benchmark: persistent SENDs of 1 KiB bodies to a queue with a RECEIPT on
// every message (one in flight: the latency of a durable write) and on every 100th (throughput
// with group commit), then, for our broker, the restart time with N queued messages.
// Usage: node bench/durable-throughput.mjs [--target ours|rabbitmq|activemq] [--count N]
//        [--restart N]     (our broker only: queue N persistent messages, time a restart)
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Frame, FrameParser, encodeFrameBytes } from '@stompede/core';
import { Message, createBroker } from '@stompede/broker';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const target = opt('target', 'ours');
const count = Number(opt('count', '5000'));
const restartCount = Number(opt('restart', '0'));
const body = Buffer.alloc(1024, 'x');

const PEERS = {
  rabbitmq: {
    port: 61633,
    login: 'guest',
    passcode: 'guest',
    host: '/',
    queue: '/queue/bench-durable',
  },
  activemq: {
    port: 61623,
    login: 'admin',
    passcode: 'admin',
    host: 'localhost',
    queue: '/queue/bench-durable',
  },
};

function client(port, headers) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const waiting = [];
    const frames = [];
    const parser = new FrameParser({
      onFrame: (f) => {
        const w = waiting.shift();
        if (w !== undefined) w(f);
        else frames.push(f);
      },
      onHeartbeat: () => undefined,
    });
    socket.on('data', (c) => parser.push(c));
    socket.once('error', reject);
    const next = () =>
      frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((r) => waiting.push(r));
    const send = (command, h, b) => socket.write(encodeFrameBytes(new Frame(command, h, b)));
    socket.once('connect', async () => {
      send('CONNECT', { 'accept-version': '1.2', 'heart-beat': '0,0', ...headers });
      const f = await next();
      if (f.command !== 'CONNECTED') reject(new Error(`${f.command}: ${f.header('message')}`));
      else resolve({ socket, next, send });
    });
  });
}

/** Send `n` persistent messages, a receipt every `every`, at most `window` receipts awaited. */
async function produce(c, queue, n, every, window) {
  const started = process.hrtime.bigint();
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
      const f = await c.next();
      if (f.command === 'ERROR') throw new Error(f.header('message'));
      outstanding--;
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function drain(c, queue, n) {
  c.send('SUBSCRIBE', { destination: queue, id: 'd', ack: 'auto' });
  for (let i = 0; i < n; i++) await c.next();
  c.send('UNSUBSCRIBE', { id: 'd' });
}

let broker;
let dir;
let port;
let connectHeaders = { host: '/' };
let queue = '/queue/bench-durable';
if (target === 'ours') {
  dir = mkdtempSync(join(tmpdir(), 'stompede-bench-durable-'));
  broker = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }], dataDir: dir });
  port = (await broker.listen())[0].port;
} else {
  const p = PEERS[target];
  port = p.port;
  connectHeaders = { host: p.host, login: p.login, passcode: p.passcode };
  queue = p.queue;
}

const results = [];
const c = await client(port, connectHeaders);
for (const [label, every, window, n] of [
  ['receipt on every message, 1 in flight', 1, 1, Math.min(count, 2000)],
  ['receipt on every 100th message', 100, 4, count],
]) {
  const s = await produce(c, queue, n, every, window);
  results.push({ target, scenario: label, messages: n, seconds: s, perSecond: Math.round(n / s) });
  await drain(c, queue, n);
}

if (restartCount > 0 && target === 'ours') {
  // Filled in-process (publish without waiting for each group): the sessions' pace is measured above.
  c.socket.destroy();
  for (let i = 0; i < restartCount; i++) {
    broker.engine.publish('/', 'bench', new Message(queue, ['persistent', 'true'], body), false);
    if (i % 10000 === 9999) await new Promise((r) => setImmediate(r));
  }
  await broker.close();
  const t0 = process.hrtime.bigint();
  broker = createBroker({ listeners: [], dataDir: dir });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const heap = process.memoryUsage();
  results.push({
    target,
    scenario: `restart with ${String(restartCount)} queued 1 KiB messages`,
    ms: Math.round(ms),
    heapMiB: Math.round(heap.heapUsed / 2 ** 20),
    rssMiB: Math.round(heap.rss / 2 ** 20),
    messages: broker.engine.stats().messages,
  });
  await broker.close();
} else {
  c.socket.destroy();
  await broker?.close();
}
if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
for (const r of results) console.log(JSON.stringify(r));
