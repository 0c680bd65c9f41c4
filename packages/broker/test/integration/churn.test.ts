// Abuse: 10,000 TCP connections opened and dropped (some mid-CONNECT, some after it, some
// silent). The broker stays up, serves a well-behaved client meanwhile, closes every session,
// and gives the memory back.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Broker, createBroker } from '@stompede/broker';
import { eventually } from '../helper.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function openAndDrop(port: number, i: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // the broker may reset a half-sent CONNECT
  socket.on('data', () => undefined);
  await once(socket, 'connect');
  if (i % 3 === 0) socket.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
  if (i % 3 === 1) socket.write('CONNECT\naccept-ver');
  socket.destroy();
  await once(socket, 'close');
}

describe('connection churn', () => {
  let broker: Broker;
  let port = 0;
  before(async () => {
    broker = createBroker({ listeners: [{ protocol: 'tcp', port: 0 }] });
    const [address] = await broker.listen();
    port = address!.port;
  });
  after(() => broker.close());

  test('[Robustness] 10,000 connections opened and dropped: the broker stays up and frees them', async () => {
    const total = 10_000;
    const batch = 250;
    // Warm up (JIT, pools) before taking the memory baseline.
    await Promise.all(Array.from({ length: batch }, (_, i) => openAndDrop(port, i)));
    await eventually(() => broker.connections === 0, 'the warm-up connections closed', 30_000);
    const baseline = heapAfterGc();

    for (let from = 0; from < total; from += batch) {
      await Promise.all(Array.from({ length: batch }, (_, i) => openAndDrop(port, from + i)));
      if (from === total / 2) {
        // Halfway: a well-behaved client is served as usual.
        const socket = connect(port, '127.0.0.1');
        await once(socket, 'connect');
        socket.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
        const [chunk] = (await once(socket, 'data')) as [Buffer];
        assert.match(chunk.toString('latin1'), /^CONNECTED\n/);
        socket.destroy();
      }
    }
    await eventually(() => broker.connections === 0, 'every connection closed', 30_000);
    assert.ok(broker.metrics.connectionsClosed >= total, 'every session was closed');
    const growth = heapAfterGc() - baseline;
    // Nothing per connection is kept: 10,000 leaked sessions would be tens of megabytes.
    assert.ok(growth < 4 * 1024 * 1024, `heap grew by ${String(growth)} bytes`);
  });
});
