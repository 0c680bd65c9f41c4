#!/usr/bin/env node
// Drive a STOMP server with syslog-ng's STOMP destination (Debian's syslog-ng-core +
// syslog-ng-mod-stomp): a syslog-ng process per case, with a config that reads lines from a unix
// socket (flags(no-parse): the line is the message) and forwards them with stomp() to the
// broker. The lines are consumed with our own client (@stompede/client) and every line must
// arrive, in order and unchanged.
//
// Usage: node interop/clients/syslog-ng-driver.mjs --port N [--host 127.0.0.1]
//          [--login L --passcode P] [--vhost /] [--versions 1.0,1.1,1.2] [--cases a,b]
//          [--nack-dlq Q] (accepted for symmetry; syslog-ng never NACKs)
//          [--auth-login L --auth-passcode P]   (the login case's user; default --login/--passcode)
// Prints one JSON object per line: {"client": "syslog-ng", ...}. Exits 1 when any case fails.
//
// What syslog-ng's stomp() is (modules/afstomp in syslog-ng 3.38), and so what applies:
//   - A producer only: CONNECT (login/passcode, no accept-version, no host: STOMP 1.0), then one
//     SEND per log message with `persistent:true` (persistent(yes), the default), the
//     value-pairs as headers and the body() template as body, without content-length. With
//     ack(yes) every SEND carries a receipt header and syslog-ng blocks until the next frame
//     arrives before it sends the next message, so "every line arrives" proves the RECEIPTs.
//   - So: 1.1 and 1.2 rows are `unsupported` (it cannot ask for them); subscriptions, ACK/NACK,
//     transactions and heart-beats are `unsupported` (it never sends those frames); `binary` is
//     `unsupported` (text log lines, no content-length, a NUL would end the frame).
//   - Its frame reader parses whatever one read() returns as one frame; it only ever waits for
//     CONNECTED and RECEIPTs, one at a time, so that holds here.
//   - login: username()/password(); a refused login shows in syslog-ng's own log (run with -e
//     for that case) and no line is delivered; it keeps the line queued and retries.
//   - durable_restart and disconnect are `unsupported`: it never receives messages, and it has
//     no way to send DISCONNECT with a receipt.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, StompTimeoutError } from '@stompede/client/node';
import { parseArgs, list } from '../lib/args.mjs';
import { CASES, VERSIONS } from './stompjs-cases.mjs';

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
  console.error('usage: syslog-ng-driver.mjs --port N [--host H] [--login L --passcode P]');
  process.exit(2);
}

const SYSLOG_NG = '/usr/sbin/syslog-ng';
const TIMEOUT = 10000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uid = () => Math.random().toString(16).slice(2, 10) + Date.now().toString(16);

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** A consumer with our own client (STOMP 1.2 where offered). */
function consumer() {
  return connect(`tcp://${args.host}:${args.port}`, {
    heartBeat: [0, 0],
    connectTimeout: TIMEOUT,
    receiptTimeout: TIMEOUT,
    ...(args.login === undefined ? {} : { login: args.login, passcode: args.passcode }),
    ...(args.vhost === undefined ? {} : { host: args.vhost }),
  });
}

/** Receives `n` messages from `sub` (each within TIMEOUT ms); throws with what came so far. */
async function receiveAll(sub, n) {
  const got = [];
  while (got.length < n) {
    let m;
    try {
      m = await sub.receive({ timeout: TIMEOUT });
    } catch (err) {
      if (err instanceof StompTimeoutError) break;
      throw err;
    }
    if (m === undefined) break;
    got.push(m);
  }
  return got;
}

const str = (s) => JSON.stringify(s);

/**
 * Starts syslog-ng forwarding lines from a unix socket with `stomp(options)`; resolves to
 * { send(lines), stop(), log() }.
 */
async function startSyslogNg(
  stompOptions,
  { login = args.login, passcode = args.passcode, stderr = false } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'stompede-syslog-ng-'));
  const sock = join(dir, 'in.sock');
  const auth = login === undefined ? '' : ` username(${str(login)}) password(${str(passcode)})`;
  const conf = `@version: 3.38
options { stats_freq(0); time_reopen(1); mark_freq(0); };
source s_in { unix-stream(${str(sock)} flags(no-parse)); };
destination d_stomp {
  stomp(host(${str(args.host)}) port(${Number(args.port)})${auth} ${stompOptions});
};
log { source(s_in); destination(d_stomp); };
`;
  await writeFile(join(dir, 'syslog-ng.conf'), conf);
  const child = spawn(
    SYSLOG_NG,
    [
      '-F',
      ...(stderr ? ['-e'] : []),
      '--no-caps',
      '-f',
      join(dir, 'syslog-ng.conf'),
      '-R',
      join(dir, 'persist'),
      '-p',
      join(dir, 'pid'),
      '-c',
      join(dir, 'ctl'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  let dead = false;
  exited.then(() => (dead = true));
  // Up to 20 s: under load (2 cores shared with test runs) syslog-ng once took over 5 s. Ready
  // means accepting: the socket file appears at bind(), before listen(), and a connection made
  // between the two is refused (ECONNREFUSED), so the probe connects (and sends nothing).
  const accepts = () =>
    new Promise((resolve) => {
      const probe = netConnect(sock, () => {
        probe.end();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
  let ready = false;
  for (let i = 0; i < 400 && !dead; i++) {
    if (existsSync(sock) && (await accepts())) {
      ready = true;
      break;
    }
    await sleep(50);
  }
  if (!ready) {
    child.kill('SIGTERM');
    throw new Error(`syslog-ng did not open ${sock}: ${output.trim().slice(-600)}`);
  }
  return {
    log: () => output.trim().slice(-600),
    send: (lines) =>
      new Promise((resolve, reject) => {
        const s = netConnect(sock, () => s.end(lines.map((l) => `${l}\n`).join('')));
        s.on('error', reject);
        s.on('close', resolve);
      }),
    async stop() {
      if (!dead) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (!dead) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const PRODUCER_ONLY = "syslog-ng's stomp() is a producer: it never subscribes or acknowledges";

const cases = {
  async connect(track) {
    const dest = `/queue/syslog_ng_conn_${uid()}`;
    const c = track(await consumer());
    const sub = await c.subscribe(dest, { receipt: true });
    const sng = track(await startSyslogNg(`destination(${str(dest)}) body("\${MSG}")`));
    await sng.send(['hello']);
    const [m] = await receiveAll(sub, 1);
    assert(m?.text === 'hello', `no line arrived (syslog-ng: ${sng.log()})`);
    return 'CONNECT (1.0, no accept-version) accepted, a line delivered';
  },

  async text_and_headers(track) {
    const dest = `/queue/syslog_ng_text_${uid()}`;
    const lines = Array.from({ length: 200 }, (_, i) => `${i} héllo wörld: key=value ${uid()}`);
    const c = track(await consumer());
    const sub = await c.subscribe(dest, { receipt: true });
    const sng = track(
      await startSyslogNg(
        `destination(${str(dest)}) body("\${MSG}") persistent(no) ` +
          'value-pairs(scope(none) pair("x-custom" "v1") pair("x-other" "two words"))',
      ),
    );
    await sng.send(lines);
    const got = await receiveAll(sub, lines.length);
    assert(got.length === lines.length, `${got.length}/${lines.length} lines arrived`);
    got.forEach((m, i) => {
      assert(m.text === lines[i], `line ${i}: ${str(m.text)} instead of ${str(lines[i])}`);
      assert(m.header('x-custom') === 'v1', `headers ${str(m.headers)}`);
      assert(m.header('x-other') === 'two words', `headers ${str(m.headers)}`);
      assert(m.destination === dest, `destination ${str(m.headers)}`);
    });
    return `${lines.length} UTF-8 lines arrived in order with value-pairs as headers`;
  },

  binary: () => ({
    unsupported: 'log lines are text and syslog-ng sends no content-length: no binary bodies',
  }),
  client_individual: () => ({ unsupported: PRODUCER_ONLY }),
  client_cumulative: () => ({ unsupported: PRODUCER_ONLY }),
  nack: () => ({ unsupported: PRODUCER_ONLY }),
  transaction: () => ({ unsupported: "syslog-ng's stomp() sends no BEGIN/COMMIT/ABORT" }),

  async receipt(track) {
    const dest = `/queue/syslog_ng_rcpt_${uid()}`;
    const lines = Array.from({ length: 50 }, (_, i) => `receipted ${i}`);
    const c = track(await consumer());
    const sub = await c.subscribe(dest, { receipt: true });
    // ack(yes): a receipt header on every SEND, and the next SEND only after a frame came back.
    const sng = track(await startSyslogNg(`destination(${str(dest)}) body("\${MSG}") ack(yes)`));
    await sng.send(lines);
    const got = await receiveAll(sub, lines.length);
    assert(
      got.length === lines.length,
      `${got.length}/${lines.length} lines arrived (syslog-ng waits for a RECEIPT per SEND)`,
    );
    got.forEach((m, i) => assert(m.text === lines[i], `line ${i}: ${str(m.text)}`));
    return `${lines.length} SENDs with ack(yes), each RECEIPTed before the next`;
  },

  async topic(track) {
    const dest = `/topic/syslog_ng_${uid()}`;
    const lines = Array.from({ length: 20 }, (_, i) => `fan ${i}`);
    const a = track(await consumer());
    const b = track(await consumer());
    const sa = await a.subscribe(dest, { receipt: true });
    const sb = await b.subscribe(dest, { receipt: true });
    const sng = track(
      await startSyslogNg(`destination(${str(dest)}) body("\${MSG}") persistent(no)`),
    );
    await sng.send(lines);
    const [ga, gb] = await Promise.all([
      receiveAll(sa, lines.length),
      receiveAll(sb, lines.length),
    ]);
    assert(
      ga.length === lines.length && gb.length === lines.length,
      `${ga.length} and ${gb.length}/${lines.length} lines arrived`,
    );
    lines.forEach((l, i) => assert(ga[i].text === l && gb[i].text === l, `line ${i}`));
    return `both subscribers received all ${lines.length} lines`;
  },

  heartbeat: () => ({ unsupported: 'STOMP 1.0 has no heart-beats' }),

  // Wrong passcode: syslog-ng's log reports the refused CONNECT and no line arrives (it keeps the
  // line and retries); then the right credentials deliver one.
  async login(track) {
    const login = args['auth-login'] ?? args.login;
    const passcode = args['auth-passcode'] ?? args.passcode;
    if (login === undefined) {
      return { unsupported: 'no credentials given: the server under test runs without logins' };
    }
    const dest = `/queue/syslog_ng_login_${uid()}`;
    const c = track(await consumer());
    const sub = await c.subscribe(dest, { receipt: true });
    const bad = await startSyslogNg(`destination(${str(dest)}) body("\${MSG}")`, {
      login,
      passcode: `${passcode}-wrong`,
      stderr: true,
    });
    let refusedLog;
    try {
      await bad.send(['refused']);
      for (let i = 0; i < 60 && !refusedLog; i++) {
        await sleep(100);
        refusedLog = /error|refused|fail/i.test(bad.log()) ? bad.log() : undefined;
      }
    } finally {
      await bad.stop();
    }
    const leaked = await receiveAll(sub, 0).then(() =>
      sub.receive({ timeout: 300 }).catch(() => undefined),
    );
    assert(leaked === undefined, `a line arrived with a wrong passcode: ${leaked?.text}`);
    if (!refusedLog) {
      // Seen against RabbitMQ: no line delivered, but nothing logged either (syslog-ng keeps the
      // line queued); without a sign of the refusal there is nothing to assert as "reported".
      return {
        unsupported:
          'with the wrong passcode syslog-ng delivered nothing but logged no failed connection ' +
          'within 6 s (it keeps the line queued silently), so its refusal cannot be observed',
      };
    }
    const sng = track(
      await startSyslogNg(`destination(${str(dest)}) body("\${MSG}")`, { login, passcode }),
    );
    await sng.send(['hello']);
    const [m] = await receiveAll(sub, 1);
    assert(
      m?.text === 'hello',
      `no line arrived with the right credentials (syslog-ng: ${sng.log()})`,
    );
    const line = refusedLog.split('\n').find((l) => /error|refused|fail/i.test(l)) ?? '';
    return `wrong passcode refused (syslog-ng: ${line.trim().slice(0, 120)}); ${login} delivered a line`;
  },
  durable_restart: () => ({
    unsupported: "syslog-ng's stomp() is a producer: it cannot receive the messages back",
  }),
  disconnect: () => ({
    unsupported: "syslog-ng's stomp() has no way to send DISCONNECT with a receipt",
  }),
};

let ok = true;
for (const version of list(args.versions) ?? VERSIONS) {
  for (const name of list(args.cases) ?? CASES) {
    const resources = [];
    const track = (r) => {
      resources.push(r);
      return r;
    };
    let result;
    try {
      if (version !== '1.0') {
        result = {
          status: 'unsupported',
          detail: `syslog-ng's stomp() speaks STOMP 1.0 only (its CONNECT has no accept-version)`,
        };
      } else {
        const fn = cases[name];
        if (!fn) throw new Error(`unknown case ${name}`);
        const out = await fn(track);
        result =
          typeof out === 'object'
            ? { status: 'unsupported', detail: out.unsupported }
            : { status: 'pass', detail: out };
      }
    } catch (err) {
      ok = false;
      result = {
        status: 'fail',
        detail: `${err?.code ? `${err.code}: ` : ''}${err?.message ?? err}`,
      };
    } finally {
      for (const r of resources.reverse()) {
        if (typeof r.stop === 'function') await r.stop();
        else r.destroy();
      }
    }
    console.log(JSON.stringify({ client: 'syslog-ng', version, case: name, ...result }));
  }
}
process.exit(ok ? 0 : 1);
