// Memory per idle connection: open N STOMP connections to a broker, each with one subscription
// (SUBSCRIBE with a receipt), and report the broker process's RSS before and after.
//
// Connections are opened 100 at a time (a sliding window); the time that takes gives the connect rate (connections
// per second, CONNECT + SUBSCRIBE + RECEIPT each). When the broker refuses or drops one, opening
// stops and the result says how many were open and what happened (memory is then per open one).
//
// Usage: node bench/broker-idle.mjs URL --pid PID [--connections 1000] [--login L --passcode P --host H]
// Prints one JSON line: { connections, opened, connectSeconds, connectRate, rssBefore, rssAfter,
// perConnection, failed? } (bytes).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { exitOnHelp } from './lib/usage.mjs';

exitOnHelp(import.meta.url);

/** Resident set size of a process, in bytes (from /proc). */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** Handshakes in progress at once while opening. */
const IN_FLIGHT = 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Open one connection with one subscription; resolves with the socket once the receipt came. */
function openIdle(host, port, i, { login, passcode, vhost }) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`connection ${i}: no receipt in 10 s`)),
      10_000,
    );
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection ${i}: closed by the broker`)));
    socket.on('connect', () => {
      let connectFrame = `CONNECT\naccept-version:1.2\nhost:${vhost ?? host}\nheart-beat:0,0\n`;
      if (login !== undefined) connectFrame += `login:${login}\npasscode:${passcode ?? ''}\n`;
      socket.write(
        `${connectFrame}\n\0SUBSCRIBE\nid:0\ndestination:/queue/stompede.idle.${i}\nack:client-individual\nreceipt:r${i}\n\n\0`,
      );
    });
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.includes('ERROR')) reject(new Error(`connection ${i}: ${text.slice(0, 200)}`));
      if (text.includes(`receipt-id:r${i}`)) {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        resolve(socket);
      }
    });
  });
}

/**
 * Measure; `settle()` runs before each RSS reading (e.g. asks our broker to GC and report its
 * memory); what it returns is in the result as `settledBefore` and `settledAfter`.
 */
export async function measureIdle(
  url,
  pid,
  { connections = 1000, login, passcode, vhost, settle } = {},
) {
  const u = new URL(url);
  const host = u.hostname;
  const port = Number(u.port);
  const settledBefore = await settle?.();
  await sleep(1000);
  const rssBefore = rssOf(pid);
  const sockets = [];
  let failed;
  const t0 = performance.now();
  try {
    // A window of IN_FLIGHT handshakes at a time: a new connection starts as soon as one is done.
    let next = 0;
    const worker = async () => {
      while (next < connections && failed === undefined) {
        const i = next++;
        try {
          sockets.push(await openIdle(host, port, i, { login, passcode, vhost }));
        } catch (err) {
          failed ??= err.message;
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const connectSeconds = (performance.now() - t0) / 1000;
    await sleep(2000);
    // Read while the connections are open (the finally below closes them).
    const settledAfter = await settle?.();
    await sleep(1000);
    const rssAfter = rssOf(pid);
    const opened = sockets.length;
    return {
      connections,
      opened,
      connectSeconds,
      connectRate: opened / connectSeconds,
      rssBefore,
      rssAfter,
      perConnection: opened > 0 ? (rssAfter - rssBefore) / opened : null,
      settledBefore,
      settledAfter,
      ...(failed === undefined ? {} : { failed }),
    };
  } finally {
    for (const s of sockets) s.end('DISCONNECT\n\n\0');
    await sleep(500);
    for (const s of sockets) s.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      pid: { type: 'string' },
      connections: { type: 'string' },
      login: { type: 'string' },
      passcode: { type: 'string' },
      vhost: { type: 'string' },
    },
  });
  const result = await measureIdle(positionals[0] ?? 'tcp://127.0.0.1:61613', Number(values.pid), {
    connections: Number(values.connections ?? 1000),
    login: values.login,
    passcode: values.passcode,
    vhost: values.vhost,
  });
  process.stdout.write(JSON.stringify(result) + '\n');
}
