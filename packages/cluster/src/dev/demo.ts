// `stompede cluster up`: a local cluster to try cluster mode — three nats-servers with JetStream
// on loopback and N stompede nodes on them — that prints its addresses and stops everything on
// Ctrl-C (or SIGTERM).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNatsServers } from './nats-servers.js';
import { NodeProcess } from './nodes.js';

/** Options of {@link runClusterDemo}. */
export interface ClusterDemoOptions {
  /** The command that runs `stompede broker` (the CLI passes its own). */
  readonly brokerCommand: readonly string[];
  /** stompede nodes (default 2). */
  readonly nodes?: number;
  /** NATS servers (default 3). */
  readonly natsServers?: number;
  /** First node's STOMP port; the next nodes take the following ones (default 61613). */
  readonly port?: number;
  /** First node's WebSocket port (default 15674; 0: free ports); 'off' turns WebSocket off. */
  readonly wsPort?: number | 'off';
  /** Directory for NATS stores and logs; kept when given, else a temporary one, removed. */
  readonly dir?: string;
  /** Where the progress and the address table go (default stdout). */
  readonly print?: (line: string) => void;
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  readonly until?: Promise<unknown>;
}

/** A port: `preferred` when free, else any free one. */
async function portNear(preferred: number): Promise<number> {
  if (preferred === 0) return 0;
  const { createServer } = await import('node:net');
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => {
      resolve(false);
    });
    s.listen(preferred, '127.0.0.1', () => {
      s.close(() => {
        resolve(true);
      });
    });
  });
  return free ? preferred : freePort();
}

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => {
      resolve('SIGINT');
    });
    process.once('SIGTERM', () => {
      resolve('SIGTERM');
    });
  });
}

/** Run the demo until told to stop; resolves with an exit code. */
export async function runClusterDemo(options: ClusterDemoOptions): Promise<number> {
  const print = options.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const keep = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'stompede-cluster-'));
  const started = Date.now();
  print(`starting ${String(options.natsServers ?? 3)} NATS servers (JetStream) in ${dir}`);
  const nats = await startNatsServers({
    dir: join(dir, 'nats'),
    size: options.natsServers ?? 3,
    log: (line) => {
      print(`  ${line}`);
    },
  });
  const nodes: NodeProcess[] = [];
  try {
    const count = options.nodes ?? 2;
    for (let i = 0; i < count; i++) {
      // 0: free ports for every node.
      const port = options.port === 0 ? 0 : await portNear((options.port ?? 61613) + i);
      const ws =
        options.wsPort === 'off' || options.wsPort === 0
          ? options.wsPort
          : await portNear((options.wsPort ?? 15674) + i);
      const node = new NodeProcess({
        command: options.brokerCommand,
        cluster: nats.urls,
        port,
        wsPort: ws,
        args: ['--log-level', 'info'],
      });
      print(`starting stompede node ${String(i + 1)}`);
      await node.start();
      nodes.push(node);
    }
    print('');
    print(`cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
    for (const s of nats.list) {
      print(`  NATS ${s.name}       ${s.url}  (monitoring http://127.0.0.1:${String(s.httpPort)})`);
    }
    for (const [i, n] of nodes.entries()) {
      const a = n.addresses!;
      print(
        `  stompede node ${String(i + 1)}  ${a.stomp.replace('stomp://', 'tcp://')}` +
          (a.ws === undefined ? '' : `  ${a.ws}`),
      );
    }
    const failover = nodes.map((n) => `tcp://127.0.0.1:${String(n.stompPort)}`).join(',');
    print('');
    print(`clients: failover:(${failover})`);
    const url = (n: NodeProcess): string => `tcp://127.0.0.1:${String(n.stompPort)}`;
    print(`try:  stompede subscribe /queue/demo --broker ${url(nodes[0]!)}`);
    print(`      stompede send /queue/demo hello --persistent --broker ${url(nodes.at(-1)!)}`);
    print('Ctrl-C stops everything.');
    const why = await (options.until ?? signalled());
    print(`\nstopping (${String(why)})`);
    return 0;
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await nats.stop();
    if (!keep) rmSync(dir, { recursive: true, force: true });
    print('stopped: every node and NATS server');
  }
}
