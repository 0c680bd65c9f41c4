#!/usr/bin/env node
// A two-node stompede cluster for the interop matrix (issue 16): three nats-servers with
// JetStream and two `stompede broker --cluster` nodes (packages/cli/dist), all on loopback, behind
// a round-robin balancer: consecutive connections to its TCP (and WebSocket) port go to node 1,
// node 2, node 1, ... so a driver's producer and consumer connections land on different nodes.
//
// Prints one JSON line {"tcp": PORT, "ws": PORT, "nodes": [...], "nats": "..."} once everything
// listens, or {"error": "..."} and exits 1. SIGUSR2 kills both nodes with SIGKILL and starts them
// again on the same ports (what `durable_restart` asks for), then prints {"restarted": MS}. Stops
// everything when stdin ends or on SIGTERM.
//
// Options: --user NAME:PASSWORD (repeatable), --ws-allowed-origin ORIGIN (repeatable).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
let cluster;
let hashPassword;
try {
  cluster = await import('@stompede/cluster');
  ({ hashPassword } = await import('@stompede/broker'));
  cluster.ensureNatsServer(undefined, false);
} catch (err) {
  say({ error: `cluster mode unavailable: ${err.message}` });
  process.exit(1);
}

const argv = process.argv.slice(2);
const many = (flag) => argv.flatMap((a, i) => (a === flag && argv[i + 1] ? [argv[i + 1]] : []));
const users = {};
for (const spec of many('--user')) {
  const colon = spec.indexOf(':');
  users[spec.slice(0, colon)] = { password: await hashPassword(spec.slice(colon + 1)) };
}
const origins = many('--ws-allowed-origin');

const CLI = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'stompede-interop-cluster-'));
let nats;
const nodes = [];
const servers = [];

/** A TCP balancer handing each new connection to the next node's `port(node)`, round-robin. */
async function balancer(port) {
  let next = 0;
  const server = createServer((socket) => {
    const node = nodes[next++ % nodes.length];
    const upstream = netConnect(port(node), '127.0.0.1');
    socket.setNoDelay(true);
    upstream.setNoDelay(true);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  servers.push(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address().port;
}

async function stop() {
  for (const s of servers) s.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

try {
  nats = await cluster.startNatsServers({ dir: join(dir, 'nats'), size: 3, install: false });
  const config = join(dir, 'node.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      ...(Object.keys(users).length === 0 ? {} : { users }),
      // As ours-broker.mjs: 1 s heart-beats, so the heartbeat case sees the broker beat.
      heartbeat: [1000, 1000],
      ...(origins.length === 0 ? {} : { ws: { path: '/ws', allowedOrigins: origins } }),
      // A short ack wait: durable_restart's delivered-but-unacknowledged messages come back
      // 3 s after the nodes are killed.
      cluster: { servers: nats.urls.split(','), ackWait: 3000 },
    }),
  );
  for (let i = 0; i < 2; i++) {
    nodes.push(
      new cluster.NodeProcess({
        command: [process.execPath, CLI, 'broker'],
        cluster: nats.urls,
        port: 0,
        wsPort: 0,
        args: ['--config', config, '--log-level', 'info'],
      }),
    );
  }
  await Promise.all(nodes.map((n) => n.start()));
  const tcp = await balancer((n) => n.stompPort);
  const ws = await balancer((n) => Number(new URL(n.addresses.ws).port));
  say({
    tcp,
    ws,
    nodes: nodes.map((n) => n.addresses),
    nats: nats.urls,
  });
} catch (err) {
  say({ error: String(err.message ?? err) });
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}

process.on('SIGUSR2', async () => {
  const started = Date.now();
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
  await Promise.all(nodes.map((n) => n.start()));
  say({ restarted: Date.now() - started });
});
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
