// One STOMP client library in a process of its own, for the client benchmark (client-run.mjs):
// a producer connection and a consumer connection through the same broker, measuring wall-clock
// throughput and the process CPU time (`process.cpuUsage()`) of this process, which runs nothing
// but that client, per message.
//
// Forked by client-run.mjs (one process per client, commands over IPC), or on its own, e.g. to
// profile one client:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/client-worker.mjs --client ours-tcp \
//     --tcp 127.0.0.1:61633 --ws ws://127.0.0.1:15683/ws --login guest --passcode guest \
//     --vhost / --size 100 --ack auto --count 50000 [--reps 3]
//   STOMPEDE_CLIENT=/tmp/client-candidate/dist/node/index.js node bench/client-worker.mjs ...
//     (the same with another build of our client, e.g. to try a change to packages/client)
//
// Clients: ours-tcp, ours-ws (@stompede/client/node), stompjs-ws (@stomp/stompjs with
// webSocketFactory), stompit-tcp (stompit). Every WebSocket is built with the `ws` package and
// `perMessageDeflate: false`.
//
// Bodies are strings (what applications send most: JSON, text) of exactly `size` ASCII bytes:
// a 4-letter tag of the measurement, an 8-digit sequence number, filler. The consumer checks
// each body's byte length, tag and sequence number without decoding the body: every message
// must arrive once and intact. Messages with another tag (left over by an aborted earlier run)
// are acknowledged, counted as stale and ignored. The producer keeps at most `window` messages
// in flight (sent and not yet received), the same for every client, so that no broker queue
// grows without bound and every client is measured on the same pipeline.
import { performance } from 'node:perf_hooks';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { exitOnHelp } from './lib/usage.mjs';
import { cpuSecondsOf } from './lib/process-cpu.mjs';

exitOnHelp(import.meta.url);

export const CLIENTS = ['ours-tcp', 'ours-ws', 'stompjs-ws', 'stompit-tcp'];
const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];
const DESTINATION = '/queue/stompede-bench-client';

/**
 * `ws` with permessage-deflate off whatever the caller asks. Our client passes its `ws` options
 * (deflate off by default, and a socket for ws:// that stops reading when paused) as the third
 * argument; they are kept.
 */
class PlainWebSocket extends WebSocket {
  constructor(url, protocols, options) {
    super(url, protocols, { ...options, perMessageDeflate: false });
  }
}

function prefetchHeaders(target) {
  return target.ack === 'auto' ? {} : { 'prefetch-count': String(target.window) };
}

function connectHeaders(target) {
  const headers = {};
  if (target.login !== undefined) headers.login = target.login;
  if (target.passcode !== undefined) headers.passcode = target.passcode;
  if (target.vhost !== undefined) headers.host = target.vhost;
  return headers;
}

/**
 * Adapters: `open(target, onBody)` connects a consumer (subscribed) and a producer and returns
 * `{ send(body): Promise | undefined, close(): Promise }`. `onBody(bytes)` gets each message
 * body as bytes; the adapter acknowledges in client-individual mode, the way its docs show.
 */
const ADAPTERS = {
  async 'ours-tcp'(target, onBody) {
    return openOurs(`tcp://${target.tcp}`, target, onBody);
  },
  async 'ours-ws'(target, onBody) {
    return openOurs(target.ws, target, onBody);
  },
  async 'stompjs-ws'(target, onBody) {
    const { Client } = await import('@stomp/stompjs');
    const open = () =>
      new Promise((resolve, reject) => {
        const client = new Client({
          webSocketFactory: () =>
            new WebSocket(target.ws, SUBPROTOCOLS, { perMessageDeflate: false }),
          connectHeaders: connectHeaders(target),
          heartbeatIncoming: 0,
          heartbeatOutgoing: 0,
          reconnectDelay: 0,
          debug: () => undefined,
          onConnect: () => resolve(client),
          onStompError: (frame) => reject(new Error(`stompjs: ERROR ${frame.headers.message}`)),
          onWebSocketError: () => reject(new Error(`stompjs: cannot connect to ${target.ws}`)),
        });
        client.activate();
      });
    const consumer = await open();
    const manual = target.ack !== 'auto';
    consumer.subscribe(
      DESTINATION,
      (message) => {
        onBody(message.binaryBody);
        if (manual) message.ack();
      },
      { ack: target.ack, ...prefetchHeaders(target) },
    );
    const producer = await open();
    return {
      send(body) {
        producer.publish({ destination: DESTINATION, body });
        return undefined;
      },
      async close() {
        await producer.deactivate();
        await consumer.deactivate();
      },
    };
  },
  async 'stompit-tcp'(target, onBody) {
    const { default: stompit } = await import('stompit');
    const [host, port] = target.tcp.split(':');
    const open = () =>
      new Promise((resolve, reject) => {
        stompit.connect(
          {
            host,
            port: Number(port),
            connectHeaders: { ...connectHeaders(target), 'heart-beat': '0,0' },
          },
          (err, client) => (err ? reject(err) : resolve(client)),
        );
      });
    const consumer = await open();
    const manual = target.ack !== 'auto';
    consumer.subscribe(
      { destination: DESTINATION, ack: target.ack, ...prefetchHeaders(target) },
      (err, message) => {
        if (err) {
          onBody(undefined, err);
          return;
        }
        // stompit delivers bodies as streams; reading it to the end (as readString does),
        // without decoding it.
        const chunks = [];
        message.on('data', (chunk) => chunks.push(chunk));
        message.on('end', () => {
          onBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
          if (manual) consumer.ack(message);
        });
      },
    );
    const producer = await open();
    const disconnect = (client) =>
      new Promise((resolve) => {
        client.disconnect(() => resolve());
      });
    return {
      send(body) {
        const frame = producer.send({ destination: DESTINATION });
        frame.write(body);
        frame.end();
        return undefined;
      },
      async close() {
        await disconnect(producer);
        await disconnect(consumer);
      },
    };
  },
};

/**
 * Our client: the built `@stompede/client/node`, or another build given by STOMPEDE_CLIENT (a
 * path to its `node/index.js`), e.g. a candidate change copied outside the workspace.
 */
const clientSource = process.env.STOMPEDE_CLIENT ?? '@stompede/client/node';

async function openOurs(url, target, onBody) {
  const { connect, nodeTransport } = await import(
    isAbsolute(clientSource) ? pathToFileURL(clientSource).href : clientSource
  );
  const options = {
    ...(target.login === undefined ? {} : { login: target.login }),
    ...(target.passcode === undefined ? {} : { passcode: target.passcode }),
    ...(target.vhost === undefined ? {} : { host: target.vhost }),
    heartBeat: [0, 0],
    // Builds before nodeTransport() took the WebSocket class as a connect() option.
    ...(nodeTransport === undefined
      ? { WebSocket: PlainWebSocket }
      : { transport: nodeTransport({ WebSocket: PlainWebSocket }) }),
  };
  const consumer = await connect(url, options);
  const manual = target.ack !== 'auto';
  await consumer.subscribe(
    DESTINATION,
    { ack: target.ack, ...(manual ? { prefetch: target.window } : {}) },
    (msg) => {
      onBody(msg.body);
      if (manual) return msg.ack();
      return undefined;
    },
  );
  const producer = await connect(url, options);
  return {
    send(body) {
      return producer.send(DESTINATION, body);
    },
    async close() {
      await producer.close();
      await consumer.close();
    },
  };
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * One measurement: connect, send `count` messages of `size` bytes (at most `window` in flight),
 * wait until all arrived, close. Times and CPU cover the first send to the last delivery.
 */
export async function measure(target) {
  const { client, size, count, window } = target;
  const tag = Array.from({ length: 4 }, () => LETTERS[Math.floor(Math.random() * 26)]).join('');
  const tagCodes = [...tag].map((c) => c.charCodeAt(0));
  const filler = 'x'.repeat(size - 12);
  const seen = new Uint8Array(count);
  let received = 0;
  let stale = 0;
  let failure;
  let wake;
  let wakeAt = 0;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  const fail = (error) => {
    failure ??= error;
    finished();
    wake?.();
  };

  const onBody = (bytes, error) => {
    if (error !== undefined) return fail(error);
    if (
      bytes[0] !== tagCodes[0] ||
      bytes[1] !== tagCodes[1] ||
      bytes[2] !== tagCodes[2] ||
      bytes[3] !== tagCodes[3]
    ) {
      stale++;
      return;
    }
    if (bytes.length !== size) {
      return fail(new Error(`${client}: a body of ${bytes.length} bytes, expected ${size}`));
    }
    let seq = 0;
    for (let i = 4; i < 12; i++) seq = seq * 10 + bytes[i] - 48;
    if (!(seq < count) || seen[seq] !== 0) {
      return fail(new Error(`${client}: message ${seq} arrived twice (or is out of range)`));
    }
    seen[seq] = 1;
    received++;
    if (received === count) finished();
    if (wake !== undefined && received >= wakeAt) {
      const w = wake;
      wake = undefined;
      w();
    }
  };

  const session = await ADAPTERS[client](target, onBody);
  let lastProgress = received;
  const watchdog = setInterval(() => {
    if (received === lastProgress) {
      fail(new Error(`${client}: no progress for 20 s (${received}/${count} received)`));
    }
    lastProgress = received;
  }, 20000);

  const brokerCpuStart = target.brokerPid === undefined ? NaN : cpuSecondsOf(target.brokerPid);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < count && failure === undefined; i++) {
    if (i - received >= window) {
      wakeAt = i - (window >> 1);
      await new Promise((resolve) => (wake = resolve));
      if (failure !== undefined) break;
    }
    const pending = session.send(tag + String(i).padStart(8, '0') + filler);
    if (pending !== undefined) await pending;
  }
  await done;
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const brokerCpu = cpuSecondsOf(target.brokerPid ?? -1) - brokerCpuStart;
  clearInterval(watchdog);
  if (failure !== undefined) {
    await Promise.race([session.close(), new Promise((r) => setTimeout(r, 2000))]).catch(
      () => undefined,
    );
    throw failure;
  }
  await session.close();
  return {
    count,
    received,
    stale,
    wallMs,
    msgsPerSecond: count / (wallMs / 1000),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    cpuUsPerMsg: (cpu.user + cpu.system) / count,
    brokerCpuUsPerMsg: (brokerCpu * 1e6) / count,
  };
}

if (process.send !== undefined) {
  // Forked by client-run.mjs: {id, target} in, {id, result} or {id, error} out.
  process.on('message', (msg) => {
    if (msg?.cmd === 'exit') process.exit(0);
    measure(msg.target).then(
      (result) => process.send({ id: msg.id, result }),
      (error) => process.send({ id: msg.id, error: String(error?.stack ?? error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: process.pid });
} else {
  const { values } = parseArgs({
    options: {
      client: { type: 'string', default: 'ours-tcp' },
      tcp: { type: 'string', default: '127.0.0.1:61633' },
      ws: { type: 'string', default: 'ws://127.0.0.1:15683/ws' },
      login: { type: 'string' },
      passcode: { type: 'string' },
      vhost: { type: 'string' },
      size: { type: 'string', default: '100' },
      ack: { type: 'string', default: 'auto' },
      count: { type: 'string', default: '20000' },
      window: { type: 'string', default: '1000' },
      reps: { type: 'string', default: '1' },
    },
  });
  const target = {
    ...values,
    size: Number(values.size),
    count: Number(values.count),
    window: Number(values.window),
  };
  for (let rep = 0; rep < Number(values.reps); rep++) {
    const r = await measure(target);
    process.stderr.write(
      `${values.client} ${values.size} B ${values.ack}: ${Math.round(r.msgsPerSecond)} msgs/s, ` +
        `${r.cpuUsPerMsg.toFixed(1)} µs CPU/msg (user ${(r.cpuUserUs / r.count).toFixed(1)}, ` +
        `system ${(r.cpuSystemUs / r.count).toFixed(1)}; ${r.stale} stale)\n`,
    );
  }
}
