#!/usr/bin/env node
// The `stompede` command: one subcommand per file in ./subcommands.
import { readFileSync } from 'node:fs';
import { CliError } from './cli-error.js';
import { BENCH_HELP, runBenchCommand } from './subcommands/bench.js';
import { BROKER_HELP, runBroker } from './subcommands/broker.js';
import { CLOSE_CONNECTION_HELP, runCloseConnection } from './subcommands/close-connection.js';
import { CLUSTER_HELP, runCluster } from './subcommands/cluster.js';
import { CREATE_HELP, runCreate } from './subcommands/create.js';
import { DELETE_HELP, runDelete } from './subcommands/delete.js';
import { LIST_HELP, runList } from './subcommands/list.js';
import { PASSWD_HELP, runPasswd } from './subcommands/passwd.js';
import { PURGE_HELP, runPurge } from './subcommands/purge.js';
import { runSend, SEND_HELP } from './subcommands/send.js';
import { runStatus, STATUS_HELP } from './subcommands/status.js';
import { runSubscribe, SUBSCRIBE_HELP } from './subcommands/subscribe.js';

const HELP = `Usage: stompede <command> [options]

Commands:
  bench             load generator: producers and consumers, throughput, latency, loss checks
  broker            run a STOMP broker (TCP 127.0.0.1:61613, WebSocket ws://127.0.0.1:15674/ws)
  cluster           cluster up: a local cluster (NATS JetStream servers and stompede nodes)
  passwd            print a password hash for the broker's users (read without echo)
  send              send a message, or one per line of standard input, with receipts
  subscribe         print the messages arriving at a destination

Through a broker's admin server (--admin URL, default http://127.0.0.1:61680):
  status            health, uptime, connections, messages, rates, memory, disk, cluster
  list              list queues, topics, connections or subscriptions (a table, or --json)
  create            create a queue: it exists, empty included, until deleted
  purge             drop the messages waiting in a queue
  delete            delete a queue or a topic (or a durable subscription)
  close-connection  close a client's connection, with a reason

Run 'stompede <command> --help' for a command's options.
  -v, --version   print the version
  -h, --help      show this help
`;

const commands: Record<
  string,
  { run: (argv: readonly string[]) => Promise<number>; help: string }
> = {
  bench: { run: runBenchCommand, help: BENCH_HELP },
  broker: { run: runBroker, help: BROKER_HELP },
  'close-connection': { run: runCloseConnection, help: CLOSE_CONNECTION_HELP },
  cluster: { run: runCluster, help: CLUSTER_HELP },
  create: { run: runCreate, help: CREATE_HELP },
  delete: { run: runDelete, help: DELETE_HELP },
  list: { run: runList, help: LIST_HELP },
  passwd: { run: runPasswd, help: PASSWD_HELP },
  purge: { run: runPurge, help: PURGE_HELP },
  send: { run: runSend, help: SEND_HELP },
  status: { run: runStatus, help: STATUS_HELP },
  subscribe: { run: runSubscribe, help: SUBSCRIBE_HELP },
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '-v' || name === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`stompede ${pkg.version}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined)
    throw new CliError(`unknown command ${JSON.stringify(name)}\n\n${HELP}`);
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Handles (sockets, timers) are all closed by now; exit promptly even if a client lingers.
    if (code !== 0 || process.argv[2] === 'broker' || process.argv[2] === 'cluster') {
      setImmediate(() => process.exit(code));
    }
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`stompede: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(
      `stompede: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
