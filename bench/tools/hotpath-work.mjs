#!/usr/bin/env node
// A fixed broker workload for judging a delivery hot-path change by instruction counts, not time
// (the machine is shared): an in-process broker on loopback TCP, one producer writing
// pre-serialized SEND frames (at most --window unconfirmed), one consumer counting MESSAGE frames
// by their NUL bytes (client-individual: it ACKs each by the `ack` header picked out of the bytes).
// Nothing here is timed; run it under callgrind and compare the totals of two builds:
//
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p node bench/tools/hotpath-work.mjs
//     [--count 20000] [--size 100] [--ack auto|client-individual] [--window 500]
//   callgrind_annotate /tmp/cg.<pid> | head -20     (the PROGRAM TOTALS line)
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { createBroker } from '@stompede/broker';
import { exitOnHelp } from '../lib/usage.mjs';

exitOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    size: { type: 'string', default: '100' },
    ack: { type: 'string', default: 'auto' },
    window: { type: 'string', default: '500' },
  },
});
const count = Number(values.count);
const window = Number(values.window);
const individual = values.ack === 'client-individual';
const destination = '/queue/hotpath';

const broker = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }], heartbeat: [0, 0] });
const [address] = await broker.listen();

/** Open a TCP STOMP session; resolves with the socket once CONNECTED arrived. */
function open() {
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.write('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0');
    let head = Buffer.alloc(0);
    const onData = (data) => {
      head = Buffer.concat([head, data]);
      const nul = head.indexOf(0);
      if (nul < 0) return;
      socket.off('data', onData);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

const consumer = await open();
const producer = await open();
consumer.write(
  `SUBSCRIBE\nid:1\ndestination:${destination}\nack:${values.ack}\nprefetch-count:${window}\n\n\0`,
);
const send = Buffer.from(
  `SEND\ndestination:${destination}\ncontent-type:text/plain\n\n${'x'.repeat(Number(values.size))}\0`,
);

let received = 0;
let sent = 0;
let partial = Buffer.alloc(0);
const ACK_HEADER = Buffer.from('\nack:');
const done = new Promise((resolve) => {
  consumer.on('data', (data) => {
    if (individual) {
      const buf = partial.length > 0 ? Buffer.concat([partial, data]) : data;
      let from = 0;
      const acks = [];
      for (;;) {
        const nul = buf.indexOf(0, from);
        if (nul < 0) break;
        const at = buf.indexOf(ACK_HEADER, from);
        if (at >= 0 && at < nul) {
          const end = buf.indexOf(10, at + ACK_HEADER.length);
          acks.push(`ACK\nid:${buf.toString('latin1', at + ACK_HEADER.length, end)}\n\n\0`);
        }
        received++;
        from = nul + 1;
      }
      partial = buf.subarray(from);
      if (acks.length > 0) consumer.write(acks.join(''));
    } else {
      for (let i = data.indexOf(0); i >= 0; i = data.indexOf(0, i + 1)) received++;
    }
    pump();
    if (received >= count) resolve();
  });
});

function pump() {
  let batch = 0;
  while (sent < count && sent - received < window) {
    sent++;
    batch++;
  }
  if (batch > 0) producer.write(batch === 1 ? send : Buffer.concat(Array(batch).fill(send)));
}
pump();
await done;
producer.end();
consumer.end();
await broker.close();
console.log(JSON.stringify({ count, size: Number(values.size), ack: values.ack, received }));
