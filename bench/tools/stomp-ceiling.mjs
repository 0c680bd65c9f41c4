#!/usr/bin/env node
// What a broker carries for one producer and one consumer, over STOMP-over-WebSocket (ws://) or
// TCP (tcp://), when the client does no STOMP work: SEND frames serialized once up front and
// written as they are (one write, or WebSocket message, per frame, or `--batch N` frames per
// write); the consumer counts MESSAGE frames by their NUL bytes without parsing them (with
// `--ack client-individual` it picks each frame's `ack` header out of the bytes and sends the
// ACKs of one read in one write). At most `--window` messages in flight, like
// bench/client-worker.mjs (and `prefetch-count` = window in client-individual mode).
//
// A client library near this figure is limited by the broker, not by itself. It is a reference,
// not a strict upper bound: the broker's rate also moves with how writes are batched and paced
// (our client, which writes once per tick, can beat it over TCP).
//
//   node bench/tools/stomp-ceiling.mjs [--url ws://127.0.0.1:15683/ws | tcp://127.0.0.1:61633]
//     [--size 4096] [--count 50000] [--window 1000] [--batch 1] [--binary]
//     [--ack auto|client-individual] [--reps 3] [--login guest --passcode guest --vhost /]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connect as connectTcp } from 'node:net';
import { WebSocket } from 'ws';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:15683/ws' },
    size: { type: 'string', default: '4096' },
    count: { type: 'string', default: '50000' },
    window: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '1' },
    binary: { type: 'boolean', default: false },
    ack: { type: 'string', default: 'auto' },
    reps: { type: 'string', default: '3' },
    login: { type: 'string', default: 'guest' },
    passcode: { type: 'string', default: 'guest' },
    vhost: { type: 'string', default: '/' },
  },
});
const size = Number(values.size);
const count = Number(values.count);
const window = Number(values.window);
const batch = Number(values.batch);
const destination = '/queue/stompede-bench-ceiling';

const CONNECT =
  `CONNECT\naccept-version:1.2\nhost:${values.vhost}\nlogin:${values.login}\n` +
  `passcode:${values.passcode}\nheart-beat:0,0\n\n\0`;

/**
 * Connect (WebSocket or TCP) and complete the STOMP handshake. Resolves with
 * `{ send(bytes, written?), buffered(), onData(listener), close() }`; `onData` gets what arrives
 * after the CONNECTED frame, cut anywhere (TCP) or one frame per message (Web-STOMP).
 */
function open() {
  const url = new URL(values.url);
  return new Promise((resolve, reject) => {
    let listener = () => undefined;
    let head = Buffer.alloc(0);
    const connected = (link) => (data) => {
      if (head === undefined) return listener(data);
      head = Buffer.concat([head, data]);
      const nul = head.indexOf(0);
      if (nul === -1) return undefined;
      if (!head.toString('latin1', 0, 9).startsWith('CONNECTED')) {
        return reject(new Error(`not connected: ${head.toString('latin1', 0, 200)}`));
      }
      const rest = head.subarray(nul + 1);
      head = undefined;
      resolve(link);
      if (rest.length > 0) listener(rest);
      return undefined;
    };
    if (url.protocol === 'tcp:') {
      const socket = connectTcp(Number(url.port), url.hostname, () => socket.write(CONNECT));
      socket.setNoDelay(true);
      const link = {
        send: (bytes, written) => socket.write(bytes, written),
        buffered: () => socket.writableLength,
        onData: (fn) => (listener = fn),
        close: () => socket.end(),
      };
      socket.on('data', connected(link));
      socket.once('error', reject);
      return;
    }
    const ws = new WebSocket(values.url, ['v12.stomp'], { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    const options = { binary: values.binary };
    const link = {
      send: (bytes, written) => ws.send(bytes, options, written),
      buffered: () => ws.bufferedAmount,
      onData: (fn) => (listener = fn),
      close: () => ws.close(),
    };
    ws.once('open', () => ws.send(CONNECT));
    ws.on('message', connected(link));
    ws.once('error', reject);
  });
}

async function measure() {
  const consumer = await open();
  const producer = await open();
  let received = 0;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  let wake;
  const manual = values.ack !== 'auto';
  const ackHeader = Buffer.from('\nack:');
  let rest = Buffer.alloc(0); // a frame cut by a TCP read
  consumer.onData((chunk) => {
    const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let acks = '';
    let at = 0;
    for (let i = data.indexOf(0); i !== -1; at = i + 1, i = data.indexOf(0, i + 1)) {
      received++;
      if (!manual) continue;
      const h = data.indexOf(ackHeader, at);
      if (h === -1 || h > i) throw new Error('a MESSAGE without an ack header');
      const end = data.indexOf(10, h + ackHeader.length);
      acks += `ACK\nid:${data.toString('latin1', h + ackHeader.length, end)}\n\n\0`;
    }
    rest = data.subarray(at);
    if (acks !== '') consumer.send(Buffer.from(acks));
    if (received >= count) finished();
    if (wake !== undefined && received >= wake.at) {
      const w = wake;
      wake = undefined;
      w.resolve();
    }
  });
  consumer.send(
    Buffer.from(
      `SUBSCRIBE\nid:0\ndestination:${destination}\nack:${values.ack}\n` +
        (manual ? `prefetch-count:${String(window)}\n` : '') +
        '\n\0',
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  const frame = Buffer.from(
    `SEND\ndestination:${destination}\ncontent-length:${String(size)}\n\n${'x'.repeat(size)}\0`,
  );
  const message = Buffer.concat(Array.from({ length: batch }, () => frame));
  const start = performance.now();
  for (let sent = 0; sent < count; sent += batch) {
    if (sent - received >= window) {
      await new Promise((resolve) => (wake = { at: sent - (window >> 1), resolve }));
    }
    // Over 1 MiB queued in the socket: wait until this message is written out.
    if (producer.buffered() > 1 << 20) {
      await new Promise((resolve) => producer.send(message, resolve));
    } else producer.send(message);
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  producer.close();
  consumer.close();
  return count / seconds;
}

for (let rep = 0; rep < Number(values.reps); rep++) {
  const rate = await measure();
  process.stderr.write(
    `[${String(rep + 1)}/${values.reps}] ${values.url} ${String(size)} B, ${values.ack} ack, ` +
      `${String(batch)} frame(s) per ${values.url.startsWith('tcp:') ? 'write' : values.binary ? 'binary message' : 'text message'}: ${Math.round(rate)} msgs/s\n`,
  );
}
