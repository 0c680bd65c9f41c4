// A JetStream cluster of `nats-server` processes on loopback, for the demo (`stompede cluster
// up`), the tests, CI and the benchmarks. Not for production: real deployments run their NATS
// servers under their own supervisor (see docs/cluster.md).
//
// Each server gets a config file, a store directory and three ports (client, cluster route,
// HTTP monitoring) in one directory. `ready()` waits until every running server answers
// `/healthz?js-enabled-only=true` and a JetStream meta leader is elected, with a deadline.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ensureNatsServer } from './nats-binary.js';

/** Options of {@link startNatsServers}. */
export interface NatsServersOptions {
  /** Directory for configs, logs and JetStream stores (created if missing). */
  readonly dir: string;
  /** Servers (default 3: the smallest cluster that survives losing one). */
  readonly size?: number;
  /** Client ports, one per server; default: free ports. */
  readonly clientPorts?: readonly number[];
  /** Cluster route ports; default: free ports. */
  readonly routePorts?: readonly number[];
  /** HTTP monitoring ports; default: free ports. */
  readonly httpPorts?: readonly number[];
  /** The `nats-server` binary (default: {@link ensureNatsServer}'s choice). */
  readonly binary?: string;
  /** Build or install `nats-server` when missing (default true; see {@link ensureNatsServer}). */
  readonly install?: boolean;
  /** The cluster's name (default `stompede`). */
  readonly clusterName?: string;
  /** NATS `max_payload` in bytes (default: the server's, 1 MiB). */
  readonly maxPayload?: number;
  /** How long {@link NatsServers.ready} waits, in ms (default 30 000). */
  readonly readyTimeout?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** One server of a {@link NatsServers} cluster. */
export interface NatsServerInfo {
  readonly name: string;
  /** `nats://127.0.0.1:PORT`. */
  readonly url: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly httpPort: number;
  /** Its process id while running. */
  readonly pid: number | undefined;
}

const HOST = '127.0.0.1';

/** A free TCP port on loopback (the kernel picks it; it is released before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

async function ports(given: readonly number[] | undefined, n: number): Promise<number[]> {
  if (given !== undefined) {
    if (given.length !== n)
      throw new Error(`expected ${String(n)} ports, got ${String(given.length)}`);
    return [...given];
  }
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

class Server {
  process: ChildProcess | undefined;

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly routePort: number,
    readonly httpPort: number,
    readonly config: string,
    readonly logFile: string,
  ) {}

  get url(): string {
    return `nats://${HOST}:${String(this.clientPort)}`;
  }
}

/** A running loopback JetStream cluster. Create it with {@link startNatsServers}. */
export class NatsServers {
  private readonly servers: Server[];
  private exitHook: (() => void) | undefined;

  /** @internal */
  constructor(
    servers: Server[],
    private readonly binary: string,
    private readonly readyTimeout: number,
    private readonly log: (line: string) => void,
  ) {
    this.servers = servers;
    // A test or demo that dies must not leave servers behind.
    this.exitHook = () => {
      for (const s of this.servers) s.process?.kill('SIGKILL');
    };
    process.on('exit', this.exitHook);
  }

  /** The client URLs, comma-separated (what `--cluster` takes). */
  get urls(): string {
    return this.servers.map((s) => s.url).join(',');
  }

  /** Every server. */
  get list(): NatsServerInfo[] {
    return this.servers.map((s) => ({
      name: s.name,
      url: s.url,
      clientPort: s.clientPort,
      routePort: s.routePort,
      httpPort: s.httpPort,
      pid: s.process?.pid,
    }));
  }

  /** True while server `i` runs. */
  running(i: number): boolean {
    const p = this.server(i).process;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  /** Start server `i` (again), with its config and store. */
  start(i: number): void {
    const s = this.server(i);
    if (this.running(i)) return;
    const out = openSync(s.logFile, 'a');
    try {
      s.process = spawn(this.binary, ['-c', s.config], { stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    s.process.on('error', (err) => {
      this.log(`${s.name}: ${err.message}`);
    });
    this.log(`${s.name} started (pid ${String(s.process.pid)}, ${s.url})`);
  }

  /** Send `signal` (default SIGKILL: a crash) to server `i` and wait for it to exit. */
  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.server(i).process;
    if (p === undefined || !this.running(i)) return;
    const exited = new Promise<void>((resolve) =>
      p.once('exit', () => {
        resolve();
      }),
    );
    p.kill(signal);
    await exited;
    this.log(`${this.server(i).name} stopped (${signal})`);
  }

  /**
   * Wait until every running server reports JetStream healthy and the cluster has a meta
   * leader; throws after `timeout` ms (default: the ready timeout) naming what was missing.
   */
  async ready(timeout = this.readyTimeout): Promise<void> {
    await this.waitReady(timeout, false);
  }

  /** As {@link ready}; with `all`, a server that exited counts as not ready (start-up). */
  private async waitReady(timeout: number, all: boolean): Promise<void> {
    const deadline = Date.now() + timeout;
    let missing = '';
    while (Date.now() < deadline) {
      if (all) {
        const gone = this.exited();
        if (gone.length > 0) throw new ServerExited(gone);
      }
      missing = await this.notReady();
      if (missing === '') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`NATS cluster not ready after ${String(timeout)} ms: ${missing}`);
  }

  /** The names of the servers that were started and are no longer running. */
  private exited(): string[] {
    return this.servers
      .filter((s, i) => s.process !== undefined && !this.running(i))
      .map((s) => s.name);
  }

  /** @internal Start every server and wait until all of them are ready. */
  async startAll(): Promise<void> {
    for (let i = 0; i < this.servers.length; i++) this.start(i);
    await this.waitReady(this.readyTimeout, true);
  }

  private async notReady(): Promise<string> {
    let leader = false;
    for (let i = 0; i < this.servers.length; i++) {
      if (!this.running(i)) continue;
      const s = this.servers[i]!;
      const base = `http://${HOST}:${String(s.httpPort)}`;
      try {
        const health = await fetch(`${base}/healthz?js-enabled-only=true`);
        if (!health.ok) return `${s.name} /healthz answers ${String(health.status)}`;
        const jsz = (await (await fetch(`${base}/jsz`)).json()) as {
          meta_cluster?: { leader?: string };
        };
        if ((jsz.meta_cluster?.leader ?? '') !== '') leader = true;
      } catch (err) {
        return `${s.name} not answering (${err instanceof Error ? err.message : String(err)})`;
      }
    }
    // A single server runs JetStream on its own: healthy is ready.
    return leader || this.servers.length === 1 ? '' : 'no JetStream meta leader yet';
  }

  /** The server's monitoring JSON at `path` (e.g. `/jsz?streams=true`). */
  async monitor(i: number, path: string): Promise<unknown> {
    const s = this.server(i);
    const res = await fetch(`http://${HOST}:${String(s.httpPort)}${path}`);
    return res.json();
  }

  /** Stop every server (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(async (s, i) => {
        if (!this.running(i)) return;
        const p = s.process!;
        const exited = new Promise<void>((resolve) =>
          p.once('exit', () => {
            resolve();
          }),
        );
        p.kill('SIGTERM');
        const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    if (this.exitHook !== undefined) process.off('exit', this.exitHook);
    this.exitHook = undefined;
    this.log('NATS servers stopped');
  }

  private server(i: number): Server {
    const s = this.servers[i];
    if (s === undefined) throw new RangeError(`no server ${String(i)}`);
    return s;
  }
}

/** Write configs for a loopback JetStream cluster, start every server and wait until it is ready. */
export async function startNatsServers(options: NatsServersOptions): Promise<NatsServers> {
  // Free ports are found by binding port 0 and closing it; another process can take one before
  // nats-server binds it ("address already in use", the server exits). Then start again on new
  // ports (only when the ports were not given).
  const given = [options.clientPorts, options.routePorts, options.httpPorts].some(
    (p) => p !== undefined,
  );
  const log = options.log ?? (() => undefined);
  const binary = ensureNatsServer(options.binary, options.install ?? true);
  for (let attempt = 1; ; attempt++) {
    const cluster = await configure(options, binary);
    try {
      await cluster.startAll();
    } catch (err) {
      await cluster.stop();
      if (err instanceof ServerExited && !given && attempt < 5) {
        log(`${err.message}; starting again on other ports (attempt ${String(attempt + 1)})`);
        continue;
      }
      throw err;
    }
    log(`NATS cluster ready: ${cluster.urls}`);
    return cluster;
  }
}

/** A server exited while the cluster was starting (its log says why). */
class ServerExited extends Error {
  constructor(names: readonly string[]) {
    super(`NATS server ${names.join(', ')} exited at start`);
  }
}

/** Write the configs of a loopback JetStream cluster (new free ports unless given). */
async function configure(options: NatsServersOptions, binary: string): Promise<NatsServers> {
  const size = options.size ?? 3;
  const log = options.log ?? (() => undefined);
  const [client, route, http] = [
    await ports(options.clientPorts, size),
    await ports(options.routePorts, size),
    await ports(options.httpPorts, size),
  ];
  const clusterName = options.clusterName ?? 'stompede';
  mkdirSync(options.dir, { recursive: true });
  const servers: Server[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${String(i + 1)}`;
    const store = join(options.dir, name);
    mkdirSync(store, { recursive: true });
    const routes = route.map((p) => `"nats-route://${HOST}:${String(p)}"`).join(', ');
    const lines = [
      `server_name: ${name}`,
      `listen: "${HOST}:${String(client[i])}"`,
      `http: "${HOST}:${String(http[i])}"`,
      ...(options.maxPayload === undefined ? [] : [`max_payload: ${String(options.maxPayload)}`]),
      `jetstream { store_dir: ${JSON.stringify(store)} }`,
      // A one-server "cluster" needs no routes; JetStream then runs stand-alone.
      ...(size === 1
        ? []
        : [
            `cluster { name: ${clusterName}, listen: "${HOST}:${String(route[i])}", ` +
              `routes: [${routes}] }`,
          ]),
    ];
    const config = join(options.dir, `${name}.conf`);
    writeFileSync(config, lines.join('\n') + '\n');
    servers.push(
      new Server(name, client[i]!, route[i]!, http[i]!, config, join(options.dir, `${name}.log`)),
    );
  }
  return new NatsServers(servers, binary, options.readyTimeout ?? 30_000, log);
}
