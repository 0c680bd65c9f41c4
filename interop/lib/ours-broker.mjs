#!/usr/bin/env node
// Starts @stompede/broker (packages/broker/dist) for the interop matrix in its own process, so a
// broker crash shows up as a peer failure instead of taking run.mjs down with it.
// Listens on 127.0.0.1, port 0, TCP and WebSocket (/ws); prints one JSON line
// {"addresses": [ListenerAddress…]} once listening, or {"error": "…"} and exits 1. Closes the
// broker gracefully on SIGTERM/SIGINT or when stdin ends (run.mjs going away).
let createBroker;
let hashPassword;
try {
  ({ createBroker, hashPassword } = await import('@stompede/broker'));
} catch (err) {
  process.stdout.write(
    `${JSON.stringify({ error: `cannot import @stompede/broker (packages/broker/dist; run \`npm run build\`): ${err.message}` })}\n`,
  );
  process.exit(1);
}

// Options: `--tcp-port N` and `--ws-port N` (default 0: any free port; a restarted broker reuses
// the ports of the one it replaces), `--data-dir DIR` (a durable store; default none), `--no-ws`
// (used by interop/scenarios/failover.mjs), `--user NAME:PASSWORD` (repeatable: a user whose
// password is hashed here with the broker's own scrypt helper, `hashPassword`, as `stompede
// passwd` does; anonymous clients stay allowed, the listeners being on loopback),
// `--ws-allowed-origin ORIGIN` (repeatable: the WebSocket listener's `allowedOrigins`; the
// headless-browser driver's page is served from another port, so another origin, which the
// broker refuses with 403 unless it is listed).
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const tcpPort = Number(opt('--tcp-port') ?? 0);
const wsPort = Number(opt('--ws-port') ?? 0);
const dataDir = opt('--data-dir');
const allowedOrigins = argv.flatMap((a, i) =>
  a === '--ws-allowed-origin' && argv[i + 1] ? [argv[i + 1]] : [],
);
const users = {};
for (let i = 0; i < argv.length; i++) {
  if (argv[i] !== '--user') continue;
  const spec = argv[i + 1] ?? '';
  const colon = spec.indexOf(':');
  if (colon <= 0) {
    process.stdout.write(`${JSON.stringify({ error: '--user needs NAME:PASSWORD' })}\n`);
    process.exit(1);
  }
  users[spec.slice(0, colon)] = { password: await hashPassword(spec.slice(colon + 1)) };
}

const broker = createBroker({
  listeners: [
    { protocol: 'tcp', host: '127.0.0.1', port: tcpPort },
    ...(argv.includes('--no-ws')
      ? []
      : [
          {
            protocol: 'ws',
            host: '127.0.0.1',
            port: wsPort,
            path: '/ws',
            ...(allowedOrigins.length === 0 ? {} : { allowedOrigins }),
          },
        ]),
  ],
  ...(dataDir === undefined ? {} : { dataDir }),
  ...(Object.keys(users).length === 0 ? {} : { users }),
  // Heart-beats of 1 s (floor and ceiling) whatever period a client asks for, so the heartbeat
  // case sees the broker beat within its window instead of only checking that it survives.
  heartbeat: [1000, 1000],
});

let addresses;
try {
  addresses = await broker.listen();
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: `listen failed: ${err.message}` })}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ addresses })}\n`);

let closing = false;
const close = async () => {
  if (closing) return;
  closing = true;
  await broker.close();
  process.exit(0);
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
process.stdin.on('end', close);
process.stdin.resume();
