#!/usr/bin/env node
// Drive a STOMP server with our own client, @stompede/client (packages/client/dist), through its
// public API only, and report each behaviour: the same cases and assertions as
// stomppy_driver.py (see CASES in stompjs-cases.mjs).
//
// Usage: node interop/clients/stompede-driver.mjs --url tcp://127.0.0.1:61613 | ws://host:port/ws
//          [--name stompede] [--login L --passcode P] [--vhost /] [--versions 1.0,1.1,1.2]
//          [--cases a,b] [--nack-dlq /queue/ActiveMQ.DLQ]
//          [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
//          [--auth-error-code CODE]   (the login case requires the refusal to carry this code)
// Prints one JSON object per line: {"client": NAME, "version", "case", "status", "detail"}.
// Exits 1 when any case fails. Over ws:// the `ws` package supplies the WebSocket class.
//
// The heartbeat case taps the transport (the public `transport` option with `connectTcp` /
// `connectWebSocket`) to read the negotiated heart-beat header and count the server's bytes; every
// other case goes through the client's default transports.
import {
  connect,
  connectTcp,
  connectWebSocket,
  nodeTransport,
  STOMP_SUBPROTOCOLS,
  StompTimeoutError,
} from '@stompede/client/node';
import WebSocket from 'ws';
import { parseArgs, list } from '../lib/args.mjs';
import { requestBrokerRestart } from '../lib/restart.mjs';
import { CASES, VERSIONS } from './stompjs-cases.mjs';

// Heart-beat period the heartbeat case asks for. 1 s, not less: on a loaded 2-core machine a
// JVM pause or a busy event loop can delay a beat by a few hundred ms, and a broker that sees a
// client beat late closes the connection (ActiveMQ did, once, with 200 ms).
const HEARTBEAT_MS = 1000;

const args = parseArgs(process.argv.slice(2), {
  url: undefined,
  name: 'stompede',
  login: undefined,
  passcode: undefined,
  vhost: undefined,
  versions: undefined,
  cases: undefined,
  'nack-dlq': undefined,
  'auth-login': undefined,
  'auth-passcode': undefined,
  'auth-error-code': undefined,
});
if (!args.url) {
  console.error('usage: stompede-driver.mjs --url tcp://H:P|ws://H:P/ws [--login L --passcode P]');
  process.exit(2);
}

const TIMEOUT = 5000;
// ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds (it
// purges inactive destinations every minute): the DLQ wait is longer, and ends as soon as the
// message is there.
const DLQ_WAIT = 30_000;
const UNSUPPORTED = Symbol('unsupported');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uid = () => Math.random().toString(16).slice(2, 10) + Date.now().toString(16);

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** Connects asking for exactly `version`. */
async function open(version, extra = {}) {
  const client = await connect(args.url, {
    versions: [version],
    transport: nodeTransport({ WebSocket }),
    heartBeat: [0, 0],
    connectTimeout: TIMEOUT,
    receiptTimeout: TIMEOUT,
    closeTimeout: TIMEOUT,
    ...(args.login === undefined ? {} : { login: args.login, passcode: args.passcode }),
    ...(args.vhost === undefined ? {} : { host: args.vhost }),
    ...extra,
  });
  return client;
}

// durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
// (not acknowledged) before the broker is killed.
const DURABLE_COUNT = 20;
const DELIVERED_BEFORE = 5;
// The login case's bound on a refused login (the broker delays a login after a failure).
const LOGIN_WAIT = 10_000;

/** An error and its causes (a lost connection names what broke it, e.g. the broker's ERROR). */
function describe(err) {
  const parts = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 4; e = e.cause, depth++) {
    parts.push(`${e.code ? `${e.code}: ` : ''}${e.message ?? e}`);
  }
  return parts.join(' <- ');
}

/** Rejects after `ms` with `what`; for steps the client itself might not bound. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The next message, or null after `ms`. */
async function poll(sub, ms) {
  try {
    return (await sub.receive({ timeout: ms })) ?? null;
  } catch (err) {
    if (err instanceof StompTimeoutError) return null;
    throw err;
  }
}

/** The next message; throws after `ms`. */
async function next(sub, ms = TIMEOUT) {
  const m = await poll(sub, ms);
  if (m === null) throw new Error(`no MESSAGE within ${ms} ms`);
  return m;
}

/**
 * A transport factory that counts the bytes the server sends and keeps the first ones (the
 * CONNECTED frame), for the heartbeat case.
 */
function tapFactory(tap) {
  return async (broker, context) => {
    const inner =
      broker.scheme === 'tcp'
        ? await connectTcp({ host: broker.host, port: broker.port, signal: context.signal })
        : await connectWebSocket(broker.uri, {
            WebSocket,
            protocols: context.versions.map((v) => STOMP_SUBPROTOCOLS[v]),
            signal: context.signal,
          });
    return {
      write: (chunks) => inner.write(chunks),
      // With `tap.awaitPeerClose`, wait (bounded) for the server to close first: the disconnect
      // case checks that the broker ends the connection after its RECEIPT.
      close: async () => {
        if (tap.awaitPeerClose && !tap.ended) {
          await Promise.race([tap.endedPromise, sleep(TIMEOUT)]);
        }
        tap.closedByUs ??= !tap.ended;
        return inner.close();
      },
      destroy: (error) => inner.destroy(error),
      get closed() {
        return inner.closed;
      },
      async *[Symbol.asyncIterator]() {
        for await (const chunk of inner) {
          tap.bytes += chunk.byteLength;
          if (tap.head.length < 4096) tap.head += Buffer.from(chunk).toString('latin1');
          yield chunk;
        }
        tap.ended = true;
        tap.onEnd?.();
      },
    };
  };
}

// --- cases ------------------------------------------------------------------------------------

const cases = {
  async connect(version, track) {
    const c = track(await open(version));
    const got = c.version;
    const server = c.server;
    await c.close();
    assert(got === version, `CONNECTED version ${got}, wanted ${version}`);
    return `CONNECTED version ${got}, server ${server}`;
  },

  async text_and_headers(version, track) {
    const dest = `/queue/stompede_text_${uid()}`;
    const c = track(await open(version));
    const sub = await c.subscribe(dest, { ack: 'auto', id: 's1' });
    await c.send(dest, 'héllo wörld', { headers: { 'x-custom': 'v1', 'x-other': 'two words' } });
    const m = await next(sub);
    await c.close();
    assert(m.text === 'héllo wörld', `body ${JSON.stringify(m.text)}`);
    const h = JSON.stringify(m.headers);
    assert(m.header('x-custom') === 'v1', `x-custom ${h}`);
    assert(m.header('x-other') === 'two words', `x-other ${h}`);
    assert(m.destination === dest, `destination ${h}`);
    assert(m.messageId, `message-id ${h}`);
    return 'body and custom headers delivered';
  },

  async binary(version, track) {
    const dest = `/queue/stompede_bin_${uid()}`;
    const payload = new Uint8Array(1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 256;
    const c = track(await open(version));
    const sub = await c.subscribe(dest, { ack: 'auto', id: 's1' });
    await c.send(dest, payload, { contentType: 'application/octet-stream' });
    const m = await next(sub);
    const body = Buffer.from(m.body);
    await c.close();
    assert(body.equals(Buffer.from(payload)), `binary body changed (${body.length} bytes back)`);
    return '1024 bytes with NULs intact';
  },

  async client_individual(version, track) {
    if (version === '1.0') return UNSUPPORTED;
    const dest = `/queue/stompede_ci_${uid()}`;
    const c = track(await open(version));
    const sub = await c.subscribe(dest, { ack: 'client-individual', id: 's1' });
    for (let i = 0; i < 3; i++) await c.send(dest, `m${i}`);
    const frames = [await next(sub), await next(sub), await next(sub)];
    const order = frames.map((f) => f.text).join();
    assert(order === 'm0,m1,m2', `order ${order}`);
    // Ack the first and last only; the middle one must come back after a reconnect.
    await frames[0].ack();
    await frames[2].ack();
    await c.close();
    const c2 = track(await open(version));
    const sub2 = await c2.subscribe(dest, { ack: 'client-individual', id: 's1' });
    const again = await next(sub2);
    await again.ack();
    const extra = await poll(sub2, 300);
    await c2.close();
    assert(again.text === 'm1', `redelivered ${JSON.stringify(again.text)}`);
    assert(again.header('redelivered') === 'true', `headers ${JSON.stringify(again.headers)}`);
    assert(extra === null, `an acked message came back: ${extra?.text}`);
    return 'unacked message redelivered with redelivered:true';
  },

  async client_cumulative(version, track) {
    const dest = `/queue/stompede_cl_${uid()}`;
    const c = track(await open(version));
    const sub = await c.subscribe(dest, { ack: 'client', id: 's1' });
    for (let i = 0; i < 3; i++) await c.send(dest, `m${i}`);
    const frames = [await next(sub), await next(sub), await next(sub)];
    await frames[2].ack(); // acknowledges all three
    await c.close();
    const c2 = track(await open(version));
    const sub2 = await c2.subscribe(dest, { ack: 'client', id: 's1' });
    const left = await poll(sub2, 500);
    await c2.close();
    assert(left === null, `cumulative ACK left ${JSON.stringify(left?.text)} unacked`);
    return 'one ACK acknowledged all earlier messages';
  },

  // NACK outcome is server-specific; see the nack case in stompjs-cases.mjs (RabbitMQ requeues,
  // ActiveMQ Classic dead-letters persistent messages, checked with --nack-dlq).
  async nack(version, track) {
    if (version === '1.0') return UNSUPPORTED;
    const dlqName = args['nack-dlq'];
    const dest = `/queue/stompede_nack_${uid()}`;
    const c = track(await open(version));
    const sub = await c.subscribe(dest, { ack: 'client-individual', id: 's1' });
    await c.send(dest, 'nack-me', dlqName ? { headers: { persistent: 'true' } } : {});
    const first = await next(sub);
    await first.nack();
    const second = dlqName ? await poll(sub, 1000) : await next(sub);
    if (second) {
      await second.ack();
      await c.close();
      assert(
        second.text === 'nack-me' && second.header('redelivered') === 'true',
        `headers ${JSON.stringify(second.headers)}`,
      );
      return 'NACKed message redelivered';
    }
    // The DLQ is shared: acknowledge only our message, leave the others there.
    const dlq = await c.subscribe(dlqName, { ack: 'client-individual', id: 'dlq' });
    for (;;) {
      const m = await poll(dlq, DLQ_WAIT);
      assert(m !== null, `NACKed message neither redelivered nor found on ${dlqName}`);
      if (m.header('original-destination') === dest) {
        await m.ack();
        await c.close();
        assert(m.text === 'nack-me', `body ${JSON.stringify(m.text)}`);
        return `NACKed message dead-lettered to ${dlqName} (server's choice per spec)`;
      }
    }
  },

  async transaction(version, track) {
    const dest = `/queue/stompede_tx_${uid()}`;
    const c = track(await open(version));
    const sub = await c.subscribe(dest, { ack: 'auto', id: 's1' });
    const rollback = new Error('rollback');
    try {
      await c.transaction(async (tx) => {
        await tx.send(dest, 'aborted');
        throw rollback;
      });
    } catch (err) {
      if (err !== rollback) throw err;
    }
    let early;
    await c.transaction(async (tx) => {
      await tx.send(dest, 'committed');
      early = await poll(sub, 300);
    });
    const m = early ?? (await next(sub));
    const extra = await poll(sub, 300);
    await c.close();
    assert(early === null, 'a transactional SEND was delivered before COMMIT');
    assert(m.text === 'committed', `body ${JSON.stringify(m.text)}`);
    assert(extra === null, `an aborted SEND was delivered: ${extra?.text}`);
    return 'ABORT discarded, COMMIT delivered';
  },

  async receipt(version, track) {
    const dest = `/queue/stompede_rcpt_${uid()}`;
    const c = track(await open(version));
    // Resolves only when the RECEIPT for this SEND arrives (rejects after receiptTimeout).
    await c.send(dest, 'x', { receipt: true });
    await c.close();
    return 'RECEIPT for SEND';
  },

  async topic(version, track) {
    const dest = `/topic/stompede_${uid()}`;
    const a = track(await open(version));
    const b = track(await open(version));
    const sa = await a.subscribe(dest, { ack: 'auto', id: 's1' });
    const sb = await b.subscribe(dest, { ack: 'auto', id: 's1', receipt: true });
    await a.send(dest, 'fan', { receipt: true });
    const fa = await next(sa);
    const fb = await next(sb);
    await a.close();
    await b.close();
    assert(fa.text === 'fan' && fb.text === 'fan', `bodies ${fa.text} / ${fb.text}`);
    return 'both subscribers received';
  },

  async heartbeat(version, track) {
    if (version === '1.0') return UNSUPPORTED;
    const tap = { bytes: 0, head: '' };
    const events = [];
    const c = track(
      await open(version, { heartBeat: [HEARTBEAT_MS, HEARTBEAT_MS], transport: tapFactory(tap) }),
    );
    c.on('disconnected', (e) => events.push(`disconnected: ${e.error?.message}`));
    const connected = tap.head.slice(0, tap.head.indexOf('\0'));
    const hb = /\nheart-beat:([^\n\r]*)/.exec(connected)?.[1] ?? '0,0';
    const [sx] = hb.split(',').map((v) => Number.parseInt(v, 10));
    const before = tap.bytes;
    // Several intervals: the server must not drop us, and must beat itself (we asked for HEARTBEAT_MS,
    // so a server offering sx > 0 sends something at least every max(sx, HEARTBEAT_MS) ms). The client
    // beats for us and declares the connection lost if the server stays silent.
    const every = sx > 0 ? Math.max(sx, HEARTBEAT_MS) : 0;
    const checkBeats = every > 0 && every <= 5000;
    // Three periods: ActiveMQ beats only after a whole check period without writes, so its
    // first beat may come almost two periods after CONNECTED.
    await sleep(checkBeats ? Math.max(1200, 3 * every + 200) : 1200);
    const beatBytes = tap.bytes - before;
    const alive = c.state === 'connected';
    await c.close();
    assert(hb !== '0,0', `server offered no heart-beats: ${hb}`);
    assert(alive, `connection dropped while heart-beating: ${c.state} ${events.join('; ')}`);
    if (checkBeats) assert(beatBytes > 0, `server offered ${hb} but sent no heart-beat`);
    return `heart-beat ${hb} negotiated, connection kept, ${beatBytes} bytes of server beats`;
  },
};

Object.assign(cases, {
  // A wrong passcode is refused (bounded wait: connect() must reject, not hang), then the right
  // credentials connect. Wrong first: the broker slows the next login after a failure, and a
  // success resets that.
  async login(version, track) {
    const login = args['auth-login'] ?? args.login;
    const passcode = args['auth-passcode'] ?? args.passcode;
    if (login === undefined) {
      return { unsupported: 'no credentials given: the server under test runs without logins' };
    }
    let refused;
    try {
      const bad = await within(
        open(version, { login, passcode: `${passcode}-wrong` }),
        LOGIN_WAIT,
        'connect with a wrong passcode',
      );
      track(bad);
    } catch (err) {
      if (/nothing within/.test(err.message)) throw err;
      refused = describe(err);
      // Where the broker's refusal is recognisable (run.mjs says which code), the client must
      // name it: a login failure, not a generic server error or a lost connection.
      const want = args['auth-error-code'];
      assert(
        want === undefined || err?.code === want,
        `refusal carries ${err?.code}, wanted ${want}`,
      );
    }
    assert(refused !== undefined, 'CONNECTED with a wrong passcode');
    const c = track(await open(version, { login, passcode }));
    const got = c.version;
    await c.close();
    assert(got === version, `CONNECTED version ${got}, wanted ${version}`);
    return `wrong passcode refused (${refused.slice(0, 120)}); ${login} connected`;
  },

  // Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs) and a
  // restart on the same data directory: all of them come back, in order, and those delivered
  // (unacknowledged) before the crash with redelivered:true.
  async durable_restart(version, track) {
    const dest = `/queue/stompede_durable_${uid()}`;
    const c = track(await open(version));
    for (let i = 0; i < DURABLE_COUNT; i++) {
      await c.send(dest, `d${i}`, { receipt: true, headers: { persistent: 'true' } });
    }
    const sub = await c.subscribe(dest, { ack: 'client', id: 's1' });
    for (let i = 0; i < DELIVERED_BEFORE; i++) {
      const m = await next(sub);
      assert(m.text === `d${i}`, `before the restart got ${m.text}, wanted d${i}`);
    }
    await requestBrokerRestart((l) => console.log(l), args.name, version);
    c.destroy();
    const c2 = track(await open(version));
    const sub2 = await c2.subscribe(dest, { ack: 'client', id: 's1' });
    const got = [];
    for (let i = 0; i < DURABLE_COUNT; i++) got.push(await next(sub2));
    await got.at(-1).ack();
    const extra = await poll(sub2, 300);
    await c2.close();
    const order = got.map((m) => m.text).join();
    const want = Array.from({ length: DURABLE_COUNT }, (_, i) => `d${i}`).join();
    assert(order === want, `after the restart: ${order}`);
    assert(extra === null, `more than ${DURABLE_COUNT} messages: ${extra?.text}`);
    const notRedelivered = got
      .slice(0, DELIVERED_BEFORE)
      .filter((m) => m.header('redelivered') !== 'true')
      .map((m) => m.text);
    assert(notRedelivered.length === 0, `without redelivered:true: ${notRedelivered.join()}`);
    const flagged = got.filter((m) => m.header('redelivered') === 'true').length;
    return (
      `${DURABLE_COUNT} persistent messages back in order after SIGKILL + restart; the ` +
      `${DELIVERED_BEFORE} delivered before with redelivered:true (${flagged} flagged in all)`
    );
  },

  // close() sends DISCONNECT with a receipt; the tapped transport sees the RECEIPT and then waits
  // for the broker to close the connection before closing its side.
  async disconnect(version, track) {
    const tap = { bytes: 0, head: '', awaitPeerClose: true, ended: false };
    tap.endedPromise = new Promise((resolve) => (tap.onEnd = resolve));
    const c = track(await open(version, { transport: tapFactory(tap) }));
    const start = tap.head.length;
    await c.close();
    const after = tap.head.slice(start);
    const receipt = /(?:^|\0|\n)RECEIPT\r?\n(?:[^\0]*\n)?receipt-id:([^\r\n]*)/.exec(after);
    assert(receipt, `no RECEIPT after DISCONNECT (server sent ${JSON.stringify(after)})`);
    assert(tap.closedByUs === false, 'the broker did not close the connection after its RECEIPT');
    return `RECEIPT (receipt-id ${receipt[1]}) for DISCONNECT, then the broker closed the connection`;
  },
});

let ok = true;
for (const version of list(args.versions) ?? VERSIONS) {
  for (const name of list(args.cases) ?? CASES) {
    const clients = [];
    const track = (c) => {
      clients.push(c);
      return c;
    };
    let result;
    try {
      const fn = cases[name];
      if (!fn) throw new Error(`unknown case ${name}`);
      const detail = await fn(version, track);
      result =
        detail === UNSUPPORTED
          ? {
              status: 'unsupported',
              detail: `STOMP ${version} has no such feature`,
            }
          : detail?.unsupported
            ? { status: 'unsupported', detail: detail.unsupported }
            : { status: 'pass', detail };
    } catch (err) {
      ok = false;
      result = { status: 'fail', detail: describe(err) };
    } finally {
      for (const c of clients) c.destroy();
    }
    console.log(JSON.stringify({ client: args.name, version, case: name, ...result }));
  }
}
process.exit(ok ? 0 : 1);
