#!/usr/bin/env node
// The interop matrix: start the peers asked for, run every client driver against each, print
// progress, write interop/MATRIX.md and interop/matrix.json, exit 1 on any fail.
//
// Usage: node interop/run.mjs [--against ours|cluster|rabbitmq|activemq|activemq6|artemis|vertx|
//          openmq|stompserver|all] (default all; a comma list works too) [--clients stomp.py,
//          stompest,stompit,stompjs,stompjs-browser,stompede,stompede-ws,stomper,ruby-stomp,
//          stompy,net-stomp,php-stomp,go-stomp,stompngo,spring,spring-ws,vertx-stomp,stampy,
//          gozirra,gozirra-ws,syslog-ng]
//          [--versions 1.0,1.1,1.2] [--cases a,b] [--out-dir interop] [--driver-timeout 600]
//          [--budget 1500] (seconds: each client's progress line shows the run's time against it)
//          [--lanes 1] (peers run side by side, N at a time; their lines are prefixed [peer])
//
// Peers:
//   ours      @stompede/broker from packages/broker/dist (build first: `npm run build`), started
//             by lib/ours-broker.mjs in a child process on 127.0.0.1 port 0, TCP and WebSocket.
//   cluster   two @stompede/cli nodes in cluster mode over three nats-servers (JetStream), behind
//             a round-robin balancer (lib/cluster-peer.mjs): stompede, stomp.py and stompjs.
//   rabbitmq  interop/peers/rabbitmq.sh start (idempotent; left running afterwards).
//   activemq  interop/peers/activemq.sh start (idempotent; left running afterwards).
//   activemq6 ActiveMQ Classic 6 embedded (interop/java/activemq6), a child process of this run.
//   artemis   interop/peers/artemis.sh start (ActiveMQ Artemis from Maven Central; idempotent).
//   vertx     the Vert.x STOMP server (interop/java/vertx), a child process of this run.
//   openmq    Open Message Queue 6.5 (interop/java/openmq) by lib/openmq-broker.mjs, a child process.
//   stompserver  interop/peers/stompserver.sh start (Ruby stompserver, STOMP 1.0; our client only).
// Scenarios (SCENARIOS below, each its own table): with `ours`, scenarios/failover.mjs (failover
// between two of our broker processes) and stompest's failover URI + subscription replay.
// Clients: stomp.py and stompit over TCP; stompjs (Node + ws) and stompjs-browser (headless
// Chromium) over WebSocket. A client whose transport a peer does not offer gets `n/a` cells with
// the reason; a peer that cannot be started gets `not started` cells and makes the run fail.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs, list } from './lib/args.mjs';
import { SYSTEMS } from './lib/systems.mjs';
import { CASES, VERSIONS } from './clients/stompjs-cases.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// --help: the usage above (this file's leading comment), and nothing else.
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  const usage = lines.slice(
    1,
    lines.findIndex((l) => l.startsWith('import ')),
  );
  console.log(usage.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

const args = parseArgs(process.argv.slice(2), {
  against: 'all',
  clients: undefined,
  versions: undefined,
  cases: undefined,
  'out-dir': fileURLToPath(new URL('.', import.meta.url)),
  'driver-timeout': '600',
  budget: '1500',
  lanes: '1',
});
const lanes = Math.max(1, Number(args.lanes));
// The time budget (seconds) the whole run is meant to fit in (.ci/run's hard timeout is a minute
// past it): every client's line says how much of it is used, so a slow peer shows before it bites.
const runStarted = Date.now();
const budgetS = Number(args.budget);
const budgetNote = () => {
  const used = Math.round((Date.now() - runStarted) / 1000);
  return `run ${used} s of the ${budgetS} s budget${used > budgetS ? ' (OVER BUDGET)' : ''}`;
};

const ALL_PEERS = [
  'ours',
  'cluster',
  'rabbitmq',
  'activemq',
  'activemq6',
  'artemis',
  'vertx',
  'openmq',
  'stompserver',
];
const peersAsked = args.against === 'all' ? ALL_PEERS : list(args.against);
for (const p of peersAsked) {
  if (!ALL_PEERS.includes(p)) throw new Error(`--against: unknown peer ${p}; known: ${ALL_PEERS}`);
}
const versions = list(args.versions) ?? VERSIONS;
const caseNames = list(args.cases) ?? CASES;
const driverTimeoutMs = Number(args['driver-timeout']) * 1000;

/** A free TCP port on 127.0.0.1 (bound, then released). */
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
// The browser driver serves its page on this port; our broker's WebSocket listener allows
// exactly that origin (it refuses other origins with 403 since its Origin allow-list).
const pagePort = await freePort();
const pageOrigin = `http://127.0.0.1:${pagePort}`;

// --- clients ------------------------------------------------------------------------------------

// The interop venv's Python (interop/setup.sh python): stompest and the other PyPI clients.
const VENV_PYTHON = here('./.venv/bin/python');

// The Go drivers (interop/setup.sh go) and the Java ones (interop/setup.sh java: Maven writes each
// module's runtime classpath to target/classpath.txt).
const goDriver = (name) => here(`./go/bin/${name}`);
const javaClasspathFile = (module) => here(`./java/${module}/target/classpath.txt`);
/** `java -cp CLASSES:DEPENDENCIES MAIN` for an interop/java module (read when the command runs). */
const javaCommand = (module, main) => [
  'java',
  '-cp',
  `${here(`./java/${module}/target/classes`)}:${readFileSync(javaClasspathFile(module), 'utf8').trim()}`,
  main,
];

// Stompy (PyPI stompy 0.2.9, Python 2 only) runs on Jython 2.7.4 from Maven Central, both
// installed by `interop/setup.sh stompy`. Jython's package cache is skipped (it would be written
// beside the jar); C1 only: the driver is short-lived and the JIT's later tiers cost more CPU
// than they save.
const JYTHON_JAR = here('./java/jython/target/jython-standalone.jar');
const STOMPY_DIR = here('./.stompy/stompy-0.2.9');

/** `--host H --port N` for a TCP driver. */
const tcpArgs = (peer) => ['--host', peer.tcp.host, '--port', String(peer.tcp.port)];

/**
 * Each client: the transport it needs and the command line for a peer's endpoints. `needs` lists
 * the programs a driver cannot run without (Debian packages, see README.md); a missing one fails
 * the client's cells with the reason instead of a stack trace.
 */
// Gozirra's WebSocket client (gozirra-ws 0.5.0 on Java-WebSocket 1.3.0) reads text messages only:
// it overrides onMessage(String), not onMessage(ByteBuffer), so a binary message never reaches it.
const GOZIRRA_WS_TEXT_ONLY =
  "Gozirra's WebSocket client reads text messages only (it handles Java-WebSocket's " +
  'onMessage(String), not onMessage(ByteBuffer)), and this peer sends every frame as a binary ' +
  'message (RabbitMQ: `web_stomp.ws_frame = binary` in interop/peers/rabbitmq.sh, which the ' +
  "binary case of the other clients needs; Artemis: its acceptor's default " +
  '`webSocketEncoderType=binary`), so no CONNECTED reaches it';

const CLIENTS = [
  {
    name: 'stomp.py',
    transport: 'tcp',
    command: (peer, vs) => [
      '/usr/bin/python3',
      here('./clients/stomppy_driver.py'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'stompest',
    transport: 'tcp',
    // PyPI stompest 2.3 (its synchronous client), installed by `interop/setup.sh python` into
    // interop/.venv (Debian's Python has no stompest; PyPI packages go into a venv).
    needs: [VENV_PYTHON],
    command: (peer, vs) => [
      VENV_PYTHON,
      here('./clients/stompest_driver.py'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'stompit',
    transport: 'tcp',
    command: (peer, vs) => [
      process.execPath,
      here('./clients/stompit-driver.mjs'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'stompjs',
    transport: 'ws',
    command: (peer, vs) => [
      process.execPath,
      here('./clients/stompjs-driver.mjs'),
      '--url',
      peer.ws,
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'stompjs-browser',
    transport: 'ws',
    // Its page is served on pagePort, the origin our broker allows: one run at a time (--lanes).
    exclusive: true,
    command: (peer, vs) => [
      process.execPath,
      here('./browser/stompjs-browser-driver.mjs'),
      '--url',
      peer.ws,
      '--page-port',
      String(pagePort),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'stompede',
    transport: 'tcp',
    command: (peer, vs) => [
      process.execPath,
      here('./clients/stompede-driver.mjs'),
      '--name',
      'stompede',
      '--url',
      `tcp://${peer.tcp.host}:${peer.tcp.port}`,
      ...authArgs(peer, vs),
      ...loginCodeArgs(peer),
    ],
  },
  {
    name: 'stompede-ws',
    transport: 'ws',
    command: (peer, vs) => [
      process.execPath,
      here('./clients/stompede-driver.mjs'),
      '--name',
      'stompede-ws',
      '--url',
      peer.ws,
      ...authArgs(peer, vs),
      ...loginCodeArgs(peer),
    ],
  },
  {
    name: 'stomper',
    transport: 'tcp',
    needs: ['/usr/lib/python3/dist-packages/stomper/__init__.py'],
    command: (peer, vs) => [
      '/usr/bin/python3',
      here('./clients/stomper_driver.py'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'stompy',
    transport: 'tcp',
    needs: [JYTHON_JAR, STOMPY_DIR],
    command: (peer, vs) => [
      'java',
      '-XX:TieredStopAtLevel=1',
      '-Dpython.cachedir.skip=true',
      `-Dpython.path=${STOMPY_DIR}`,
      '-jar',
      JYTHON_JAR,
      here('./clients/stompy_driver.py'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'ruby-stomp',
    transport: 'tcp',
    needs: ['/usr/bin/ruby', '/usr/lib/ruby/vendor_ruby/stomp.rb'],
    command: (peer, vs) => [
      '/usr/bin/ruby',
      here('./clients/ruby_stomp_driver.rb'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'net-stomp',
    transport: 'tcp',
    needs: ['/usr/share/perl5/Net/Stomp.pm'],
    command: (peer, vs) => [
      '/usr/bin/perl',
      here('./clients/perl_net_stomp_driver.pl'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'php-stomp',
    transport: 'tcp',
    needs: ['/usr/bin/php'],
    command: (peer, vs) => [
      '/usr/bin/php',
      here('./clients/php_stomp_driver.php'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'go-stomp',
    transport: 'tcp',
    needs: [goDriver('gostomp-driver')],
    command: (peer, vs) => [goDriver('gostomp-driver'), ...tcpArgs(peer), ...authArgs(peer, vs)],
  },
  {
    name: 'stompngo',
    transport: 'tcp',
    needs: [goDriver('stompngo-driver')],
    command: (peer, vs) => [goDriver('stompngo-driver'), ...tcpArgs(peer), ...authArgs(peer, vs)],
  },
  {
    name: 'spring',
    transport: 'tcp',
    needs: [javaClasspathFile('spring')],
    command: (peer, vs) => [
      ...javaCommand('spring', 'dev.stompede.interop.SpringStompDriver'),
      '--transport',
      'tcp',
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'spring-ws',
    transport: 'ws',
    needs: [javaClasspathFile('spring')],
    command: (peer, vs) => [
      ...javaCommand('spring', 'dev.stompede.interop.SpringStompDriver'),
      '--transport',
      'ws',
      '--url',
      peer.ws,
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'vertx-stomp',
    transport: 'tcp',
    needs: [javaClasspathFile('vertx')],
    command: (peer, vs) => [
      ...javaCommand('vertx', 'dev.stompede.interop.VertxStompDriver'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'stampy',
    transport: 'tcp',
    needs: [javaClasspathFile('stampy')],
    command: (peer, vs) => [
      ...javaCommand('stampy', 'dev.stompede.interop.StampyDriver'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'gozirra',
    transport: 'tcp',
    needs: [javaClasspathFile('gozirra')],
    command: (peer, vs) => [
      ...javaCommand('gozirra', 'dev.stompede.interop.GozirraDriver'),
      '--transport',
      'tcp',
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'gozirra-ws',
    transport: 'ws',
    needs: [javaClasspathFile('gozirra')],
    // Peers whose WebSocket messages this client cannot read: its cells there are `unsupported`.
    unsupportedAgainst: {
      rabbitmq: GOZIRRA_WS_TEXT_ONLY,
      artemis: GOZIRRA_WS_TEXT_ONLY,
    },
    command: (peer, vs) => [
      ...javaCommand('gozirra', 'dev.stompede.interop.GozirraDriver'),
      '--transport',
      'ws',
      '--url',
      peer.ws,
      ...authArgs(peer, vs),
    ],
  },
  {
    name: 'syslog-ng',
    transport: 'tcp',
    needs: ['/usr/sbin/syslog-ng'],
    command: (peer, vs) => [
      process.execPath,
      here('./clients/syslog-ng-driver.mjs'),
      ...tcpArgs(peer),
      ...authArgs(peer, vs),
    ],
  },
];
const clientNames = list(args.clients) ?? CLIENTS.map((c) => c.name);
for (const c of clientNames) {
  if (!CLIENTS.some((x) => x.name === c)) throw new Error(`--clients: unknown client ${c}`);
}

// --- scenarios (their own tables in MATRIX.md) ----------------------------------------------------

/**
 * A scenario is one driver run outside the case matrix. `peer`: the peer it runs against while
 * that peer is up (with the peer's restart hook for the `{"control":"restart"}` handshake), or
 * null for one that starts its own brokers (run after every peer). Run when its `client` is
 * asked for (and, with a peer, that peer).
 */
const deadPort = await freePort(); // stompest's failover URI lists this closed port first
const SCENARIOS = [
  {
    title: 'ours: stompest failover URI and subscription replay',
    peer: 'ours',
    client: 'stompest',
    script: 'clients/stompest_driver.py --cases failover_replay',
    cases: ['failover_replay'],
    needs: [VENV_PYTHON],
    describe:
      "stompest's own failover transport and session replay: the consumer's URI is " +
      '`failover:(tcp://127.0.0.1:DEAD,tcp://OURS)?randomize=false,initialReconnectDelay=100,…`, ' +
      'whose first address is closed. 12 persistent messages; the consumer (client-individual, ' +
      '`client` on 1.0) takes and acknowledges 4, then run.mjs kills our broker (SIGKILL) and ' +
      'restarts it on the same data directory and port. stompest loses the connection, ' +
      '`connect()` walks the failover list past the closed address, and the session replays the ' +
      'subscription (the driver does not subscribe again): the other 8 must arrive, none lost, ' +
      'no acknowledged one again.',
    command: (peer) => [
      VENV_PYTHON,
      here('./clients/stompest_driver.py'),
      ...tcpArgs(peer),
      '--versions',
      versions.join(','),
      '--cases',
      'failover_replay',
      '--dead-port',
      String(deadPort),
    ],
  },
  {
    title: 'ours: a Spring Boot application relaying to our broker (enableStompBrokerRelay)',
    peer: 'ours',
    client: 'spring',
    script: 'java/spring RelayScenario',
    versions: ['1.2'],
    cases: [
      'relay_connect',
      'relay_app_to_broker',
      'relay_broker_to_app',
      'relay_user_destination',
      'relay_heartbeat',
    ],
    needs: [javaClasspathFile('spring')],
    describe:
      'The way most Spring applications meet a STOMP broker (Spring\'s "full-featured broker" ' +
      'setup, as for RabbitMQ or ActiveMQ): a Spring Boot 3.5 application with ' +
      '`enableStompBrokerRelay("/queue", "/topic")` pointed at our broker (client and system ' +
      'logins: our interop user; system heart-beats 1000,1000 both ways) and a WebSocket ' +
      'endpoint, with `WebSocketStompClient`s connected to the application and a TCP client ' +
      'connected to our broker directly. `relay_connect`: the system session comes up ' +
      '(BrokerAvailabilityEvent) and a client CONNECT is relayed; `relay_app_to_broker` / ' +
      '`relay_broker_to_app`: a SEND on one side reaches a subscriber on the other; ' +
      '`relay_user_destination`: `/app/echo` answered with `@SendToUser` over the system ' +
      "session, through our broker's per-session queue, to that user only; `relay_heartbeat`: " +
      'the system session stays up through 4.5 s idle and still carries a reply.',
    command: (peer) => [
      ...javaCommand('spring', 'dev.stompede.interop.RelayScenario'),
      '--relay-host',
      peer.tcp.host,
      '--relay-port',
      String(peer.tcp.port),
      '--login',
      peer.auth.login,
      '--passcode',
      peer.auth.passcode,
      '--versions',
      '1.2',
      '--cases',
      'relay_connect,relay_app_to_broker,relay_broker_to_app,relay_user_destination,relay_heartbeat',
    ],
  },
  {
    title: 'ours: failover between two broker processes',
    peer: null,
    client: 'stompede',
    script: 'scenarios/failover.mjs',
    cases: ['failover'],
    describe:
      '`interop/scenarios/failover.mjs`: broker A (durable store) holds N persistent messages; a ' +
      '@stompede/client consumer on `failover:(tcp://A,tcp://B)?randomize=false` takes them ' +
      'with client-individual acks; after a third, A is stopped (SIGTERM) and B starts on the ' +
      'same data directory. Every message must arrive (redeliveries allowed, none lost).',
    command: () => [
      process.execPath,
      here('./scenarios/failover.mjs'),
      '--versions',
      versions.join(','),
    ],
  },
];
/** A scenario runs when its client is asked for and, with a peer, that peer (`ours` for null). */
const wanted = (sc) => clientNames.includes(sc.client) && peersAsked.includes(sc.peer ?? 'ours');
const scenarioResults = [];

function authArgs(peer, vs = versions) {
  const out = [];
  if (peer.login !== undefined) out.push('--login', peer.login, '--passcode', peer.passcode);
  // The credentials of the `login` case when the other cases connect without (ours).
  if (peer.auth !== undefined) {
    out.push('--auth-login', peer.auth.login, '--auth-passcode', peer.auth.passcode);
  }
  if (peer.vhost !== undefined) out.push('--vhost', peer.vhost);
  out.push(...peer.driverArgs, '--versions', vs.join(','), '--cases', casesFor(peer).join(','));
  return out;
}

// Our client names a refused login `ERR_STOMP_AUTHENTICATION_FAILED` when the broker's ERROR says
// so recognisably (ours, RabbitMQ, ActiveMQ, Artemis, Open MQ, Vert.x: core's serverErrorCode);
// against those peers its login case requires that code (`loginRefusal: true` on the peer).
const LOGIN_REFUSED_CODE = 'ERR_STOMP_AUTHENTICATION_FAILED';
const loginCodeArgs = (peer) =>
  peer.loginRefusal ? ['--auth-error-code', LOGIN_REFUSED_CODE] : [];

/** The cases a driver runs against `peer`: all asked for but those the peer settles itself. */
const casesFor = (peer) => caseNames.filter((c) => !peer.skip?.[c]);

/**
 * The peer as one client sees it: a `skip` key `client:case` (a case the peer settles for that
 * client only) becomes the plain case key; other clients' keys are left out.
 */
function forClient(peer, clientName) {
  if (!peer.skip) return peer;
  const skip = {};
  for (const [key, row] of Object.entries(peer.skip)) {
    const i = key.indexOf(':');
    if (i < 0) skip[key] = row;
    else if (key.slice(0, i) === clientName) skip[key.slice(i + 1)] = row;
  }
  return { ...peer, skip };
}

// Cases not run against the third-party brokers: restarting RabbitMQ or ActiveMQ takes tens of
// seconds each time (three versions × every client), too slow for CI; our broker restarts in
// about a second, and the case is about our store.
// Measured on RabbitMQ 3.10 over a raw socket (STOMP 1.0): BEGIN, then a SEND with a receipt
// header and the transaction's: no RECEIPT within 2 s; ABORT: still none; in a transaction that
// commits, the RECEIPT comes right after COMMIT.
const RABBITMQ_TX_RECEIPT =
  'RabbitMQ holds back the RECEIPT of a SEND inside a transaction until COMMIT and sends none ' +
  'for a SEND whose transaction is aborted (measured on 3.10), while a RECEIPT is due once the ' +
  'server has processed the frame; Stompy asks for a receipt on every SEND and waits for it ' +
  'before it returns, so it cannot get to the ABORT';

const NO_RESTART =
  'not run against this peer: restarting a third-party broker once per client and version takes ' +
  'too long for CI (durable_restart runs against ours only)';

// Measured on ActiveMQ 5.17 (a raw socket asking heart-beat:1000,1000): its first heart-beat comes
// about 2000 ms after CONNECTED, then one every 1000 ms; STOMP 1.2 wants data at least every
// 1000 ms. Vert.x's client drops a connection once more than twice the interval passes without
// server data, and checks once per interval: whether the first beat or the check comes first at
// 2000 ms is a race, so the cell is settled, not run.
const ACTIVEMQ_FIRST_BEAT =
  'ActiveMQ 5.17 sends its first heart-beat about twice the negotiated interval after CONNECTED ' +
  '(measured: 2001 ms for 1000, then every 1000 ms), while STOMP 1.2 wants data at least every ' +
  "interval; Vert.x's client drops a connection once twice the interval passes without server " +
  'data, so its `heartbeat` cell would be a race at 2000 ms (not run; the other clients tolerate ' +
  'the late first beat and pass)';

// What the Vert.x STOMP server does not do (it routes in memory, it does not store): a case that
// fails for one of these reasons is its peer limit; any other failure stays a fail.
const VERTX_KEEPS_NOTHING =
  'the Vert.x STOMP server keeps no messages: one sent with no subscriber is dropped, an ' +
  'unacknowledged one is not redelivered to a later subscriber';
const vertxLimit = {
  reason: VERTX_KEEPS_NOTHING,
  when: /no MESSAGE|neither redelivered|\bEmpty\b/,
};
const VERTX_LIMITS = {
  client_individual: vertxLimit,
  client_cumulative: vertxLimit,
  nack: {
    reason:
      `${VERTX_KEEPS_NOTHING} (a NACKed message is dropped); and on 1.1 it refuses a NACK ` +
      'without an `id` header (ERROR "Invalid NACK frame - the \'id\' must be set"), though 1.1 ' +
      'names the message by message-id and subscription',
    when: /no MESSAGE|neither redelivered|\bEmpty\b|connection to the broker was lost|must be set/,
  },
};

// What Open Message Queue's STOMP bridge does not do; each limit applies only to the failure it
// names, any other failure stays a fail. The bridge maps a SEND's headers to JMS properties,
// whose names must be Java identifiers, and answers one it cannot map with an ERROR and a close.
const OPENMQ_HEADERS =
  'Open MQ refuses a SEND carrying `content-type` or any header whose name has a hyphen: it maps ' +
  "every header to a JMS property and answers \"[C4043]: Illegal character '-' used in property " +
  'name content-type" (STOMP 1.0-1.2 define content-type and allow any header on SEND)';
const openmqHeaders = {
  reason: OPENMQ_HEADERS,
  when: /C4043|Illegal character|connection to the broker was lost|\bEmpty\b|no MESSAGE/,
};
const OPENMQ_LIMITS = {
  // Any case whose SEND the bridge refused, for a client that shows the ERROR.
  '*': { reason: OPENMQ_HEADERS, when: /\[C4043\]/ },
  text_and_headers: openmqHeaders,
  binary: openmqHeaders,
  // go-stomp sees the refused transactional SEND as "connection closed unexpectedly".
  transaction: { reason: OPENMQ_HEADERS, when: /C4043|connection closed unexpectedly/ },
  client_cumulative: {
    reason:
      'on STOMP 1.0 Open MQ refuses an ACK without a `subscription` header ("[BSS4008]: Can not ' +
      'determine subscriber to ACK message …"), a header 1.0 ACK frames do not have',
    when: /cumulative ACK left|BSS4008/,
  },
  client_individual: {
    reason:
      'Open MQ redelivers an unacknowledged message to the next subscriber without ' +
      '`redelivered:true`',
    when: /redelivered/,
  },
  nack: {
    reason: 'Open MQ has no NACK: "[BSS4038]: Unknown STOMP command: NACK", even on STOMP 1.2',
    when: /NACK|\bEmpty\b|no MESSAGE|neither redelivered|connection/,
  },
  heartbeat: {
    reason: 'Open MQ offers no heart-beats: it answers every heart-beat request with `0,0`',
    when: /no heart-beats|0,0|not negotiated/,
  },
  disconnect: {
    reason:
      'Open MQ sends the RECEIPT for DISCONNECT but leaves the connection open (the client has ' +
      'to close it)',
    when: /did not close/,
  },
};
// Our client and three others of three languages: a column of mostly peer limits does not
// need every client, and CI's time budget is shared.
const OPENMQ_CLIENTS = ['stompede', 'stomp.py', 'stompest', 'go-stomp'];

// --- peers --------------------------------------------------------------------------------------

/** Runs a peer script's `start`; resolves to its output, rejects with it on failure. */
function peerScript(name) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [here(`./peers/${name}.sh`), 'start'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), 600_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`peers/${name}.sh start exited ${code ?? signal}: ${out.trim()}`));
    });
  });
}

/**
 * Starts a broker in a child process (`argv`) that prints one JSON line with its addresses once
 * it listens and stops when its stdin ends; resolves to { child, info, exited }.
 */
function startBrokerProcess(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = { value: undefined };
    exited.promise = new Promise((done) => {
      child.on('close', (code, signal) => {
        exited.value = `broker process exited ${code ?? signal}${stderr ? `: ${tail(stderr)}` : ''}`;
        done();
        reject(new Error(exited.value));
      });
    });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error('broker did not report its addresses within 60 s'));
    }, 60_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      let info;
      try {
        info = JSON.parse(line);
      } catch {
        reject(new Error(`unexpected broker output: ${line}`));
        return;
      }
      if (info.error) reject(new Error(info.error));
      else resolve({ child, info, exited });
    });
  });
}

/** Starts interop/lib/ours-broker.mjs with `extra` options. */
const startOurs = (extra = []) =>
  startBrokerProcess([process.execPath, here('./lib/ours-broker.mjs'), ...extra]);

/** A peer run by run.mjs in a child process, stopped (stdin closed) after its clients ran. */
async function childPeer(argv, cleanup) {
  const cur = await startBrokerProcess(argv);
  return {
    info: cur.info,
    health: () => cur.exited.value,
    stop: async () => {
      if (cur.exited.value === undefined) {
        cur.child.stdin.end();
        const killer = setTimeout(() => cur.child.kill('SIGKILL'), 20_000);
        await cur.exited.promise;
        clearTimeout(killer);
      }
      await cleanup?.();
    },
  };
}

/**
 * A fresh passcode for the interop user. Hex after a letter: a base64url one began with '-' one
 * time in 64, and a driver's argument parser then took it for an option (a whole column failed).
 */
function interopPasscode() {
  return `p${randomBytes(9).toString('hex')}`;
}

const env = process.env;
const PEERS = {
  async ours() {
    // A durable store (for durable_restart) and one user (for login); every other case connects
    // anonymously, which a broker listening on loopback only still allows (docs/security.md).
    const dataDir = await mkdtemp(join(tmpdir(), 'stompede-interop-'));
    const auth = { login: 'interop', passcode: interopPasscode() };
    const base = [
      '--data-dir',
      dataDir,
      '--user',
      `${auth.login}:${auth.passcode}`,
      '--ws-allowed-origin',
      pageOrigin,
    ];
    let cur;
    try {
      cur = await startOurs(base);
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
    const tcp = cur.info.addresses.find((a) => a.protocol === 'tcp');
    const ws = cur.info.addresses.find((a) => a.protocol === 'ws');
    let restarts = 0;
    return {
      tcp: { host: tcp.host, port: tcp.port },
      ws: ws.url,
      auth,
      loginRefusal: true,
      driverArgs: [],
      note: `createBroker() in a child process (interop/lib/ours-broker.mjs), ${tcp.url} and ${ws.url}`,
      quirks: [
        'ours-broker.mjs starts it with `heartbeat: [1000, 1000]` (heart-beats of 1 s whenever a client asks for any) so beats are checked.',
        `WebSocket listener with \`allowedOrigins: ["${pageOrigin}"]\`: the browser driver's page ` +
          'is served from that port (another origin than the broker, refused with 403 otherwise).',
        'Started with a durable store (`--data-dir`) and one user (`--user interop:RANDOM`, hashed ' +
          "with the broker's scrypt `hashPassword`); the `login` case uses that user, every other " +
          'case connects anonymously (allowed: the listeners are on loopback).',
        '`durable_restart`: when a driver asks (a `{"control":"restart"}` line), run.mjs kills the ' +
          'broker with SIGKILL and starts a new process on the same data directory and ports, then ' +
          "answers `restarted` on the driver's stdin.",
      ],
      // Kill (SIGKILL: no graceful close of the store) and start again on the same data
      // directory and ports; resolves with a note, rejects when the new broker does not start.
      restart: async () => {
        const started = Date.now();
        if (cur.exited.value === undefined) {
          cur.child.kill('SIGKILL');
          await cur.exited.promise;
        }
        cur = await startOurs([
          ...base,
          '--tcp-port',
          String(tcp.port),
          '--ws-port',
          String(ws.port),
        ]);
        restarts++;
        return `broker killed and restarted in ${Date.now() - started} ms (restart ${restarts})`;
      },
      // A broker that died during the run is reported, not just seen as driver timeouts.
      health: () => cur.exited.value,
      stop: async () => {
        if (cur.exited.value === undefined) {
          cur.child.kill('SIGTERM');
          await cur.exited.promise;
        }
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  },

  async rabbitmq() {
    const out = await peerScript('rabbitmq');
    return {
      tcp: { host: '127.0.0.1', port: Number(env.RABBITMQ_STOMP_PORT ?? 61633) },
      ws: `ws://127.0.0.1:${env.RABBITMQ_WS_PORT ?? 15683}/ws`,
      login: 'guest',
      passcode: 'guest',
      loginRefusal: true,
      vhost: '/',
      driverArgs: [],
      skip: { durable_restart: { status: 'n/a', detail: NO_RESTART } },
      limits: {
        'ws:disconnect':
          'Web-STOMP answers DISCONNECT by closing the WebSocket (1000 "STOMP died") without ' +
          'the RECEIPT it asked for (over TCP the RECEIPT comes)',
        // Only the clients that wait for a transactional SEND's RECEIPT meet it (Stompy).
        transaction: { reason: RABBITMQ_TX_RECEIPT, when: /no RECEIPT for SEND/ },
      },
      note: out,
      quirks: [
        'Web-STOMP sends every frame as a text WebSocket message (`web_stomp.ws_frame = text`, the ' +
          'default), even a MESSAGE whose body is not UTF-8, which RFC 6455 forbids: `ws` and ' +
          'Chromium close the connection, so `binary` fails for stompjs and stompjs-browser. ' +
          '`web_stomp.ws_frame = binary` in rabbitmq.conf (interop/peers/rabbitmq.sh) fixes it.',
        'Answers a 200 ms heart-beat request with `heart-beat:1000,1000` (whole seconds).',
        'Web-STOMP answers DISCONNECT by closing the WebSocket (1000 "STOMP died") without the ' +
          'RECEIPT asked for, so `disconnect` is a peer limit for the WebSocket clients (over TCP ' +
          'the RECEIPT comes, then the close).',
        'NACK requeues the message; it comes back with `redelivered:true`.',
        `${RABBITMQ_TX_RECEIPT}: \`transaction\` is a peer limit for stompy.`,
        '`login` uses guest/guest (as every case does) and guest with a wrong passcode; ' +
          '`durable_restart` is `n/a` (not restarted by the harness).',
      ],
    };
  },

  async activemq() {
    const out = await peerScript('activemq');
    return {
      tcp: { host: '127.0.0.1', port: Number(env.ACTIVEMQ_STOMP_PORT ?? 61623) },
      // activemq.sh configures only a STOMP (TCP) connector; set ACTIVEMQ_WS_URL when a
      // WebSocket connector (ws://) is added to it.
      ws: env.ACTIVEMQ_WS_URL,
      wsMissing: 'activemq.sh configures no WebSocket connector (set ACTIVEMQ_WS_URL once it does)',
      // ActiveMQ Classic never redelivers a NACKed message: it dead-letters persistent ones to
      // ActiveMQ.DLQ and drops non-persistent ones (the spec leaves this to the server). The
      // drivers' nack case then checks that the message reached this DLQ.
      driverArgs: ['--nack-dlq', '/queue/ActiveMQ.DLQ'],
      skip: {
        login: {
          status: 'unsupported',
          detail:
            'activemq.sh runs ActiveMQ without authentication (anonymous access, no ' +
            'simpleAuthenticationPlugin), so there is no login to check, right or wrong',
        },
        durable_restart: { status: 'n/a', detail: NO_RESTART },
        'vertx-stomp:heartbeat': (version) =>
          version === '1.0'
            ? { status: 'unsupported', detail: 'STOMP 1.0 has no heart-beating' }
            : { status: 'peer limit', detail: ACTIVEMQ_FIRST_BEAT },
      },
      note: out,
      quirks: [
        ACTIVEMQ_FIRST_BEAT,
        'NACK never redelivers: a persistent message moves to ActiveMQ.DLQ (with ' +
          '`original-destination`), a non-persistent one is dropped (the spec leaves this to the ' +
          'server). The drivers run with `--nack-dlq /queue/ActiveMQ.DLQ`, send the NACKed ' +
          'message persistent and check that it reached the DLQ.',
        'activemq.sh opens no WebSocket connector, so the stompjs rows are `n/a`.',
        '`login` is `unsupported`: activemq.sh runs ActiveMQ without authentication, so no ' +
          'login can be checked; `durable_restart` is `n/a` (not restarted by the harness).',
      ],
    };
  },

  async artemis() {
    const out = await peerScript('artemis');
    const port = Number(env.ARTEMIS_STOMP_PORT ?? 61653);
    return {
      tcp: { host: '127.0.0.1', port },
      // Artemis detects a WebSocket upgrade on its STOMP acceptor (any path).
      ws: `ws://127.0.0.1:${port}/stomp`,
      login: 'guest',
      passcode: 'guest',
      loginRefusal: true,
      driverArgs: [],
      skip: { durable_restart: { status: 'n/a', detail: NO_RESTART } },
      limits: {
        nack:
          'Artemis discards a NACKed message (no redelivery, nothing on its DLQ; ARTEMIS-1983): ' +
          'the spec lets a server discard it, but the case cannot tell a discard from a loss',
        'ws:disconnect':
          'over WebSocket Artemis sends the RECEIPT for DISCONNECT but leaves the connection open ' +
          '(over TCP it closes it)',
      },
      note: out,
      quirks: [
        'peers/artemis.sh: the bin distribution from Maven Central, `artemis create` with login ' +
          'required (guest/guest), one STOMP acceptor on 127.0.0.1:61653 with ' +
          '`anycastPrefix=/queue/;multicastPrefix=/topic/` (WebSocket upgrades on the same port).',
        'NACK discards the message (ARTEMIS-1983; the spec allows discarding): `nack` is a peer ' +
          'limit for every client, since a discard cannot be told from a loss.',
        'Over WebSocket, DISCONNECT gets its RECEIPT but the connection stays open: `disconnect` ' +
          'is a peer limit for the WebSocket clients (over TCP Artemis closes it).',
        '`durable_restart` is `n/a` (not restarted by the harness).',
      ],
    };
  },

  async activemq6() {
    // ActiveMQ Classic 6 from Maven Central, embedded (interop/java/activemq6), started here on
    // a port of its own with a fresh KahaDB and stopped after its clients.
    if (!existsSync(javaClasspathFile('activemq6'))) {
      throw new Error('not installed: run `bash interop/setup.sh java` (interop/java/activemq6)');
    }
    const dataDir = await mkdtemp(join(tmpdir(), 'stompede-interop-amq6-'));
    const run = await childPeer(
      [
        ...javaCommand('activemq6', 'dev.stompede.interop.ActiveMQ6Broker'),
        '--data-dir',
        dataDir,
        '--login',
        'guest',
        '--passcode',
        'guest',
      ],
      () => rm(dataDir, { recursive: true, force: true }),
    );
    return {
      ...run,
      tcp: { host: '127.0.0.1', port: run.info.tcp },
      wsMissing: 'the embedded ActiveMQ 6 opens no WebSocket connector (it needs activemq-http)',
      login: 'guest',
      passcode: 'guest',
      loginRefusal: true,
      driverArgs: ['--nack-dlq', '/queue/ActiveMQ.DLQ'],
      skip: { durable_restart: { status: 'n/a', detail: NO_RESTART } },
      // Our client and two others: Debian's ActiveMQ 5.17 column runs every client, and the
      // whole set against a second ActiveMQ would not fit CI's time budget.
      clients: ['stompede', 'stomp.py', 'stompest'],
      note: `ActiveMQ Classic 6.3.1 embedded (interop/java/activemq6), STOMP 127.0.0.1:${run.info.tcp}`,
      quirks: [
        'activemq-broker + activemq-stomp + activemq-kahadb-store 6.3.1 from Maven Central, run by ' +
          'run.mjs in a child process: one `stomp+nio` connector with TCP_NODELAY, KahaDB in a ' +
          'fresh directory, one user (guest/guest, SimpleAuthenticationPlugin, no anonymous access).',
        "As Debian's 5.17: NACK dead-letters a persistent message to ActiveMQ.DLQ (`--nack-dlq`).",
        'No WebSocket connector (it needs activemq-http and Jetty): the WebSocket rows are `n/a`.',
      ],
    };
  },

  async vertx() {
    // The Vert.x STOMP server (interop/java/vertx), started here on ports of its own.
    if (!existsSync(javaClasspathFile('vertx'))) {
      throw new Error('not installed: run `bash interop/setup.sh java` (interop/java/vertx)');
    }
    const run = await childPeer([
      ...javaCommand('vertx', 'dev.stompede.interop.VertxStompBroker'),
      '--login',
      'guest',
      '--passcode',
      'guest',
    ]);
    return {
      ...run,
      tcp: { host: '127.0.0.1', port: run.info.tcp },
      ws: `ws://127.0.0.1:${run.info.ws}/stomp`,
      login: 'guest',
      passcode: 'guest',
      loginRefusal: true,
      driverArgs: [],
      skip: {
        durable_restart: {
          status: 'n/a',
          detail: 'the Vert.x STOMP server keeps no messages: nothing survives a restart',
        },
      },
      limits: VERTX_LIMITS,
      // A broker column for our client (TCP and WebSocket); Vert.x's client has its own row.
      clients: ['stompede', 'stompede-ws'],
      note: `Vert.x STOMP server 5.0.7 (interop/java/vertx), stomp://127.0.0.1:${run.info.tcp} and ws://127.0.0.1:${run.info.ws}/stomp`,
      quirks: [
        'io.vertx:vertx-stomp 5.0.7 `StompServer`, run by run.mjs in a child process: TCP and a ' +
          'WebSocket bridge (path /stomp), heart-beats 1000,1000, one user (guest/guest), ' +
          '`/queue/*` Vert.x queues (each message to one subscriber), everything else topics.',
        'It is an in-memory router, not a store: a message sent while nobody subscribes is ' +
          'dropped, an unacknowledged one is not redelivered to a later subscriber; the cases ' +
          'that need either are peer limits (listed below with the failure).',
      ],
    };
  },

  async cluster() {
    // Two stompede nodes over a 3-server NATS JetStream cluster, behind a round-robin balancer
    // (lib/cluster-peer.mjs): a driver's successive connections alternate between the nodes.
    const auth = { login: 'interop', passcode: interopPasscode() };
    const cur = await startBrokerProcess([
      process.execPath,
      here('./lib/cluster-peer.mjs'),
      '--user',
      `${auth.login}:${auth.passcode}`,
      '--ws-allowed-origin',
      pageOrigin,
    ]);
    const lines = createInterface({ input: cur.child.stdout });
    return {
      tcp: { host: '127.0.0.1', port: cur.info.tcp },
      ws: `ws://127.0.0.1:${cur.info.ws}/ws`,
      auth,
      driverArgs: [],
      // The issue's minimum (stomp.py, stompjs and ours): three NATS servers and two nodes on
      // two cores make every case slower than against the single node.
      clients: ['stompede', 'stomp.py', 'stompjs'],
      note:
        `two stompede nodes (stompede broker --cluster, ${cur.info.nodes.map((n) => n.stomp).join(' and ')}) ` +
        `over three nats-servers (${cur.info.nats}), behind a round-robin balancer at ` +
        `tcp://127.0.0.1:${cur.info.tcp} and ws://127.0.0.1:${cur.info.ws}/ws`,
      quirks: [
        'interop/lib/cluster-peer.mjs: three nats-server processes with JetStream (R3 streams) and ' +
          'two nodes in cluster mode, each with the same config file (1 s heart-beats, one user, ' +
          'the browser page origin allowed, `ackWait` 3 s). A round-robin TCP balancer hands ' +
          'successive connections to node 1, node 2, node 1, …, so a case whose producer and ' +
          'consumer use two connections has them on different nodes.',
        '`durable_restart`: run.mjs has both nodes killed with SIGKILL and started again on the ' +
          'same ports; the messages live in JetStream, and the delivered but unacknowledged ones ' +
          'come back after the 3 s ack wait.',
      ],
      restart: async () => {
        const done = new Promise((resolve) => lines.once('line', resolve));
        cur.child.kill('SIGUSR2');
        const answer = JSON.parse(await done);
        return `both nodes killed (SIGKILL) and started again in ${answer.restarted} ms`;
      },
      health: () => cur.exited.value,
      stop: async () => {
        if (cur.exited.value === undefined) {
          cur.child.stdin.end();
          const killer = setTimeout(() => cur.child.kill('SIGKILL'), 30_000);
          await cur.exited.promise;
          clearTimeout(killer);
        }
      },
    };
  },

  async openmq() {
    // Open Message Queue 6.5 with its STOMP bridge (interop/java/openmq, started by
    // lib/openmq-broker.mjs on ports of its own with a fresh instance directory).
    const run = await childPeer([process.execPath, here('./lib/openmq-broker.mjs')]);
    return {
      ...run,
      tcp: { host: '127.0.0.1', port: run.info.tcp },
      wsMissing:
        "Open MQ's STOMP bridge listens on TCP only (its WebSocket STOMP is the broker's wsjms " +
        'service, not started here)',
      login: 'guest',
      passcode: 'guest',
      loginRefusal: true,
      driverArgs: [],
      skip: { durable_restart: { status: 'n/a', detail: NO_RESTART } },
      // STOMP 1.0 and 1.2: it answers a 1.1-only CONNECT with ERROR "[BSS4040]: STOMP protocol
      // versions 1.1 are not supported".
      versions: ['1.0', '1.2'],
      versionLimit:
        'peer limit: Open MQ 6.5 speaks STOMP 1.0 and 1.2, not 1.1 (ERROR "[BSS4040]: STOMP ' +
        'protocol versions 1.1 are not supported")',
      limits: OPENMQ_LIMITS,
      clients: OPENMQ_CLIENTS,
      note: `Open Message Queue 6.5.0 (interop/java/openmq), STOMP bridge 127.0.0.1:${run.info.tcp}`,
      quirks: [
        'org.glassfish.mq:mq-distribution 6.5.0 from Maven Central (6.6 and 6.7 need Java 21), ' +
          '`imqbrokerd` run by lib/openmq-broker.mjs with a fresh instance, every listener on ' +
          '127.0.0.1 and the STOMP bridge enabled (`imq.bridge.activelist=stomp`); its default ' +
          'users (guest/guest for the drivers).',
        'Destination names must be Java identifiers: the drivers name theirs with underscores ' +
          '(`/queue/py_text_…`); a hyphen is refused ("[C4050]: Invalid destination name").',
        ...new Set(Object.values(OPENMQ_LIMITS).map((l) => `${l.reason}.`)),
      ],
    };
  },

  async stompserver() {
    const out = await peerScript('stompserver');
    const noMessageId =
      'stompserver sends queue MESSAGEs in auto-ack mode without a message-id header ' +
      '(queue_manager.rb: "message-id header isn\'t set"), which STOMP 1.0 requires; ' +
      '@stompede/client rejects such a frame as invalid instead of guessing';
    return {
      tcp: { host: '127.0.0.1', port: Number(env.STOMPSERVER_PORT ?? 61643) },
      wsMissing: 'stompserver has no WebSocket listener',
      driverArgs: [],
      skip: {
        login: {
          status: 'unsupported',
          detail: 'stompserver.sh starts stompserver without authentication (no -a)',
        },
        durable_restart: {
          status: 'n/a',
          detail: "not run against stompserver (the case is about our broker's store)",
        },
      },
      note: out,
      // Our client's rows only: stompserver is here to check @stompede/client against another
      // broker; the third-party clients are covered by RabbitMQ and ActiveMQ.
      clients: ['stompede'],
      // A STOMP 1.0 server: CONNECTED carries no version, so a client that offers only 1.1 or
      // only 1.2 (as every driver does, one version per row) must refuse it (1.1 spec, protocol
      // negotiation).
      versions: ['1.0'],
      versionLimit:
        'peer limit: stompserver 0.9.9 speaks STOMP 1.0 only (CONNECTED without a version)',
      // Cases that fail because of the peer, not the client; a case not listed that fails is a
      // fail, and a listed case that passes shows as pass.
      limits: {
        text_and_headers: noMessageId,
        binary: noMessageId,
        transaction: noMessageId,
        client_cumulative:
          'in client ack mode stompserver sends one MESSAGE per connection and the next only ' +
          'after an ACK, so the three unacknowledged messages the case waits for never arrive',
        disconnect:
          'stompserver closes the connection on DISCONNECT without the RECEIPT the frame asks ' +
          'for (STOMP 1.0: "any client frame other than CONNECT may specify a receipt header")',
      },
      quirks: [
        "Debian's /usr/bin/stompserver crashes on the first connection under Ruby 3 (`class " +
          'variable access from toplevel`); peers/stompserver.sh starts the same server with ' +
          'peers/stompserver-launch.rb, which sets those class variables with class_variable_set.',
        'STOMP 1.0 only: 1.1 and 1.2 rows are the peer limit. No heart-beats, no NACK, no ' +
          '`server` header, no `subscription` header on MESSAGE.',
        'Only @stompede/client runs against it (the point of this peer); `peer limit` cells name ' +
          'the stompserver behaviour that makes them fail.',
      ],
    };
  },
};

// --- running drivers ----------------------------------------------------------------------------

function tail(text, n = 600) {
  const t = text.trim();
  return t.length > n ? `…${t.slice(-n)}` : t;
}

/**
 * Runs one driver; calls onResult per JSON line; resolves to { code, stderr }. A line
 * `{"control": "restart"}` (the durable_restart handshake, lib/restart.mjs) is answered on the
 * driver's stdin after `onRestart()`: `restarted`, or `restart failed: REASON`.
 */
function runDriver(argv, onResult, onRestart) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout ends the driver and its browser
    });
    child.stdin.on('error', () => {}); // a driver that exited before the answer
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (d) => (stderr += d));
    const answer = async (request) => {
      let reply;
      try {
        if (!onRestart) throw new Error('this peer cannot be restarted by the harness');
        const note = await onRestart(request);
        console.log(`   ${pad(request.client ?? '', 16)} ${pad(request.version ?? '', 4)} ${note}`);
        reply = 'restarted';
      } catch (err) {
        reply = `restart failed: ${String(err?.message ?? err).replace(/\s+/g, ' ')}`;
        console.log(`   ${reply}`);
      }
      if (child.stdin.writable) child.stdin.write(`${reply}\n`);
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.trim()) return;
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        stderr += `unparsable driver output: ${line}\n`;
        return;
      }
      if (parsed?.control === 'restart') void answer(parsed);
      else onResult(parsed);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }, driverTimeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: `cannot start ${argv[0]}: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? `timeout after ${driverTimeoutMs / 1000} s` : (code ?? signal),
        stderr,
      });
    });
  });
}

/** Runs `fn` after every earlier call's `fn` has settled (clients marked `exclusive`). */
let exclusiveTail = Promise.resolve();
function oneAtATime(fn) {
  const run = exclusiveTail.then(fn);
  exclusiveTail = run.catch(() => {});
  return run;
}

const results = []; // { peer, client, version, case, status, detail }
const peerInfo = []; // { name, state: 'started' | 'not started', note }
const pad = (s, n) => String(s).padEnd(n);

/**
 * Starts one peer, runs every client (and its scenarios) against it, stops it. `log` prefixes
 * the peer's name to its lines when peers run side by side (--lanes).
 */
async function runPeer(peerName) {
  const log = (line) => console.log(lanes > 1 ? `[${peerName}] ${line}` : line);
  log(`== ${peerName}: starting`);
  let peer;
  try {
    peer = await PEERS[peerName]();
    log(`== ${peerName}: ${peer.note.split('\n').pop()}`);
    peerInfo.push({
      name: peerName,
      state: 'started',
      note: peer.note.split('\n').pop(),
      quirks: peer.quirks ?? [],
    });
  } catch (err) {
    const note = String(err.message ?? err);
    log(`== ${peerName}: NOT STARTED: ${note}`);
    peerInfo.push({ name: peerName, state: 'not started', note, quirks: [] });
    for (const client of clientNames) {
      for (const version of versions) {
        for (const name of caseNames) {
          results.push({
            peer: peerName,
            client,
            version,
            case: name,
            status: 'fail',
            detail: `peer not started: ${note}`,
            notStarted: true,
          });
        }
      }
    }
    return;
  }

  try {
    for (const client of CLIENTS.filter((c) => clientNames.includes(c.name))) {
      /** Fills this client's cells for `vs` (default every version) with one status. */
      const fill = (status, detail, vs = versions) => {
        for (const version of vs) {
          for (const name of caseNames) {
            results.push({
              peer: peerName,
              client: client.name,
              version,
              case: name,
              status,
              detail,
            });
          }
        }
      };
      if (peer.clients && !peer.clients.includes(client.name)) {
        fill('n/a', `not run against ${peerName} (it checks ${peer.clients.join(', ')} only)`);
        continue;
      }
      const unsupported = client.unsupportedAgainst?.[peerName];
      if (unsupported !== undefined) {
        log(`-- ${peerName} × ${client.name}: unsupported (${unsupported})`);
        fill('unsupported', unsupported);
        continue;
      }
      if (client.unavailable) {
        log(`-- ${peerName} × ${client.name}: not available (${client.unavailable})`);
        fill('not available', client.unavailable);
        continue;
      }
      const endpoint = client.transport === 'tcp' ? peer.tcp : peer.ws;
      if (!endpoint) {
        const why = peer.wsMissing ?? `no ${client.transport} endpoint`;
        log(`-- ${peerName} × ${client.name}: n/a (${why})`);
        fill('n/a', why);
        continue;
      }
      const missing = (client.needs ?? []).filter((path) => !existsSync(path));
      if (missing.length > 0) {
        const why = `not installed: ${missing.join(', ')} (see interop/README.md for the packages)`;
        log(`-- ${peerName} × ${client.name}: FAIL (${why})`);
        fill('fail', why);
        continue;
      }
      const runVersions = peer.versions
        ? versions.filter((v) => peer.versions.includes(v))
        : versions;
      fill(
        'peer limit',
        peer.versionLimit,
        versions.filter((v) => !runVersions.includes(v)),
      );
      if (runVersions.length === 0) continue;
      log(`-- ${peerName} × ${client.name}`);
      const started = Date.now();
      const got = new Map();
      // Cases the peer settles itself (`skip`: no login there, no restart of that broker).
      const seen = forClient(peer, client.name);
      for (const version of runVersions) {
        for (const [name, row] of Object.entries(seen.skip ?? {})) {
          // A row may depend on the version (a function of it).
          const settled = typeof row === 'function' ? row(version) : row;
          if (caseNames.includes(name)) got.set(`${version}|${name}`, settled);
        }
      }
      const drive = () =>
        runDriver(
          client.command(seen, runVersions),
          (r) => {
            got.set(`${r.version}|${r.case}`, r);
            const mark = r.status === 'fail' ? `FAIL  ${r.detail}` : r.status;
            log(`   ${pad(client.name, 16)} ${pad(r.version, 4)} ${pad(r.case, 18)} ${mark}`);
          },
          peer.restart,
        );
      const { code, stderr } = await (casesFor(seen).length === 0
        ? { code: 0, stderr: '' }
        : client.exclusive
          ? oneAtATime(drive)
          : drive());
      // Every expected cell gets a result: a driver that crashed or timed out is a fail.
      for (const version of runVersions) {
        for (const name of caseNames) {
          const r = got.get(`${version}|${name}`);
          let row = r
            ? { status: r.status, detail: r.detail ?? '' }
            : {
                status: 'fail',
                detail: `no result: driver exited ${code}${stderr ? `; ${tail(stderr)}` : ''}`,
              };
          // A failure the peer is known to cause is the peer's limit (see its `limits`).
          // A limit may be keyed by case, or by transport and case (`ws:disconnect`), and may
          // apply only to a failure whose detail matches (`{ reason, when: RegExp }`).
          // A `*` limit applies to every case, for a failure whose detail it names.
          const limit = [`${client.transport}:${name}`, name, '*']
            .map((key) => peer.limits?.[key])
            .filter((l) => l !== undefined)
            .map((l) =>
              typeof l === 'object' ? (l.when.test(row.detail) ? l.reason : undefined) : l,
            )
            .find((reason) => reason !== undefined);
          if (row.status === 'fail' && limit) {
            row = { status: 'peer limit', detail: `${limit} (driver: ${row.detail})` };
          }
          results.push({ peer: peerName, client: client.name, version, case: name, ...row });
        }
      }
      const dead = peer.health?.();
      if (dead) {
        log(`   ${peerName}: ${dead}`);
        for (const r of results) {
          if (r.peer === peerName && r.client === client.name && r.status === 'fail') {
            r.detail += ` [${dead}]`;
          }
        }
        const info = peerInfo.find((p) => p.name === peerName);
        if (!info.quirks.includes(`**died**: ${dead}`)) info.quirks.push(`**died**: ${dead}`);
      }
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      log(`   (${client.name}: exit ${code}, ${secs} s; ${budgetNote()})`);
      if (stderr.trim() && code !== 0) log(`   stderr: ${tail(stderr, 400)}`);
    }
    for (const sc of SCENARIOS.filter((x) => x.peer === peerName && wanted(x))) {
      await runScenario(sc, peer, log);
    }
  } finally {
    if (peer.stop) await peer.stop();
  }
}

// Peers run one after another, or `--lanes N` at a time: the drivers mostly wait (heart-beat
// periods, receipts, DLQ waits), so two peers side by side take little more than the longest.
// peerInfo keeps the order asked for, whatever order they finish in.
const queue = [...peersAsked];
await Promise.all(
  Array.from({ length: Math.min(lanes, queue.length) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await runPeer(next);
  }),
);
peerInfo.sort((a, b) => peersAsked.indexOf(a.name) - peersAsked.indexOf(b.name));

// --- scenarios ----------------------------------------------------------------------------------

/** Runs one scenario (SCENARIOS, above); its results go to scenarioResults, one per version × case. */
async function runScenario(sc, peer, log = console.log) {
  log(`== ${sc.title} (${sc.script})`);
  const missing = (sc.needs ?? []).filter((path) => !existsSync(path));
  const got = new Map();
  let code = 0;
  let stderr = '';
  if (missing.length === 0) {
    ({ code, stderr } = await runDriver(
      sc.command(peer),
      (r) => {
        got.set(`${r.version}|${r.case}`, r);
        const mark = r.status === 'fail' ? `FAIL  ${r.detail}` : `${r.status}  ${r.detail}`;
        log(`   ${pad(r.client, 16)} ${pad(r.version, 4)} ${pad(r.case, 18)} ${mark}`);
      },
      peer?.restart,
    ));
  }
  for (const version of sc.versions ?? versions) {
    for (const name of sc.cases) {
      const r = got.get(`${version}|${name}`);
      const why = missing.length
        ? `not installed: ${missing.join(', ')} (see interop/README.md)`
        : `no result: exited ${code}${stderr ? `; ${tail(stderr)}` : ''}`;
      scenarioResults.push({
        peer: sc.title,
        scenario: sc,
        client: sc.client,
        version,
        case: name,
        status: r?.status ?? 'fail',
        detail: r?.detail ?? why,
      });
    }
  }
}

// Scenarios that need no running peer (they start their own brokers).
for (const sc of SCENARIOS.filter((x) => x.peer === null && wanted(x))) await runScenario(sc);
results.push(...scenarioResults);

// --- the matrix ---------------------------------------------------------------------------------

const counts = {};
for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;

const escape = (s) => String(s).replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const short = (s, n = 70) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function cell(r, failIndex) {
  if (!r) return '';
  if (r.notStarted) return '**not started**';
  if (r.status === 'fail') return `**fail** [F${failIndex.get(r)}]: ${escape(short(r.detail, 60))}`;
  return r.status;
}

const md = [];
md.push('# Interop matrix');
md.push('');
md.push(
  `Generated by \`node interop/run.mjs --against ${args.against}\` on ${new Date().toISOString()}. ` +
    'Rows: client × STOMP version; columns: cases (see interop/clients/stomppy_driver.py and ' +
    'interop/clients/stompjs-cases.mjs for what each asserts). `unsupported`: the client or the ' +
    'protocol version has no such feature; `n/a`: the peer offers no transport for that client ' +
    '(or the client is not run against it); `peer limit`: the peer breaks the spec or lacks the ' +
    'feature (the reason is listed); `not available`: the client cannot be installed here.',
);
md.push('');
md.push(
  '`login`: a wrong passcode must be refused (ERROR or a failed connect, within a bounded wait), ' +
    'then the right credentials connect (ours: a user given with `ours-broker.mjs --user`; ' +
    'RabbitMQ: guest). `durable_restart` (ours only): 20 persistent SENDs, each confirmed by a ' +
    'RECEIPT; 5 delivered unacknowledged (client ack); the broker is killed (SIGKILL) and ' +
    'restarted on the same data directory and ports; all 20 must come back in order, the 5 with ' +
    '`redelivered:true`. `disconnect`: DISCONNECT with a receipt gets its RECEIPT, then the ' +
    'broker closes the connection (where the client lets the driver see that).',
);
md.push('');
md.push(
  `Totals: ${Object.entries(counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')}.`,
);
// The STOMP systems the project was founded to serve (lib/systems.mjs), each with its cells.
md.push('');
md.push('## STOMP systems the project was founded to serve');
md.push('');
md.push(
  'Each with where the matrix covers it (its cells in this run, every peer and version) or why ' +
    'it cannot be covered here; "not available" was looked up in every registry this machine ' +
    'reaches (Debian, npm, PyPI, Maven Central, the Go module proxy, crates.io).',
);
md.push('');
md.push('| system | kind | language | state | from |');
md.push('| --- | --- | --- | --- | --- |');
for (const sys of SYSTEMS) {
  let state;
  if (sys.unavailable) {
    state = `not available here: ${sys.unavailable}`;
  } else if (sys.pending) {
    state = `not covered yet: ${sys.pending}`;
  } else {
    const cells = results.filter(
      (r) =>
        sys.rows?.includes(r.client) ||
        sys.columns?.includes(r.peer) ||
        (sys.scenario !== undefined && r.peer.startsWith(sys.scenario)),
    );
    const by = {};
    for (const r of cells) by[r.status] = (by[r.status] ?? 0) + 1;
    const where = [
      sys.rows ? `rows ${sys.rows.join(', ')}` : '',
      sys.columns ? `columns ${sys.columns.join(', ')}` : '',
      sys.scenario ? 'and its scenario' : '',
    ]
      .filter(Boolean)
      .join(' ');
    state =
      cells.length === 0
        ? `not run in this run (${where})`
        : `${where}: ${Object.entries(by)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`;
  }
  md.push(
    `| ${escape(sys.name)} | ${sys.kind} | ${escape(sys.language)} | ${escape(state)} | ${escape(sys.source)} |`,
  );
}
for (const p of peerInfo) {
  md.push('');
  md.push(`## ${p.name}`);
  md.push('');
  md.push(
    p.state === 'started' ? `Started: ${escape(p.note)}` : `**Not started**: ${escape(p.note)}`,
  );
  md.push('');
  const rows = results.filter((r) => r.peer === p.name);
  const fails = rows.filter((r) => r.status === 'fail' && !r.notStarted);
  const failIndex = new Map(fails.map((r, i) => [r, i + 1]));
  md.push(`| client | version | ${caseNames.join(' | ')} |`);
  md.push(`| --- | --- | ${caseNames.map(() => '---').join(' | ')} |`);
  // Clients not run against this peer at all (its `clients` list) get no rows.
  const notRun = (r) => r.status === 'n/a' && r.detail.startsWith('not run against');
  const shown = clientNames.filter((c) => rows.some((r) => r.client === c && !notRun(r)));
  for (const client of shown) {
    for (const version of versions) {
      const cells = caseNames.map((c) =>
        cell(
          rows.find((r) => r.client === client && r.version === version && r.case === c),
          failIndex,
        ),
      );
      md.push(`| ${client} | ${version} | ${cells.join(' | ')} |`);
    }
  }
  if (p.quirks.length > 0) {
    md.push('');
    md.push('Notes and peer quirks (each quirk is documented in the drivers):');
    md.push('');
    for (const q of p.quirks) md.push(`- ${q}`);
  }
  const na = [
    ...new Set(
      rows
        .filter((r) => ['n/a', 'not available', 'peer limit'].includes(r.status) && !notRun(r))
        .map(
          (r) =>
            `${r.status}: ${r.client}${r.status === 'peer limit' && !r.detail.startsWith('peer limit') ? ` ${r.case}` : ''}: ${r.detail.replace(/ \(driver: .*\)$/s, '')}`,
        ),
    ),
  ];
  if (fails.length > 0) {
    md.push('');
    md.push('Failures:');
    md.push('');
    for (const r of fails) {
      md.push(`- F${failIndex.get(r)} ${r.client} ${r.version} ${r.case}: ${escape(r.detail)}`);
    }
  }
  if (na.length > 0) {
    md.push('');
    md.push('Not applicable, not available, peer limits:');
    md.push('');
    for (const line of na) md.push(`- ${escape(line)}`);
  }
}
for (const sc of SCENARIOS) {
  const rows = scenarioResults.filter((r) => r.scenario === sc);
  if (rows.length === 0) continue;
  md.push('');
  md.push(`## ${sc.title}`);
  md.push('');
  md.push(sc.describe);
  md.push('');
  md.push('| client | version | case | state | detail |');
  md.push('| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const status = r.status === 'fail' ? '**fail**' : r.status;
    md.push(`| ${r.client} | ${r.version} | ${r.case} | ${status} | ${escape(r.detail)} |`);
  }
}
md.push('');

const outDir = args['out-dir'];
const json = {
  generatedAt: new Date().toISOString(),
  against: args.against,
  cases: caseNames,
  versions,
  clients: clientNames,
  peers: peerInfo,
  totals: counts,
  results: results.map(({ notStarted: _n, scenario: _s, ...r }) => r),
};
let jsonText = `${JSON.stringify(json, null, 2)}\n`;
try {
  // Keep the committed file in the repository's Prettier style (`npm run lint` checks it).
  const prettier = await import('prettier');
  const file = join(outDir, 'matrix.json');
  const config = (await prettier.resolveConfig(file)) ?? {};
  jsonText = await prettier.format(jsonText, { ...config, filepath: file });
} catch {
  // Prettier is a devDependency; without it the JSON is still valid.
}
await writeFile(join(outDir, 'MATRIX.md'), md.join('\n'));
await writeFile(join(outDir, 'matrix.json'), jsonText);

const failed = results.filter((r) => r.status === 'fail');
console.log('');
console.log(
  `== summary: ${Object.entries(counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(
      ', ',
    )}; peers: ${peerInfo.map((p) => `${p.name} ${p.state}`).join(', ')}; ${budgetNote()}`,
);
for (const r of failed) {
  console.log(`   FAIL ${r.peer} ${r.client} ${r.version} ${r.case}: ${short(r.detail, 160)}`);
}
console.log(`== wrote ${join(outDir, 'MATRIX.md')} and ${join(outDir, 'matrix.json')}`);
process.exit(failed.length > 0 ? 1 : 0);
