// Our broker in its own process for the broker benchmark: TCP and WebSocket listeners on free
// loopback ports, printed as one JSON line on stdout; over IPC it answers {cmd:'mem'} with its
// memory after a full GC, and {cmd:'close'} closes the broker and exits.
//
// Usage: node --expose-gc bench/broker-server.mjs   (normally forked by bench/broker-run.mjs)
//        STOMPEDE_BROKER=/path/to/broker/dist/index.js ...   runs another build (a baseline)
//        BENCH_DATA_DIR=DIR ...   with the embedded store in DIR (persistent messages)
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);
const { createBroker } = await import(process.env.STOMPEDE_BROKER ?? '@stompede/broker');

const broker = createBroker({
  // The idle scenario opens 10,000 connections from one address (defaults: 10,000 in all and
  // 1,000 per address, which a benchmark from loopback would hit).
  maxConnections: 100_000,
  maxQueues: 100_000,
  maxConnectionsPerAddress: 100_000,
  ...(process.env.BENCH_DATA_DIR === undefined ? {} : { dataDir: process.env.BENCH_DATA_DIR }),
  listeners: [
    { protocol: 'tcp', host: '127.0.0.1', port: Number(process.env.BENCH_TCP_PORT ?? 0) },
    { protocol: 'ws', host: '127.0.0.1', port: 0, path: '/ws' },
  ],
});
const addresses = await broker.listen();
const ready = {
  pid: process.pid,
  addresses: addresses.map((a) => ({ protocol: a.protocol, port: a.port, url: a.url })),
};
if (process.send !== undefined) process.send({ ready });
else process.stdout.write(JSON.stringify(ready) + '\n');

function memory() {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    connections: broker.connections,
  };
}

process.on('message', async (msg) => {
  if (msg?.cmd === 'mem') process.send?.({ mem: memory() });
  else if (msg?.cmd === 'metrics') process.send?.({ metrics: broker.metrics.snapshot() });
  else if (msg?.cmd === 'close') {
    await broker.close();
    process.exit(0);
  }
});
const stop = async () => {
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
// The runner went away: do not linger.
process.on('disconnect', stop);
process.on('SIGINT', stop);
