// `stompede cluster up`: a local cluster to try cluster mode (three NATS servers with JetStream
// and two stompede nodes on loopback), stopped by Ctrl-C.
import { fileURLToPath } from 'node:url';
import { CliError, parseCommandArgs, parsePort } from '../cli-error.js';
import { loadClusterModule } from '../cluster.js';

export const CLUSTER_HELP = `Usage: stompede cluster up [options]

Start a local cluster on loopback: NATS servers with JetStream (nats-server; installed from
Debian's package when missing and run as root) and stompede nodes in cluster mode on them. Prints
every address and a failover URI, and stops everything on Ctrl-C. For trying cluster mode: a
real deployment runs NATS under its own supervisor (docs/cluster.md).

Options:
  --nodes N           stompede nodes                                       (2)
  --nats N            NATS servers (1, or 3 to survive the loss of one)    (3)
  --port N            first node's STOMP port; the next nodes take the next ones, or free
                      ones when taken; 0: free ports                       (61613)
  --ws-port N|off     first node's WebSocket port, likewise; off: none     (15674)
  --dir DIR           keep NATS stores and logs in DIR (default: a temporary directory, removed)
  -h, --help          show this help
`;

/** Run `stompede cluster <action>`. */
export async function runCluster(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs('cluster', {
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      nodes: { type: 'string' },
      nats: { type: 'string' },
      port: { type: 'string' },
      'ws-port': { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const flags = parsed.values;
  if (flags.help === true) {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  const [action, ...extra] = parsed.positionals;
  if (action !== 'up' || extra.length > 0) {
    throw new CliError(`expected 'stompede cluster up'\n\n${CLUSTER_HELP}`);
  }
  const count = (flag: string, text: string | undefined, fallback: number, max: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      throw new CliError(`--${flag} must be an integer from 1 to ${String(max)}`);
    }
    return n;
  };
  const mod = await loadClusterModule();
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  try {
    return await mod.runClusterDemo({
      brokerCommand: [process.execPath, main, 'broker'],
      nodes: count('nodes', flags.nodes, 2, 16),
      natsServers: count('nats', flags.nats, 3, 7),
      ...(flags.port === undefined ? {} : { port: parsePort('--port', flags.port) }),
      ...(flags['ws-port'] === undefined
        ? {}
        : {
            wsPort: flags['ws-port'] === 'off' ? 'off' : parsePort('--ws-port', flags['ws-port']),
          }),
      ...(flags.dir === undefined ? {} : { dir: flags.dir }),
    });
  } catch (err) {
    throw new CliError(`cluster up failed: ${(err as Error).message}`, 1);
  }
}
