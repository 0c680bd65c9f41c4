#!/usr/bin/env node
// Drive a STOMP server over TCP with the `stompit` npm client and report each behaviour: the same
// cases and assertions as stomppy_driver.py (see CASES in stompjs-cases.mjs).
//
// Usage: node interop/clients/stompit-driver.mjs --port N [--host 127.0.0.1]
//          [--login L --passcode P] [--vhost /] [--versions 1.0,1.1,1.2] [--cases a,b]
//          [--nack-dlq /queue/ActiveMQ.DLQ]   (see the nack case in stompjs-cases.mjs)
//          [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
// Prints one JSON object per line: {"client": "stompit", "version", "case", "status", "detail"}.
// Exits 1 when any case fails.
//
// stompit 1.0.0 quirks (library, not peer), handled explicitly and kept visible:
//   - It never adds a content-length header to SEND. A body with NUL bytes is then cut at the
//     first NUL by any conforming server, so the binary case sets content-length itself, as the
//     stompit docs tell users to. Text bodies go without one (valid: the NUL ends the frame).
//   - The CONNECT `host` header defaults to the TCP host name; we pass --vhost when given.
//   - It picks the version from CONNECTED but has no way to ask for a single version except
//     overriding the `accept-version` CONNECT header, which is what we do.
//   - Frames are streams and the next frame is not parsed until the current body is consumed, so
//     every MESSAGE body is read to the end immediately in the subscription callback.
//   - Its receipt ids are numbers it allocates itself (`onReceipt` option), not caller-chosen.
import stompit from 'stompit';
import { parseArgs, list } from '../lib/args.mjs';
import { requestBrokerRestart } from '../lib/restart.mjs';
import { CASES, VERSIONS } from './stompjs-cases.mjs';

// Heart-beat period the heartbeat case asks for. 1 s, not less: on a loaded 2-core machine a
// JVM pause or a busy event loop can delay a beat by a few hundred ms, and a broker that sees a
// client beat late closes the connection (ActiveMQ did, once, with 200 ms).
const HEARTBEAT_MS = 1000;

const args = parseArgs(process.argv.slice(2), {
  host: '127.0.0.1',
  port: undefined,
  login: undefined,
  passcode: undefined,
  vhost: undefined,
  versions: undefined,
  cases: undefined,
  'nack-dlq': undefined,
  'auth-login': undefined,
  'auth-passcode': undefined,
});
if (!args.port) {
  console.error(
    'usage: stompit-driver.mjs --port N [--host H] [--login L --passcode P] [--vhost V]',
  );
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

function describeErrors(errors) {
  return errors.length === 0 ? '' : ` (${errors.join('; ')})`;
}

/** A FIFO of received items with awaitable, time-limited reads. */
class Inbox {
  constructor(what, errors) {
    this.what = what;
    this.errors = errors;
    this.items = [];
    this.waiters = [];
  }

  push(item) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  poll(ms) {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => {
      const waiter = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, ms);
      this.waiters.push(waiter);
    });
  }

  async next(ms = TIMEOUT) {
    const item = await this.poll(ms);
    if (item === null) {
      // The session's errors first: they are the cause, the timeout only the symptom.
      const cause = this.errors.length > 0 ? `${this.errors.join('; ')}: ` : '';
      throw new Error(`${cause}no ${this.what} within ${ms} ms`);
    }
    return item;
  }
}

/** Opens a stompit session asking for exactly `version`; resolves after CONNECTED. */
function open(version, { heartbeat = '0,0', login = args.login, passcode = args.passcode } = {}) {
  const errors = [];
  const connectHeaders = { 'accept-version': version, 'heart-beat': heartbeat };
  if (login !== undefined) connectHeaders.login = login;
  if (passcode !== undefined) connectHeaders.passcode = passcode;
  if (args.vhost !== undefined) connectHeaders.host = args.vhost;
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      client.destroy();
      reject(new Error(`no CONNECTED within ${TIMEOUT} ms`));
    }, TIMEOUT);
    const client = stompit.connect(
      { host: args.host, port: Number(args.port), connectHeaders, timeout: TIMEOUT },
      (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          reject(
            new Error(
              `connect failed: ${err.message}${err.longMessage ? ` ${err.longMessage}` : ''}`,
            ),
          );
          return;
        }
        resolve(session);
      },
    );
    const session = {
      client,
      errors,
      ended: false,
      get connected() {
        return client.headers ?? {};
      },
      /** Subscribes; with `receipt` (from session.receipt()) the SUBSCRIBE asks for a RECEIPT. */
      subscribe(headers, receipt) {
        const inbox = new Inbox('MESSAGE', errors);
        const onMessage = (err, message) => {
          if (err) {
            errors.push(`subscription error: ${err.message}`);
            return;
          }
          const chunks = [];
          message.on('data', (chunk) => chunks.push(chunk));
          message.on('end', () => {
            inbox.push({ headers: message.headers, body: Buffer.concat(chunks), message });
          });
        };
        if (receipt) {
          // stompit's subscribe() cannot ask for a receipt (a caller-set `receipt` header makes it
          // drop the connection on the unknown receipt-id); its documented lower-level route is
          // setImplicitSubscription() plus sendFrame() with an onReceipt option.
          client.setImplicitSubscription(headers.id, headers.ack, onMessage);
          client.sendFrame('SUBSCRIBE', { ...headers }, receipt.options).end();
        } else {
          client.subscribe({ ...headers }, onMessage);
        }
        return inbox;
      },
      /** Options for sendFrame-based calls that resolve a promise on RECEIPT. */
      receipt() {
        let options;
        const got = new Promise((resolve) => {
          options = { onReceipt: () => resolve(true) };
        });
        const timed = Promise.race([got, sleep(TIMEOUT).then(() => false)]).then((ok) => {
          if (!ok) throw new Error(`no RECEIPT within ${TIMEOUT} ms${describeErrors(errors)}`);
        });
        return { options, done: timed };
      },
      send(headers, body, options) {
        const frame = client.send({ ...headers }, options);
        frame.end(body);
      },
      close() {
        if (session.ended) return Promise.resolve();
        return new Promise((resolveClose) => {
          const timer2 = setTimeout(() => {
            client.destroy();
            resolveClose();
          }, TIMEOUT);
          // stompit's DISCONNECT carries a receipt and waits for it before closing the socket,
          // so every frame sent before it has been processed by the server.
          client.disconnect(() => {
            clearTimeout(timer2);
            resolveClose();
          });
        });
      },
    };
    client.on('error', (err) => {
      errors.push(`${err.message}${err.longMessage ? ` ${err.longMessage}` : ''}`);
    });
    client.on('end', () => {
      session.ended = true;
    });
    client.on('error', () => {
      session.ended = true;
    });
  });
}

// --- cases ------------------------------------------------------------------------------------

const cases = {
  async connect(version, track) {
    const s = track(await open(version));
    const got = s.connected.version ?? '1.0';
    const server = s.connected.server;
    await s.close();
    assert(got === version, `CONNECTED version ${got}, wanted ${version}`);
    return `CONNECTED version ${got}, server ${server}`;
  },

  async text_and_headers(version, track) {
    const dest = `/queue/stompit_text_${uid()}`;
    const s = track(await open(version));
    const inbox = s.subscribe({ destination: dest, id: 's1', ack: 'auto' });
    s.send({ destination: dest, 'x-custom': 'v1', 'x-other': 'two words' }, 'héllo wörld');
    const m = await inbox.next();
    await s.close();
    const body = m.body.toString('utf8');
    assert(body === 'héllo wörld', `body ${JSON.stringify(body)}`);
    assert(m.headers['x-custom'] === 'v1', `x-custom ${JSON.stringify(m.headers)}`);
    assert(m.headers['x-other'] === 'two words', `x-other ${JSON.stringify(m.headers)}`);
    assert(m.headers.destination === dest, `destination ${JSON.stringify(m.headers)}`);
    assert(m.headers['message-id'], `message-id ${JSON.stringify(m.headers)}`);
    return 'body and custom headers delivered';
  },

  async binary(version, track) {
    const dest = `/queue/stompit_bin_${uid()}`;
    const payload = Buffer.alloc(1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 256;
    const s = track(await open(version));
    const inbox = s.subscribe({ destination: dest, id: 's1', ack: 'auto' });
    s.send(
      {
        destination: dest,
        'content-type': 'application/octet-stream',
        'content-length': payload.length,
      },
      payload,
    );
    const m = await inbox.next();
    await s.close();
    assert(m.body.equals(payload), `binary body changed (${m.body.length} bytes back)`);
    return '1024 bytes with NULs intact';
  },

  async client_individual(version, track) {
    if (version === '1.0') return UNSUPPORTED;
    const dest = `/queue/stompit_ci_${uid()}`;
    const s = track(await open(version));
    const inbox = s.subscribe({ destination: dest, id: 's1', ack: 'client-individual' });
    for (let i = 0; i < 3; i++) s.send({ destination: dest }, `m${i}`);
    const frames = [await inbox.next(), await inbox.next(), await inbox.next()];
    const order = frames.map((f) => f.body.toString()).join();
    assert(order === 'm0,m1,m2', `order ${order}`);
    // Ack the first and last only; the middle one must come back after a reconnect.
    s.client.ack(frames[0].message);
    s.client.ack(frames[2].message);
    await s.close();
    const s2 = track(await open(version));
    const inbox2 = s2.subscribe({ destination: dest, id: 's1', ack: 'client-individual' });
    const again = await inbox2.next();
    s2.client.ack(again.message);
    const extra = await inbox2.poll(300);
    await s2.close();
    assert(again.body.toString() === 'm1', `redelivered ${JSON.stringify(again.body.toString())}`);
    assert(again.headers.redelivered === 'true', `headers ${JSON.stringify(again.headers)}`);
    assert(extra === null, `an acked message came back: ${extra?.body}`);
    return 'unacked message redelivered with redelivered:true';
  },

  async client_cumulative(version, track) {
    const dest = `/queue/stompit_cl_${uid()}`;
    const s = track(await open(version));
    const inbox = s.subscribe({ destination: dest, id: 's1', ack: 'client' });
    for (let i = 0; i < 3; i++) s.send({ destination: dest }, `m${i}`);
    const frames = [await inbox.next(), await inbox.next(), await inbox.next()];
    s.client.ack(frames[2].message); // acknowledges all three
    await s.close();
    const s2 = track(await open(version));
    const inbox2 = s2.subscribe({ destination: dest, id: 's1', ack: 'client' });
    const left = await inbox2.poll(500);
    await s2.close();
    assert(left === null, `cumulative ACK left ${JSON.stringify(left?.body.toString())} unacked`);
    return 'one ACK acknowledged all earlier messages';
  },

  // NACK outcome is server-specific; see the nack case in stompjs-cases.mjs (RabbitMQ requeues,
  // ActiveMQ Classic dead-letters persistent messages, checked with --nack-dlq).
  async nack(version, track) {
    if (version === '1.0') return UNSUPPORTED;
    const dlqName = args['nack-dlq'];
    const dest = `/queue/stompit_nack_${uid()}`;
    const s = track(await open(version));
    const inbox = s.subscribe({ destination: dest, id: 's1', ack: 'client-individual' });
    s.send(dlqName ? { destination: dest, persistent: 'true' } : { destination: dest }, 'nack-me');
    const first = await inbox.next();
    s.client.nack(first.message);
    const second = dlqName ? await inbox.poll(1000) : await inbox.next();
    if (second) {
      s.client.ack(second.message);
      await s.close();
      assert(
        second.body.toString() === 'nack-me' && second.headers.redelivered === 'true',
        `headers ${JSON.stringify(second.headers)}`,
      );
      return 'NACKed message redelivered';
    }
    // The DLQ is shared: acknowledge only our message, leave the others there.
    const dlq = s.subscribe({ destination: dlqName, id: 'dlq', ack: 'client-individual' });
    for (;;) {
      const m = await dlq.poll(DLQ_WAIT);
      assert(m !== null, `NACKed message neither redelivered nor found on ${dlqName}`);
      if (m.headers['original-destination'] === dest) {
        s.client.ack(m.message);
        await s.close();
        assert(m.body.toString() === 'nack-me', `body ${JSON.stringify(m.body.toString())}`);
        return `NACKed message dead-lettered to ${dlqName} (server's choice per spec)`;
      }
    }
  },

  async transaction(version, track) {
    const dest = `/queue/stompit_tx_${uid()}`;
    const s = track(await open(version));
    const inbox = s.subscribe({ destination: dest, id: 's1', ack: 'auto' });
    let tx = s.client.begin();
    tx.send({ destination: dest }).end('aborted');
    tx.abort();
    tx = s.client.begin();
    tx.send({ destination: dest }).end('committed');
    const early = await inbox.poll(300);
    tx.commit();
    const m = early ?? (await inbox.next());
    const extra = await inbox.poll(300);
    await s.close();
    assert(early === null, 'a transactional SEND was delivered before COMMIT');
    assert(m.body.toString() === 'committed', `body ${JSON.stringify(m.body.toString())}`);
    assert(
      extra === null,
      `an aborted SEND was delivered: ${JSON.stringify(extra?.body.toString())}`,
    );
    return 'ABORT discarded, COMMIT delivered';
  },

  async receipt(version, track) {
    const dest = `/queue/stompit_rcpt_${uid()}`;
    const s = track(await open(version));
    const r = s.receipt();
    s.send({ destination: dest }, 'x', r.options);
    await r.done;
    await s.close();
    return 'RECEIPT for SEND';
  },

  async topic(version, track) {
    const dest = `/topic/stompit_${uid()}`;
    const a = track(await open(version));
    const b = track(await open(version));
    const ia = a.subscribe({ destination: dest, id: 's1', ack: 'auto' });
    const subB = b.receipt();
    const ib = b.subscribe({ destination: dest, id: 's1', ack: 'auto' }, subB);
    await subB.done;
    const pub = a.receipt();
    a.send({ destination: dest }, 'fan', pub.options);
    await pub.done;
    const fa = await ia.next();
    const fb = await ib.next();
    await a.close();
    await b.close();
    assert(
      fa.body.toString() === 'fan' && fb.body.toString() === 'fan',
      `bodies ${fa.body} / ${fb.body}`,
    );
    return 'both subscribers received';
  },

  async heartbeat(version, track) {
    if (version === '1.0') return UNSUPPORTED;
    const s = track(await open(version, { heartbeat: `${HEARTBEAT_MS},${HEARTBEAT_MS}` }));
    const hb = s.connected['heart-beat'] ?? '0,0';
    const [sx] = hb.split(',').map((v) => Number.parseInt(v, 10));
    const socket = s.client.getTransportSocket();
    const before = socket.bytesRead;
    // Several intervals: the server must not drop us, and must beat itself (we asked for HEARTBEAT_MS,
    // so a server offering sx > 0 sends something at least every max(sx, HEARTBEAT_MS) ms). stompit sends
    // our beats and destroys the connection itself if the server stays silent past its interval.
    const every = sx > 0 ? Math.max(sx, HEARTBEAT_MS) : 0;
    const checkBeats = every > 0 && every <= 5000;
    // Three periods: ActiveMQ beats only after a whole check period without writes, so its
    // first beat may come almost two periods after CONNECTED.
    await sleep(checkBeats ? Math.max(1200, 3 * every + 200) : 1200);
    const beatBytes = socket.bytesRead - before;
    const alive = !s.ended && !socket.destroyed;
    await s.close();
    assert(hb !== '0,0', `server offered no heart-beats: ${hb}`);
    assert(alive, `connection dropped while heart-beating${describeErrors(s.errors)}`);
    if (checkBeats) assert(beatBytes > 0, `server offered ${hb} but sent no heart-beat`);
    return `heart-beat ${hb} negotiated, connection kept, ${beatBytes} bytes of server beats`;
  },
};

// durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
// (not acknowledged) before the broker is killed.
const DURABLE_COUNT = 20;
const DELIVERED_BEFORE = 5;

Object.assign(cases, {
  // A wrong passcode is refused (connect's callback gets the ERROR, within open()'s bounded
  // wait), then the right credentials connect. Wrong first: our broker slows the next login
  // after a failure, and a success resets that.
  async login(version, track) {
    const login = args['auth-login'] ?? args.login;
    const passcode = args['auth-passcode'] ?? args.passcode;
    if (login === undefined) {
      return { unsupported: 'no credentials given: the server under test runs without logins' };
    }
    let refused;
    // stompit 1.0 quirk: when the ERROR has a body (RabbitMQ's does), the error is also emitted on
    // the incoming frame stream, which has no 'error' listener: an uncaught exception. It is the
    // refusal we wait for, so it is taken as such during this one connect.
    let uncaught;
    const onUncaught = (err) => {
      if (typeof err?.isApplicationError !== 'function') throw err;
      uncaught = `${err.message}${err.longMessage ? ` ${err.longMessage.trim()}` : ''}`;
    };
    process.on('uncaughtException', onUncaught);
    try {
      track(await open(version, { login, passcode: `${passcode}-wrong` }));
    } catch (err) {
      refused = String(err?.message ?? err);
    } finally {
      await sleep(50);
      process.off('uncaughtException', onUncaught);
    }
    if (uncaught && refused?.includes('no CONNECTED within') !== false) refused = uncaught;
    assert(refused !== undefined, 'CONNECTED with a wrong passcode');
    assert(!/no CONNECTED within/.test(refused), `wrong passcode: ${refused}`);
    const s = track(await open(version, { login, passcode }));
    const got = s.connected.version ?? '1.0';
    await s.close();
    assert(got === version, `CONNECTED version ${got}, wanted ${version}`);
    return `wrong passcode refused (${refused.slice(0, 120)}); ${login} connected`;
  },

  // Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by run.mjs) and a
  // restart on the same data directory: all come back, in order, and those delivered
  // (unacknowledged) before the crash with redelivered:true.
  async durable_restart(version, track) {
    const dest = `/queue/stompit_durable_${uid()}`;
    const s = track(await open(version));
    for (let i = 0; i < DURABLE_COUNT; i++) {
      const r = s.receipt();
      s.send({ destination: dest, persistent: 'true' }, `d${i}`, r.options);
      await r.done;
    }
    const inbox = s.subscribe({ destination: dest, id: 's1', ack: 'client' });
    for (let i = 0; i < DELIVERED_BEFORE; i++) {
      const m = await inbox.next();
      assert(m.body.toString() === `d${i}`, `before the restart got ${m.body}, wanted d${i}`);
    }
    await requestBrokerRestart((l) => process.stdout.write(`${l}\n`), 'stompit', version);
    s.client.destroy();
    const s2 = track(await open(version));
    const inbox2 = s2.subscribe({ destination: dest, id: 's1', ack: 'client' });
    const got = [];
    for (let i = 0; i < DURABLE_COUNT; i++) got.push(await inbox2.next());
    s2.client.ack(got.at(-1).message);
    const extra = await inbox2.poll(300);
    await s2.close();
    const order = got.map((m) => m.body.toString()).join();
    const want = Array.from({ length: DURABLE_COUNT }, (_, i) => `d${i}`).join();
    assert(order === want, `after the restart: ${order}`);
    assert(extra === null, `more than ${DURABLE_COUNT} messages: ${extra?.body}`);
    const notRedelivered = got
      .slice(0, DELIVERED_BEFORE)
      .filter((m) => m.headers.redelivered !== 'true')
      .map((m) => m.body.toString());
    assert(notRedelivered.length === 0, `without redelivered:true: ${notRedelivered.join()}`);
    const flagged = got.filter((m) => m.headers.redelivered === 'true').length;
    return (
      `${DURABLE_COUNT} persistent messages back in order after SIGKILL + restart; the ` +
      `${DELIVERED_BEFORE} delivered before with redelivered:true (${flagged} flagged in all)`
    );
  },

  // stompit's disconnect() sends DISCONNECT with a receipt it allocates and, on the RECEIPT,
  // ends its side of the socket (a half-close: it still reads). The broker must then close: the
  // socket's 'close' follows only when the broker ends its side too.
  async disconnect(version, track) {
    const s = track(await open(version));
    const socket = s.client.getTransportSocket();
    const closed = new Promise((resolve) => socket.once('close', () => resolve(true)));
    // The callback runs at the client's 'end', with an error when the input ended before the
    // RECEIPT ("connection ended without disconnect receipt").
    const done = new Promise((resolve) => s.client.disconnect((err) => resolve(err ?? true)));
    const gotReceipt = await Promise.race([done, sleep(TIMEOUT).then(() => false)]);
    const gotClose = await Promise.race([closed, sleep(TIMEOUT).then(() => false)]);
    assert(gotReceipt, `no RECEIPT for DISCONNECT within ${TIMEOUT} ms${describeErrors(s.errors)}`);
    assert(gotReceipt === true, `DISCONNECT: ${gotReceipt.message}`);
    assert(gotClose, 'the broker did not close the connection after its RECEIPT');
    return 'RECEIPT for DISCONNECT, then the connection closed by the broker';
  },
});

let ok = true;
for (const version of list(args.versions) ?? VERSIONS) {
  for (const name of list(args.cases) ?? CASES) {
    const sessions = [];
    const track = (s) => {
      sessions.push(s);
      return s;
    };
    let result;
    try {
      const fn = cases[name];
      if (!fn) throw new Error(`unknown case ${name}`);
      const detail = await fn(version, track);
      result =
        detail === UNSUPPORTED
          ? { status: 'unsupported', detail: `STOMP ${version} has no such feature` }
          : detail?.unsupported
            ? { status: 'unsupported', detail: detail.unsupported }
            : { status: 'pass', detail };
    } catch (err) {
      ok = false;
      result = { status: 'fail', detail: String(err?.message ?? err) };
    } finally {
      for (const s of sessions) if (!s.ended) s.client.destroy();
    }
    process.stdout.write(
      `${JSON.stringify({ client: 'stompit', version, case: name, ...result })}\n`,
    );
  }
}
process.exit(ok ? 0 : 1);
