#!/usr/bin/env node
// Our client's own CPU per message, with no broker and no system calls: a producer and a consumer
// connection of `@stompede/client/node` over a stand-in for `ws`'s WebSocket that answers like
// RabbitMQ's Web-STOMP (CONNECTED with `server:RabbitMQ/…`, then one MESSAGE per WebSocket
// message, with RabbitMQ's headers, `--batch` messages per turn of the event loop). The work is
// the same in every repetition, so what changes between repetitions is the client's state in V8:
// the first repetitions show its warm-up (the optimizing compiler at work), the later ones its
// steady state. A/B of a client change without a broker's noise: STOMPEDE_CLIENT, as for
// bench/client-worker.mjs.
//
//   node bench/tools/client-inproc.mjs [--count 40000] [--reps 8] [--batch 27]
//     [--ack auto|client-individual] [--size 100]
//   node --trace-opt bench/tools/client-inproc.mjs ... | grep -c 'completed optimizing'
//
// Progress (one line per repetition) and a summary (first, best and median repetition) on
// stdout. The CPU figure is process.cpuUsage() (every thread, the compiler's too) per message,
// the stand-in's own work included (it scans each sent message for frame ends: a small, constant
// share).
import { isAbsolute } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '40000' },
    reps: { type: 'string', default: '8' },
    batch: { type: 'string', default: '27' },
    ack: { type: 'string', default: 'client-individual' },
    size: { type: 'string', default: '100' },
  },
});
const COUNT = Number(values.count);
const REPS = Number(values.reps);
const BATCH = Number(values.batch);
const ACK = values.ack;
const SIZE = Number(values.size);
const WINDOW = 1000;
if (!['auto', 'client-individual'].includes(ACK)) {
  process.stderr.write('--ack: auto or client-individual\n');
  process.exit(2);
}

const clientSource = process.env.STOMPEDE_CLIENT ?? '@stompede/client/node';
const { connect, nodeTransport } = await import(
  isAbsolute(clientSource) ? pathToFileURL(clientSource).href : clientSource
);

const NUL = 0;
const frameBytes = (text) => Buffer.from(text);

/** RabbitMQ's MESSAGE frames, built before measuring (the stand-in's cost stays out of the loop). */
const body = 'x'.repeat(SIZE);
const messages = [];
for (let i = 0; i < COUNT; i++) {
  const id = `T_0@@session-Vjr1lym7fWJgpipGliFXkw@@${String(i)}`;
  messages.push(
    frameBytes(
      `MESSAGE\nsubscription:0\ndestination:/queue/bench\nmessage-id:${id}\nredelivered:false\n` +
        `ack:${id}\ncontent-type:text/plain;charset=utf-8\ncontent-length:${String(SIZE)}\n\n${body}\0`,
    ),
  );
}

/** Delivery to the consumer: what the producer sent, `BATCH` WebSocket messages per turn. */
const broker = {
  consumer: undefined,
  due: [],
  head: 0,
  sent: 0,
  scheduled: false,
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const end = Math.min(this.head + BATCH, this.due.length);
      while (this.head < end) this.consumer.emit('message', this.due[this.head++], true);
      if (this.head === this.due.length) {
        this.due = [];
        this.head = 0;
      } else this.schedule();
    });
  },
};

/** What the client needs of `ws`: terminate() (so it is taken for `ws`), send with options, on(). */
class RabbitLikeWebSocket {
  constructor() {
    this.readyState = 0;
    this.protocol = 'v12.stomp';
    this.bufferedAmount = 0;
    this.listeners = [];
    setImmediate(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }
  terminate() {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
  }
  close() {
    this.readyState = 3;
    setImmediate(() => this.onclose?.({ code: 1000, reason: '' }));
  }
  pause() {}
  resume() {}
  on(event, listener) {
    if (event === 'message') this.listeners.push(listener);
  }
  emit(event, data, isBinary) {
    for (const listener of this.listeners) listener(data, isBinary);
  }
  reply(text) {
    const bytes = frameBytes(text);
    setImmediate(() => this.emit('message', bytes, true));
  }
  send(data, options, callback) {
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== NUL) continue;
      while (data[start] === 10) start++; // heart-beat EOLs
      const command = String.fromCharCode(data[start], data[start + 1], data[start + 2]);
      if (command === 'CON') {
        this.reply('CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:RabbitMQ/3.10.8\n\n\0');
      } else if (command === 'SUB' || command === 'DIS') {
        if (command === 'SUB') broker.consumer = this;
        const head = Buffer.from(data.subarray(start, i)).toString();
        const receipt = /\nreceipt:([^\n]*)/.exec(head);
        if (receipt !== null) this.reply(`RECEIPT\nreceipt-id:${receipt[1]}\n\n\0`);
      } else if (command === 'SEN') {
        broker.due.push(messages[broker.sent++ % COUNT]);
        broker.schedule();
      }
      start = i + 1;
    }
    if (callback !== undefined) queueMicrotask(callback);
  }
}

async function repetition() {
  const options = {
    heartBeat: [0, 0],
    // Builds before nodeTransport() took the WebSocket class as a connect() option.
    ...(nodeTransport === undefined
      ? { WebSocket: RabbitLikeWebSocket }
      : { transport: nodeTransport({ WebSocket: RabbitLikeWebSocket }) }),
  };
  const consumer = await connect('ws://rabbitmq.invalid/ws', options);
  let received = 0;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  const manual = ACK !== 'auto';
  await consumer.subscribe(
    '/queue/bench',
    { ack: ACK, ...(manual ? { prefetch: WINDOW } : {}) },
    (message) => {
      if (message.body.length !== SIZE) throw new Error('a body of the wrong length');
      if (++received === COUNT) finished();
      return manual ? message.ack() : undefined;
    },
  );
  const producer = await connect('ws://rabbitmq.invalid/ws', options);
  const payload = 'y'.repeat(SIZE);
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < COUNT; i++) {
    while (i - received >= WINDOW) await new Promise((resolve) => setImmediate(resolve));
    await producer.send('/queue/bench', payload);
  }
  await done;
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - started;
  await producer.close();
  await consumer.close();
  return { usPerMsg: (used.user + used.system) / COUNT, msgsPerSecond: (COUNT / ms) * 1000 };
}

const results = [];
for (let rep = 1; rep <= REPS; rep++) {
  const r = await repetition();
  results.push(r);
  process.stdout.write(
    `rep ${String(rep)}/${String(REPS)}: ${r.usPerMsg.toFixed(2)} µs CPU/msg, ` +
      `${Math.round(r.msgsPerSecond).toLocaleString('en-US')} msgs/s\n`,
  );
}
const sorted = results.map((r) => r.usPerMsg).sort((a, b) => a - b);
process.stdout.write(
  `${ACK}, ${String(SIZE)} B, ${String(COUNT)} messages × ${String(REPS)}: first ` +
    `${results[0].usPerMsg.toFixed(2)} µs/msg, best ${sorted[0].toFixed(2)}, median ` +
    `${sorted[sorted.length >> 1].toFixed(2)}\n`,
);
