// stompede nodes as child processes (`stompede broker --cluster …`), for the demo, the fault
// tests and the benchmarks: start one, wait until it listens, crash it (kill -9), start it again
// on the same ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How to start a node. */
export interface NodeProcessOptions {
  /** The command that runs `stompede broker`, e.g. `[process.execPath, '/…/cli/dist/main.js', 'broker']`. */
  readonly command: readonly string[];
  /** NATS URLs (what `--cluster` takes). */
  readonly cluster: string;
  /** STOMP over TCP port (0: a free one, found again on restart from the log). */
  readonly port: number;
  /** STOMP over WebSocket port (0: a free one); default off. */
  readonly wsPort?: number | 'off';
  /** Admin HTTP port; 0 or missing: no admin server. */
  readonly adminPort?: number;
  /** More flags, e.g. `['--config', file]`. */
  readonly args?: readonly string[];
  /** Extra environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** ms to wait for "broker listening" (default 30 000). */
  readonly startTimeout?: number;
  /** Every log line of the node (JSON), e.g. to a file. */
  readonly onLine?: (line: string) => void;
}

/** A node's addresses once it listens. */
export interface NodeAddresses {
  readonly stomp: string;
  readonly ws: string | undefined;
  readonly admin: string | undefined;
}

/** One stompede node process. */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private port: number;
  /** Set once it listens. */
  addresses: NodeAddresses | undefined;

  constructor(private readonly options: NodeProcessOptions) {
    this.port = options.port;
  }

  /** Its process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The STOMP port (known after the first start when 0 was asked). */
  get stompPort(): number {
    return this.port;
  }

  /** Start it and wait until it listens; rejects with its last output when it exits first. */
  async start(): Promise<NodeAddresses> {
    if (this.running) return this.addresses!;
    const o = this.options;
    const [cmd, ...pre] = o.command;
    const args = [
      ...pre,
      '--cluster',
      o.cluster,
      '--port',
      String(this.port),
      '--ws-port',
      String(o.wsPort ?? 'off'),
      ...(o.adminPort === undefined || o.adminPort === 0
        ? []
        : ['--admin-port', String(o.adminPort)]),
      ...(o.args ?? []),
    ];
    const child = spawn(cmd!, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...o.env },
    });
    this.child = child;
    const tail: string[] = [];
    const timeout = o.startTimeout ?? 30_000;
    return new Promise<NodeAddresses>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node did not listen within ${String(timeout)} ms:\n${tail.join('\n')}`));
      }, timeout);
      const onLine = (line: string): void => {
        o.onLine?.(line);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (!line.includes('broker listening')) return;
        try {
          const entry = JSON.parse(line) as { listeners?: string[]; admin?: string };
          const stomp = entry.listeners?.find(
            (u) => u.startsWith('tcp:') || u.startsWith('stomp:'),
          );
          const ws = entry.listeners?.find((u) => u.startsWith('ws:'));
          const port = Number(/:(\d+)\/?$/.exec(stomp ?? '')?.[1] ?? this.port);
          this.port = port;
          this.addresses = {
            stomp: stomp ?? `tcp://127.0.0.1:${String(port)}`,
            ws,
            admin: entry.admin,
          };
          clearTimeout(timer);
          resolve(this.addresses);
        } catch {
          // Not JSON: keep waiting.
        }
      };
      createInterface({ input: child.stdout }).on('line', onLine);
      createInterface({ input: child.stderr }).on('line', onLine);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `node exited (${String(code ?? signal)}) before listening:\n${tail.join('\n')}`,
          ),
        );
      });
    });
  }

  /** Send `signal` (default SIGKILL: a crash) and wait for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (c === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) =>
      c.once('exit', () => {
        resolve();
      }),
    );
    c.kill(signal);
    await exited;
  }

  /** Stop gracefully (SIGTERM; SIGKILL after 10 s). */
  async stop(): Promise<void> {
    const c = this.child;
    if (c === undefined || !this.running) return;
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }
}
