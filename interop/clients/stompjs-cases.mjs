// The interop cases for @stomp/stompjs, shared by the Node driver (stompjs-driver.mjs, WebSocket
// from the `ws` package) and the headless-browser driver (interop/browser/, the browser's own
// WebSocket). This module runs unchanged in both: no Node built-ins, no imports; the caller hands
// in the stompjs `Client` and `Versions` classes and a WebSocket factory.
//
// The cases mirror interop/clients/stomppy_driver.py one for one (same names, same assertions),
// so the matrix compares like with like. Each case reports one result object:
//   { client, version, case, status: 'pass' | 'fail' | 'unsupported', detail }
//
// Known stompjs 7.x deviations (library quirks, not peer quirks), kept visible rather than
// worked around:
//   - stompjs escapes/unescapes header values only when 1.2 is negotiated; STOMP 1.1 also requires
//     escaping of "\\", "\n" and ":" in header values. The cases below only use header values
//     without those characters, so this does not affect them.
//   - message.ack()/nack() silently do nothing when the MESSAGE has no `subscription` header
//     (possible in STOMP 1.0). A missing ACK then surfaces as a redelivery failure, not as an error.
// Heart-beat period the heartbeat case asks for. 1 s, not less: on a loaded 2-core machine a
// JVM pause or a busy process can delay a beat by a few hundred ms, and a broker that sees a
// client beat late closes the connection (ActiveMQ did, once, with 200 ms).
const HEARTBEAT_MS = 1000;

/** Case names, in the order the stomp.py driver runs them. */
export const CASES = [
  'connect',
  'text_and_headers',
  'binary',
  'client_individual',
  'client_cumulative',
  'nack',
  'transaction',
  'receipt',
  'topic',
  'heartbeat',
  'login',
  'durable_restart',
  'disconnect',
];

export const VERSIONS = ['1.0', '1.1', '1.2'];

const TIMEOUT = 5000;
// ActiveMQ dead-letters a NACKed message asynchronously and can stall for seconds (it
// purges inactive destinations every minute): the DLQ wait is longer, and ends as soon as the
// message is there.
const DLQ_WAIT = 30_000;
// durable_restart: persistent messages sent, of which the first DELIVERED_BEFORE are delivered
// (not acknowledged) before the broker is killed.
const DURABLE_COUNT = 20;
const DELIVERED_BEFORE = 5;
const UNSUPPORTED = Symbol('unsupported');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function uid() {
  return Math.random().toString(16).slice(2, 10) + Date.now().toString(16);
}

/** A FIFO of received frames with awaitable, time-limited reads. */
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

  /** The next item, or null after `ms`. */
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

  /** The next item; throws after `ms`, naming any ERROR frame the session got meanwhile. */
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

function describeErrors(errors) {
  if (errors.length === 0) return '';
  return ` (${errors.map((e) => e).join('; ')})`;
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs every case for every version and calls `report` with one result per case.
 * @param {object} env
 * @param {string} env.clientName     the `client` column, e.g. 'stompjs' or 'stompjs-browser'
 * @param {Function} env.Client       @stomp/stompjs Client
 * @param {Function} env.Versions     @stomp/stompjs Versions
 * @param {() => WebSocket} env.makeWebSocket  a new WebSocket to the broker each call
 * @param {string|undefined} env.login
 * @param {string|undefined} env.passcode
 * @param {string|undefined} env.vhost  CONNECT `host` header (RabbitMQ: "/")
 * @param {string[]} [env.versions]
 * @param {string[]} [env.cases]
 * @param {string} [env.nackDlq]  dead-letter queue where the peer moves NACKed messages (ActiveMQ)
 * @param {string} [env.authLogin]     the login case's user (default env.login)
 * @param {string} [env.authPasscode]  its passcode (default env.passcode)
 * @param {(version: string) => Promise<void>} [env.restartBroker]  durable_restart: asks the
 *   harness to kill and restart the broker (lib/restart.mjs); resolves once it is back
 * @param {(result: object) => void | Promise<void>} env.report
 * @returns {Promise<boolean>} true when no case failed
 */
export async function runStompjsCases(env) {
  const { Client, Versions } = env;
  let ok = true;

  /**
   * Opens one STOMP session; resolves once CONNECTED arrived. `login`/`passcode` override the
   * driver's; `wrapSocket` sees each WebSocket before stompjs does; `disconnectHeaders` go on the
   * DISCONNECT that close() sends.
   */
  function open(
    version,
    {
      heartbeat = 0,
      login = env.login,
      passcode = env.passcode,
      wrapSocket = (ws) => ws,
      disconnectHeaders = {},
    } = {},
  ) {
    const errors = [];
    const receipts = new Map();
    const connectHeaders = {};
    if (login !== undefined) connectHeaders.login = login;
    if (passcode !== undefined) connectHeaders.passcode = passcode;
    // Like stomp.py, send the virtual host only from 1.1 on, where `host` is a defined header.
    if (env.vhost !== undefined && version !== '1.0') connectHeaders.host = env.vhost;
    const session = {
      errors,
      beats: 0,
      closed: null,
      closing: false,
      connected: null,
      subscribe(destination, headers, what = 'MESSAGE') {
        const inbox = new Inbox(what, errors);
        client.subscribe(destination, (message) => inbox.push(message), headers);
        return inbox;
      },
      /** A promise for the RECEIPT with this id; register before sending the frame. */
      receipt(id) {
        const inbox = new Inbox(`RECEIPT ${id}`, errors);
        receipts.set(id, inbox);
        client.watchForReceipt(id, (frame) => inbox.push(frame));
        return inbox.next();
      },
      async close() {
        if (session.closed) return;
        session.closing = true;
        await Promise.race([client.deactivate(), sleep(TIMEOUT)]);
        if (!session.closed) await client.deactivate({ force: true });
      },
    };
    const client = new Client({
      webSocketFactory: () => wrapSocket(env.makeWebSocket()),
      disconnectHeaders,
      stompVersions: new Versions([version]),
      connectHeaders,
      heartbeatIncoming: heartbeat,
      heartbeatOutgoing: heartbeat,
      reconnectDelay: 0,
      connectionTimeout: TIMEOUT,
      debug: () => {},
      onHeartbeatReceived: () => {
        session.beats++;
      },
    });
    session.client = client;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void client.deactivate({ force: true });
        reject(new Error(`no CONNECTED within ${TIMEOUT} ms${describeErrors(errors)}`));
      }, TIMEOUT);
      client.onConnect = (frame) => {
        clearTimeout(timer);
        session.connected = frame;
        resolve(session);
      };
      client.onStompError = (frame) => {
        errors.push(`ERROR ${frame.headers.message ?? ''} ${frame.body ?? ''}`.trim());
        if (!session.connected) {
          clearTimeout(timer);
          reject(new Error(`ERROR instead of CONNECTED${describeErrors(errors)}`));
        }
      };
      client.onWebSocketClose = (event) => {
        session.closed = event ?? {};
        if (session.connected && !session.closing) {
          errors.push(
            `WebSocket closed by peer or client (code ${event?.code}${event?.reason ? ` ${event.reason}` : ''})`,
          );
        }
        if (!session.connected) {
          clearTimeout(timer);
          reject(
            new Error(
              `WebSocket closed before CONNECTED (code ${event?.code}${event?.reason ? ` ${event.reason}` : ''})${describeErrors(errors)}`,
            ),
          );
        }
      };
      client.onWebSocketError = (event) => {
        // ws passes an ErrorEvent with `message` (e.g. "Invalid UTF-8 sequence"); browsers don't.
        errors.push(`WebSocket error${event?.message ? `: ${event.message}` : ''}`);
      };
      client.activate();
    });
  }

  // --- cases ------------------------------------------------------------------------------
  // Every case gets `track(session)` to register sessions that must be closed even on failure.

  const cases = {
    async connect(version, track) {
      const s = track(await open(version));
      const got = s.connected.headers.version ?? '1.0';
      await s.close();
      assert(got === version, `CONNECTED version ${got}, wanted ${version}`);
      return `CONNECTED version ${got}, server ${s.connected.headers.server}`;
    },

    async text_and_headers(version, track) {
      const dest = `/queue/js_text_${uid()}`;
      const s = track(await open(version));
      const inbox = s.subscribe(dest, { id: 's1', ack: 'auto' });
      s.client.publish({
        destination: dest,
        body: 'héllo wörld',
        headers: { 'x-custom': 'v1', 'x-other': 'two words' },
      });
      const m = await inbox.next();
      await s.close();
      assert(m.body === 'héllo wörld', `body ${JSON.stringify(m.body)}`);
      assert(m.headers['x-custom'] === 'v1', `x-custom ${JSON.stringify(m.headers)}`);
      assert(m.headers['x-other'] === 'two words', `x-other ${JSON.stringify(m.headers)}`);
      assert(m.headers.destination === dest, `destination ${JSON.stringify(m.headers)}`);
      assert(m.headers['message-id'], `message-id ${JSON.stringify(m.headers)}`);
      return 'body and custom headers delivered';
    },

    // RabbitMQ quirk (3.10, Web-STOMP with its default `web_stomp.ws_frame = text`): every frame
    // goes out as a *text* WebSocket message, even a MESSAGE whose body is arbitrary bytes and
    // even when the SEND came in a binary WebSocket message. RFC 6455 requires text messages to be
    // UTF-8, so `ws` and browsers close the connection (1007/1006) and the MESSAGE never arrives:
    // this case fails against such a peer. `web_stomp.ws_frame = binary` in rabbitmq.conf fixes
    // it; the assertion stays as it is.
    async binary(version, track) {
      const dest = `/queue/js_bin_${uid()}`;
      const payload = new Uint8Array(1024);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 256;
      const s = track(await open(version));
      const inbox = s.subscribe(dest, { id: 's1', ack: 'auto' });
      s.client.publish({
        destination: dest,
        binaryBody: payload,
        headers: { 'content-type': 'application/octet-stream' },
      });
      const m = await inbox.next();
      await s.close();
      const got = m.binaryBody;
      assert(sameBytes(got, payload), `binary body changed (${got.length} bytes back)`);
      return '1024 bytes with NULs intact';
    },

    async client_individual(version, track) {
      if (version === '1.0') return UNSUPPORTED;
      const dest = `/queue/js_ci_${uid()}`;
      const s = track(await open(version));
      const inbox = s.subscribe(dest, { id: 's1', ack: 'client-individual' });
      for (let i = 0; i < 3; i++) s.client.publish({ destination: dest, body: `m${i}` });
      const frames = [await inbox.next(), await inbox.next(), await inbox.next()];
      assert(
        frames.map((f) => f.body).join() === 'm0,m1,m2',
        `order ${frames.map((f) => f.body).join()}`,
      );
      // Ack the first and last only; the middle one must come back after a reconnect.
      frames[0].ack();
      frames[2].ack();
      await s.close(); // DISCONNECT with a receipt: the ACKs before it were processed
      const s2 = track(await open(version));
      const inbox2 = s2.subscribe(dest, { id: 's1', ack: 'client-individual' });
      const again = await inbox2.next();
      again.ack();
      const extra = await inbox2.poll(300);
      await s2.close();
      assert(again.body === 'm1', `redelivered ${JSON.stringify(again.body)}`);
      assert(again.headers.redelivered === 'true', `headers ${JSON.stringify(again.headers)}`);
      assert(extra === null, `an acked message came back: ${extra?.body}`);
      return 'unacked message redelivered with redelivered:true';
    },

    async client_cumulative(version, track) {
      const dest = `/queue/js_cl_${uid()}`;
      const s = track(await open(version));
      const inbox = s.subscribe(dest, { id: 's1', ack: 'client' });
      for (let i = 0; i < 3; i++) s.client.publish({ destination: dest, body: `m${i}` });
      const frames = [await inbox.next(), await inbox.next(), await inbox.next()];
      frames[2].ack(); // acknowledges all three
      await s.close();
      const s2 = track(await open(version));
      const inbox2 = s2.subscribe(dest, { id: 's1', ack: 'client' });
      const left = await inbox2.poll(500);
      await s2.close();
      assert(left === null, `cumulative ACK left ${JSON.stringify(left?.body)} unacked`);
      return 'one ACK acknowledged all earlier messages';
    },

    // The spec leaves what happens to a NACKed message to the server ("send the message to a
    // different client, discard it, or put it in a dead letter queue"). RabbitMQ requeues it, so
    // it must come back with redelivered:true. ActiveMQ Classic quirk: it never redelivers a
    // NACKed message; it moves a persistent one to its dead-letter queue (ActiveMQ.DLQ) and drops
    // a non-persistent one. With `nackDlq` (run.mjs passes it for ActiveMQ only) the message is
    // sent persistent and, when it does not come back, must be found on that DLQ, carrying
    // original-destination; without it, only redelivery passes.
    async nack(version, track) {
      if (version === '1.0') return UNSUPPORTED;
      const dest = `/queue/js_nack_${uid()}`;
      const s = track(await open(version));
      const inbox = s.subscribe(dest, { id: 's1', ack: 'client-individual' });
      s.client.publish({
        destination: dest,
        body: 'nack-me',
        headers: env.nackDlq ? { persistent: 'true' } : {},
      });
      const first = await inbox.next();
      first.nack();
      if (!env.nackDlq) {
        const second = await inbox.next();
        second.ack();
        await s.close();
        assert(
          second.body === 'nack-me' && second.headers.redelivered === 'true',
          `headers ${JSON.stringify(second.headers)}`,
        );
        return 'NACKed message redelivered';
      }
      const second = await inbox.poll(1000);
      if (second) {
        second.ack();
        await s.close();
        assert(
          second.body === 'nack-me' && second.headers.redelivered === 'true',
          `headers ${JSON.stringify(second.headers)}`,
        );
        return 'NACKed message redelivered';
      }
      // The DLQ is shared: acknowledge only our message, leave the others there.
      const dlq = s.subscribe(env.nackDlq, { id: 'dlq', ack: 'client-individual' });
      for (;;) {
        const m = await dlq.poll(DLQ_WAIT);
        assert(m !== null, `NACKed message neither redelivered nor found on ${env.nackDlq}`);
        if (m.headers['original-destination'] === dest) {
          m.ack();
          await s.close();
          assert(m.body === 'nack-me', `body ${JSON.stringify(m.body)}`);
          return `NACKed message dead-lettered to ${env.nackDlq} (server's choice per spec)`;
        }
      }
    },

    async transaction(version, track) {
      const dest = `/queue/js_tx_${uid()}`;
      const s = track(await open(version));
      const inbox = s.subscribe(dest, { id: 's1', ack: 'auto' });
      let tx = s.client.begin();
      s.client.publish({ destination: dest, body: 'aborted', headers: { transaction: tx.id } });
      tx.abort();
      tx = s.client.begin();
      s.client.publish({ destination: dest, body: 'committed', headers: { transaction: tx.id } });
      const early = await inbox.poll(300);
      tx.commit();
      const m = early ?? (await inbox.next());
      const extra = await inbox.poll(300);
      await s.close();
      assert(early === null, 'a transactional SEND was delivered before COMMIT');
      assert(m.body === 'committed', `body ${JSON.stringify(m.body)}`);
      assert(extra === null, `an aborted SEND was delivered: ${JSON.stringify(extra?.body)}`);
      return 'ABORT discarded, COMMIT delivered';
    },

    async receipt(version, track) {
      const dest = `/queue/js_rcpt_${uid()}`;
      const s = track(await open(version));
      const got = s.receipt('rcpt-1');
      s.client.publish({ destination: dest, body: 'x', headers: { receipt: 'rcpt-1' } });
      const frame = await got;
      await s.close(); // stompjs sends DISCONNECT with its own receipt and waits for it
      assert(frame.headers['receipt-id'] === 'rcpt-1', `receipt-id ${frame.headers['receipt-id']}`);
      return 'RECEIPT for SEND';
    },

    async topic(version, track) {
      const dest = `/topic/js_${uid()}`;
      const a = track(await open(version));
      const b = track(await open(version));
      const ia = a.subscribe(dest, { id: 's1', ack: 'auto' });
      const subB = b.receipt('sub-b');
      const ib = b.subscribe(dest, { id: 's1', ack: 'auto', receipt: 'sub-b' });
      await subB;
      const pub = a.receipt('pub');
      a.client.publish({ destination: dest, body: 'fan', headers: { receipt: 'pub' } });
      await pub;
      const fa = await ia.next();
      const fb = await ib.next();
      await a.close();
      await b.close();
      assert(fa.body === 'fan' && fb.body === 'fan', `bodies ${fa.body} / ${fb.body}`);
      return 'both subscribers received';
    },

    async heartbeat(version, track) {
      if (version === '1.0') return UNSUPPORTED;
      const s = track(await open(version, { heartbeat: HEARTBEAT_MS }));
      const hb = s.connected.headers['heart-beat'] ?? '0,0';
      const [sx] = hb.split(',').map((v) => Number.parseInt(v, 10));
      // Several intervals: the server must not drop us, and must beat itself (the client asked
      // for HEARTBEAT_MS, so a server offering sx > 0 sends something at least every max(sx, HEARTBEAT_MS) ms).
      const every = sx > 0 ? Math.max(sx, HEARTBEAT_MS) : 0;
      const checkBeats = every > 0 && every <= 5000;
      // Three periods: ActiveMQ beats only after a whole check period without writes, so its
      // first beat may come almost two periods after CONNECTED.
      await sleep(checkBeats ? Math.max(1200, 3 * every + 200) : 1200);
      const alive = s.client.connected && !s.closed;
      const beats = s.beats;
      await s.close();
      assert(hb !== '0,0', `server offered no heart-beats: ${hb}`);
      assert(alive, `connection dropped while heart-beating${describeErrors(s.errors)}`);
      if (checkBeats) assert(beats > 0, `server offered ${hb} but sent no heart-beat`);
      return `heart-beat ${hb} negotiated, connection kept, ${beats} server beats`;
    },
  };

  Object.assign(cases, {
    // A wrong passcode is refused (an ERROR or a closed WebSocket before CONNECTED, within the
    // bounded wait of open()), then the right credentials connect. Wrong first: our broker slows
    // the next login after a failure, and a success resets that.
    async login(version, track) {
      const login = env.authLogin ?? env.login;
      const passcode = env.authPasscode ?? env.passcode;
      if (login === undefined) {
        return { unsupported: 'no credentials given: the server under test runs without logins' };
      }
      let refused;
      try {
        track(await open(version, { login, passcode: `${passcode}-wrong` }));
      } catch (err) {
        refused = String(err?.message ?? err);
      }
      assert(refused !== undefined, 'CONNECTED with a wrong passcode');
      assert(!/no CONNECTED within/.test(refused), `wrong passcode: ${refused}`);
      const s = track(await open(version, { login, passcode }));
      const got = s.connected.headers.version ?? '1.0';
      await s.close();
      assert(got === version, `CONNECTED version ${got}, wanted ${version}`);
      return `wrong passcode refused (${refused.slice(0, 120)}); ${login} connected`;
    },

    // Persistent messages confirmed by RECEIPTs survive a broker crash (SIGKILL by the harness)
    // and a restart on the same data directory: all come back, in order, and those delivered
    // (unacknowledged) before the crash with redelivered:true.
    async durable_restart(version, track) {
      if (!env.restartBroker) return { unsupported: 'no harness to restart the broker' };
      const dest = `/queue/js_durable_${uid()}`;
      const s = track(await open(version));
      for (let i = 0; i < DURABLE_COUNT; i++) {
        const r = s.receipt(`p${i}`);
        s.client.publish({
          destination: dest,
          body: `d${i}`,
          headers: { persistent: 'true', receipt: `p${i}` },
        });
        await r;
      }
      const inbox = s.subscribe(dest, { id: 's1', ack: 'client' });
      for (let i = 0; i < DELIVERED_BEFORE; i++) {
        const m = await inbox.next();
        assert(m.body === `d${i}`, `before the restart got ${m.body}, wanted d${i}`);
      }
      await env.restartBroker(version);
      await s.client.deactivate({ force: true });
      const s2 = track(await open(version));
      const inbox2 = s2.subscribe(dest, { id: 's1', ack: 'client' });
      const got = [];
      for (let i = 0; i < DURABLE_COUNT; i++) got.push(await inbox2.next());
      got.at(-1).ack();
      const extra = await inbox2.poll(300);
      await s2.close();
      const order = got.map((m) => m.body).join();
      const want = Array.from({ length: DURABLE_COUNT }, (_, i) => `d${i}`).join();
      assert(order === want, `after the restart: ${order}`);
      assert(extra === null, `more than ${DURABLE_COUNT} messages: ${extra?.body}`);
      const notRedelivered = got
        .slice(0, DELIVERED_BEFORE)
        .filter((m) => m.headers.redelivered !== 'true')
        .map((m) => m.body);
      assert(notRedelivered.length === 0, `without redelivered:true: ${notRedelivered.join()}`);
      const flagged = got.filter((m) => m.headers.redelivered === 'true').length;
      return (
        `${DURABLE_COUNT} persistent messages back in order after SIGKILL + restart; the ` +
        `${DELIVERED_BEFORE} delivered before with redelivered:true (${flagged} flagged in all)`
      );
    },

    // deactivate() sends DISCONNECT with our receipt id and, on the RECEIPT, closes the WebSocket
    // itself; the wrapped socket holds that close back (bounded) to see the broker close first.
    async disconnect(version, track) {
      const id = `bye-${uid()}`;
      const seen = { serverClosed: false, realClose: false, closeAsked: false };
      const wrapSocket = (ws) => {
        const realClose = ws.close.bind(ws);
        const closed = new Promise((resolve) => {
          ws.addEventListener('close', () => {
            if (!seen.realClose) seen.serverClosed = true;
            resolve();
          });
        });
        ws.close = (...a) => {
          if (seen.closeAsked) {
            // `ws` (Node) answers the broker's close frame through this same method; a
            // browser closes natively (the 'close' listener above sees it).
            seen.serverClosed = true;
            realClose(...a);
            return;
          }
          seen.closeAsked = true;
          void Promise.race([closed, sleep(TIMEOUT)]).then(() => {
            if (seen.serverClosed) return;
            seen.realClose = true;
            realClose(...a);
          });
        };
        return ws;
      };
      const s = track(await open(version, { wrapSocket, disconnectHeaders: { receipt: id } }));
      const receipt = new Promise((resolve) => {
        s.client.onDisconnect = (frame) => resolve(frame);
      });
      const deactivated = s.client.deactivate();
      const frame = await Promise.race([receipt, sleep(TIMEOUT).then(() => null)]);
      await Promise.race([deactivated, sleep(TIMEOUT + 500)]);
      assert(
        frame !== null,
        `no RECEIPT for DISCONNECT within ${TIMEOUT} ms${describeErrors(s.errors)}`,
      );
      assert(frame.headers['receipt-id'] === id, `receipt-id ${frame.headers['receipt-id']}`);
      assert(seen.serverClosed, 'the broker did not close the connection after its RECEIPT');
      return `RECEIPT (receipt-id ${id}) for DISCONNECT, then the broker closed the connection`;
    },
  });

  const versions = env.versions ?? VERSIONS;
  const caseNames = env.cases ?? CASES;
  for (const version of versions) {
    for (const name of caseNames) {
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
        result = { status: 'fail', detail: String(err?.message ?? err) };
        ok = false;
      } finally {
        for (const s of sessions) {
          if (!s.closed) {
            try {
              await s.client.deactivate({ force: true });
            } catch {
              // already gone
            }
          }
        }
      }
      await env.report({ client: env.clientName, version, case: name, ...result });
    }
  }
  return ok;
}
