#!/usr/bin/env node
// Failover between two of our broker processes, with @stompede/client: no message is lost.
//
// Broker A (interop/lib/ours-broker.mjs, durable store in a fresh data directory) gets N
// persistent messages (each confirmed by a RECEIPT). A consumer on
// `failover:(tcp://A,tcp://B)?randomize=false` subscribes with client-individual acks and a
// prefetch, acknowledging each message after it is recorded. After a third of them, A is stopped
// (SIGTERM: a graceful shutdown, store closed) and broker B is started on another port with the
// same data directory (a shared-store master/slave pair, as with ActiveMQ). The consumer must
// reconnect to B by itself, get its subscription replayed, and end up with every one of the N
// bodies. Duplicates are allowed (a message delivered but not yet acked when A stopped is
// redelivered, and its late ACK is refused as stale); a missing body is a failure.
//
// Usage: node interop/scenarios/failover.mjs [--versions 1.1,1.2] [--count 300]
// Prints one JSON line per version: {"client": "stompede", "version", "case": "failover", ...}.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, StompTimeoutError } from '@stompede/client/node';
import { parseArgs, list } from '../lib/args.mjs';

const args = parseArgs(process.argv.slice(2), { versions: '1.0,1.1,1.2', count: '300' });
const N = Number(args.count);
const BROKER = fileURLToPath(new URL('../lib/ours-broker.mjs', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts ours-broker.mjs on `port` with `dataDir`; resolves once it listens. */
function startBroker(port, dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BROKER, '--tcp-port', String(port), '--data-dir', dataDir, '--no-ws'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((done) => child.on('close', (code, signal) => done(code ?? signal)));
    exited.then((code) => reject(new Error(`broker exited ${code}: ${stderr.trim().slice(-400)}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const info = JSON.parse(line);
      if (info.error) reject(new Error(info.error));
      else
        resolve({
          async stop() {
            child.kill('SIGTERM');
            return exited;
          },
          kill() {
            child.kill('SIGKILL');
          },
        });
    });
  });
}

async function scenario(version) {
  if (version === '1.0') {
    return { status: 'unsupported', detail: 'client-individual acks need STOMP 1.1+' };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'stompede-failover-'));
  const [portA, portB] = [await freePort(), await freePort()];
  const dest = `/queue/failover-${Date.now().toString(16)}`;
  const brokers = [];
  let consumer;
  try {
    const a = await startBroker(portA, dataDir);
    brokers.push(a);
    const producer = await connect(`tcp://127.0.0.1:${portA}`, {
      versions: [version],
      heartBeat: [0, 0],
    });
    for (let i = 0; i < N; i++) {
      await producer.send(dest, `m${i}`, {
        receipt: true,
        headers: { persistent: 'true' },
      });
    }
    await producer.close();

    consumer = await connect(
      `failover:(tcp://127.0.0.1:${portA},tcp://127.0.0.1:${portB})` +
        '?randomize=false&initialReconnectDelay=50&maxReconnectDelay=500',
      { versions: [version], heartBeat: [1000, 1000], receiptTimeout: 5000 },
    );
    const reconnects = [];
    consumer.on('connected', (e) => {
      if (e.reconnected) reconnects.push(e.broker.uri ?? `${e.broker.host}:${e.broker.port}`);
    });
    const sub = await consumer.subscribe(dest, { ack: 'client-individual', prefetch: 20 });
    const seen = new Map();
    let deliveries = 0;
    let stale = 0;
    let failedOver = false;
    const deadline = Date.now() + 60_000;
    while (seen.size < N && Date.now() < deadline) {
      let m;
      try {
        m = await sub.receive({ timeout: 10_000 });
      } catch (err) {
        if (err instanceof StompTimeoutError) break;
        throw err;
      }
      if (m === undefined) break;
      deliveries++;
      seen.set(m.text, (seen.get(m.text) ?? 0) + 1);
      try {
        await m.ack();
      } catch (err) {
        // Delivered by A, acked after A went away: refused, B redelivers it.
        if (err?.code === 'ERR_STOMP_STALE_MESSAGE' || err?.code?.startsWith('ERR_STOMP_CONN')) {
          stale++;
        } else throw err;
      }
      if (!failedOver && seen.size >= Math.floor(N / 3)) {
        failedOver = true;
        await a.stop();
        brokers.push(await startBroker(portB, dataDir));
      }
    }
    const missing = [];
    for (let i = 0; i < N; i++) if (!seen.has(`m${i}`)) missing.push(`m${i}`);
    const dups = deliveries - seen.size;
    if (!failedOver) throw new Error(`only ${seen.size}/${N} received before the failover`);
    if (missing.length > 0) {
      throw new Error(
        `${missing.length}/${N} messages lost after failover (${missing.slice(0, 10).join(',')}` +
          `${missing.length > 10 ? ',…' : ''}); ${deliveries} deliveries, reconnects: ` +
          `${reconnects.join(' ') || 'none'}`,
      );
    }
    if (reconnects.length === 0) throw new Error('the consumer never reported a reconnect');
    return {
      status: 'pass',
      detail:
        `A stopped after ${Math.floor(N / 3)} of ${N}; reconnected to ${reconnects.join(', ')}; ` +
        `all ${N} received (${dups} redelivered, ${stale} stale acks refused)`,
    };
  } finally {
    consumer?.destroy();
    for (const b of brokers) b.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}

let ok = true;
for (const version of list(args.versions)) {
  let result;
  try {
    result = await scenario(version);
  } catch (err) {
    ok = false;
    result = {
      status: 'fail',
      detail: `${err?.code ? `${err.code}: ` : ''}${err?.message ?? err}`,
    };
  }
  console.log(JSON.stringify({ client: 'stompede', version, case: 'failover', ...result }));
}
process.exit(ok ? 0 : 1);
