#!/usr/bin/env node
// Runs Open Message Queue (imqbrokerd from interop/java/openmq/target/mq, installed by
// `interop/setup.sh java`) with its STOMP bridge, for run.mjs's `openmq` column: a fresh instance
// directory, every listener on 127.0.0.1, the port mapper and the STOMP bridge on free ports.
// Prints {"tcp":N} once the STOMP port accepts connections, and stops the broker (SIGTERM, then
// SIGKILL after 20 s) and removes the instance directory when its stdin ends.
//
// Usage: node interop/lib/openmq-broker.mjs
// The users are Open MQ's defaults (admin/admin, guest/guest); the bridge logs in as admin.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MQ_HOME = fileURLToPath(new URL('../java/openmq/target/mq', import.meta.url));
const IMQBROKERD = join(MQ_HOME, 'bin', 'imqbrokerd');
// A cold JVM on a loaded 2-core machine: the broker and its bridge take 5–40 s to listen.
const START_DEADLINE_MS = 120_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

function fail(message) {
  console.log(JSON.stringify({ error: message }));
  process.exit(1);
}

if (!existsSync(IMQBROKERD)) {
  fail('not installed: run `bash interop/setup.sh java` (interop/java/openmq)');
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(sig, () => {
    stopping = true;
  });
}
let stopping = false;
const varHome = await mkdtemp(join(tmpdir(), 'stompede-interop-openmq-'));
const [portMapper, stompPort] = [await freePort(), await freePort()];
const props = {
  'imq.hostname': '127.0.0.1',
  'imq.bridge.enabled': 'true',
  'imq.bridge.activelist': 'stomp',
  'imq.bridge.admin.user': 'admin',
  'imq.bridge.admin.password': 'admin',
  'imq.bridge.stomp.tcp.enabled': 'true',
  'imq.bridge.stomp.tcp.port': String(stompPort),
  'imq.bridge.stomp.hostname': '127.0.0.1',
};
const broker = spawn(
  IMQBROKERD,
  [
    '-varhome',
    varHome,
    '-name',
    'stompede',
    '-port',
    String(portMapper),
    '-silent',
    ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
  ],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true, // its own process group: imqbrokerd is a shell script that starts java
  },
);
let exited;
const stderr = [];
broker.stderr.on('data', (d) => stderr.push(d));
const exit = new Promise((resolve) => {
  broker.on('close', (code, signal) => {
    exited = `imqbrokerd exited ${code ?? signal}: ${Buffer.concat(stderr).toString().trim().slice(-600)}`;
    resolve();
  });
});

async function stop() {
  if (exited === undefined) {
    process.kill(-broker.pid, 'SIGTERM');
    const killer = setTimeout(() => process.kill(-broker.pid, 'SIGKILL'), 20_000);
    await exit;
    clearTimeout(killer);
  }
  await rm(varHome, { recursive: true, force: true });
}

const deadline = Date.now() + START_DEADLINE_MS;
while (!(await canConnect(stompPort))) {
  if (exited !== undefined || stopping || Date.now() > deadline) {
    const log = await readFile(join(varHome, 'instances/stompede/log/log.txt'), 'utf8').catch(
      () => '',
    );
    const why = exited ?? `the STOMP bridge did not listen within ${START_DEADLINE_MS / 1000} s`;
    await stop();
    fail(`${why}${log ? `; log: …${log.trim().slice(-600)}` : ''}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
console.log(JSON.stringify({ tcp: stompPort }));

// Stdin ending is the normal stop (run.mjs going away); a signal stops the broker too, so that
// no JVM outlives its launcher.
const stopAndExit = async () => {
  await stop();
  process.exit(0);
};
process.stdin.resume();
process.stdin.on('end', stopAndExit);
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.once(sig, stopAndExit);
