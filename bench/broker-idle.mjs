// Memory per idle connection: open N STOMP connections to a broker, each with one subscription
// (SUBSCRIBE with a receipt), and report the broker process's RSS before and after.
//
// Usage: node bench/broker-idle.mjs URL --pid PID [--connections 1000] [--login L --passcode P --host H]
// Prints one JSON line: { connections, rssBefore, rssAfter, perConnection } (bytes).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

/** Resident set size of a process, in bytes (from /proc). */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

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

/** Measure; `settle()` runs before each RSS reading (e.g. asks our broker to GC). */
export async function measureIdle(
  url,
  pid,
  { connections = 1000, login, passcode, vhost, settle } = {},
) {
  const u = new URL(url);
  const host = u.hostname;
  const port = Number(u.port);
  await settle?.();
  await sleep(1000);
  const rssBefore = rssOf(pid);
  const sockets = [];
  try {
    for (let i = 0; i < connections; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(connections, i + 50); j++)
        batch.push(openIdle(host, port, j, { login, passcode, vhost }));
      sockets.push(...(await Promise.all(batch)));
    }
    await sleep(2000);
    await settle?.();
    await sleep(1000);
    const rssAfter = rssOf(pid);
    return {
      connections,
      rssBefore,
      rssAfter,
      perConnection: (rssAfter - rssBefore) / connections,
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
      host: { type: 'string' },
    },
  });
  const result = await measureIdle(
    positionals[0] ?? 'stomp://127.0.0.1:61613',
    Number(values.pid),
    {
      connections: Number(values.connections ?? 1000),
      login: values.login,
      passcode: values.passcode,
      vhost: values.host,
    },
  );
  process.stdout.write(JSON.stringify(result) + '\n');
}
