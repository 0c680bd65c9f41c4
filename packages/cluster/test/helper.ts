// Helpers for the cluster tests: a real JetStream cluster of nats-server processes (skipped with
// a reason when nats-server is missing, unless STOMPEDE_PEERS=1 — what CI sets — makes that a
// failure), engines on it, and a recording consumer.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Consumer, Delivery, Message } from '@stompede/broker';
import { StompError } from '@stompede/core';
import {
  ClusterEngine,
  type ClusterEngineOptions,
  type NatsServers,
  NodeProcess,
  ensureNatsServer,
  startNatsServers,
} from '@stompede/cluster';

/** Why the cluster tests cannot run here, or undefined when they can. */
export function natsMissing(): string | undefined {
  try {
    ensureNatsServer();
    return undefined;
  } catch (err) {
    if (process.env.STOMPEDE_PEERS === '1') throw err;
    return `nats-server is not installed (${(err as Error).message})`;
  }
}

/** A 3-server JetStream cluster in a temporary directory; `stop()` removes it. */
export async function natsCluster(size = 3): Promise<NatsServers & { dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-nats-'));
  const servers = await startNatsServers({ dir, size });
  return Object.assign(servers, {
    async dispose(): Promise<void> {
      await servers.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** An engine (a "node") on `servers`, quick to redeliver and with a unique prefix per test file. */
export function engineOn(
  servers: NatsServers,
  options: Partial<ClusterEngineOptions> = {},
): Promise<ClusterEngine> {
  return ClusterEngine.start({
    servers: servers.urls.split(','),
    ackWait: 2000,
    publishTimeout: 5000,
    ...options,
  });
}

/** Poll `check` until it is true; throws after `ms` (a deadline, never a bare sleep). */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${String(ms)} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A consumer that records its deliveries and takes up to `prefetch` unsettled ones. */
export class Recorder implements Consumer {
  readonly deliveries: Delivery[] = [];
  readonly unsettled = new Set<number>();
  detachedWith: StompError | undefined;
  /** Deliveries that came while `prefetch` were unsettled: the engine broke the window. */
  overWindow = 0;

  constructor(
    private readonly prefetch = 1000,
    private readonly auto = false,
  ) {}

  ready(_message: Message): boolean {
    return this.auto || this.unsettled.size < this.prefetch;
  }

  credit(): number {
    return this.auto ? 1000 : this.prefetch - this.unsettled.size;
  }

  deliver(delivery: Delivery): void {
    if (!this.ready(delivery.message)) this.overWindow++;
    this.deliveries.push(delivery);
    if (!this.auto) this.unsettled.add(delivery.ackKey);
  }

  detached(reason: StompError): void {
    this.detachedWith = reason;
  }

  /** Bodies received, as text. */
  get bodies(): string[] {
    return this.deliveries.map((d) => Buffer.from(d.message.body).toString());
  }

  /** Forget `d` as unsettled (call after acking it through the handle). */
  settled(d: Delivery): void {
    this.unsettled.delete(d.ackKey);
  }
}

/** The `stompede broker` command of this repository's CLI. */
export function brokerCommand(): string[] {
  const main = fileURLToPath(
    new URL('./dist/main.js', import.meta.resolve('@stompede/cli/package.json')),
  );
  return [process.execPath, main, 'broker'];
}

/** Nodes (`stompede broker --cluster …` processes) on `servers`, with a config file of theirs. */
export async function startNodes(
  servers: NatsServers,
  count: number,
  config: Record<string, unknown> = {},
): Promise<{ nodes: NodeProcess[]; urls: string[]; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'stompede-nodes-'));
  const file = join(dir, 'broker.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      ...config,
      cluster: {
        servers: servers.urls.split(','),
        ackWait: 2000,
        publishTimeout: 4000,
        connectTimeout: 15_000,
        ...(config.cluster as Record<string, unknown> | undefined),
      },
    }),
  );
  const nodes = Array.from(
    { length: count },
    (_, i) =>
      new NodeProcess({
        command: brokerCommand(),
        cluster: servers.urls,
        port: 0,
        args: ['--config', file, '--log-level', 'info'],
        // Kept when STOMPEDE_KEEP_LOGS=1 (the directory is printed), for a failure's story.
        onLine: (line) => {
          appendFileSync(join(dir, `node${String(i + 1)}.log`), line + '\n');
        },
      }),
  );
  await Promise.all(nodes.map((n) => n.start()));
  return {
    nodes,
    urls: nodes.map((n) => `tcp://127.0.0.1:${String(n.stompPort)}`),
    async dispose(): Promise<void> {
      await Promise.all(nodes.map((n) => n.stop()));
      if (process.env.STOMPEDE_KEEP_LOGS === '1') process.stderr.write(`node logs: ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}
