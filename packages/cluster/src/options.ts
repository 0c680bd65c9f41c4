// Cluster options: what `--cluster` and the config file's `cluster:` block set, validated once
// into frozen data with every default filled in.
import { StompInvalidArgumentError } from '@stompede/core';
import { validPrefix } from './names.js';

/** How a node authenticates to NATS (at most one of user/password, token, or a creds file). */
export interface NatsAuthOptions {
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** A NATS `.creds` file (JWT and NKey seed), as `nsc` writes it. */
  readonly credsFile?: string;
}

/** TLS to the NATS servers. */
export interface NatsTlsOptions {
  /** PEM CA bundle the servers' certificates must chain to. */
  readonly caFile?: string;
  /** PEM client certificate (with `keyFile`), for servers that verify clients. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Options of cluster mode (see docs/cluster.md). */
export interface ClusterOptions {
  /** NATS server URLs, e.g. `nats://10.0.0.1:4222` (at least one; list them all). */
  readonly servers: readonly string[];
  /** This node's name in NATS (connection name, shown by the servers). Default: host-pid. */
  readonly nodeName?: string;
  readonly auth?: NatsAuthOptions;
  readonly tls?: NatsTlsOptions;
  /** Replicas of every stream and consumer: 1, 3 or 5. Default 3 (survives one server). */
  readonly replicas?: number;
  /** First token of every subject and stream name; clusters sharing NATS need distinct ones. */
  readonly prefix?: string;
  /** Work-queue streams the queues are spread over (fixed once streams exist). Default 3. */
  readonly queueShards?: number;
  /**
   * ms a delivery may stay unacknowledged at JetStream before it is redelivered when its node
   * stops renewing it (the node renews for live clients): the redelivery delay after a node
   * dies. Default 30 000.
   */
  readonly ackWait?: number;
  /** ms in which a repeated message id (retries, `idempotency-key`) is stored once. Default 120 000. */
  readonly duplicateWindow?: number;
  /** ms a SEND waits for JetStream to store it, retrying, before it gets an ERROR. Default 10 000. */
  readonly publishTimeout?: number;
  /** ms a message may stay in a stream before JetStream discards it; 0 = no limit. Default 0. */
  readonly maxAge?: number;
  /** Bytes each stream may hold; new messages are refused beyond (ERROR); -1 = no limit. */
  readonly maxStreamBytes?: number;
  /** Bytes of SENDs a node may have in flight to JetStream before it pauses producers. */
  readonly maxInflightBytes?: number;
  /** ms to wait for NATS at start before giving up (the node exits). Default 30 000. */
  readonly connectTimeout?: number;
}

/** {@link ClusterOptions} with every default filled in. */
export interface ResolvedClusterOptions {
  readonly servers: readonly string[];
  readonly nodeName: string;
  readonly auth: NatsAuthOptions;
  readonly tls: NatsTlsOptions | undefined;
  readonly replicas: number;
  readonly prefix: string;
  readonly queueShards: number;
  readonly ackWait: number;
  readonly duplicateWindow: number;
  readonly publishTimeout: number;
  readonly maxAge: number;
  readonly maxStreamBytes: number;
  readonly maxInflightBytes: number;
  readonly connectTimeout: number;
}

/** The defaults of {@link ClusterOptions}. */
export const CLUSTER_DEFAULTS = Object.freeze({
  replicas: 3,
  prefix: 'stompede',
  queueShards: 3,
  ackWait: 30_000,
  duplicateWindow: 120_000,
  publishTimeout: 10_000,
  maxAge: 0,
  maxStreamBytes: -1,
  maxInflightBytes: 32 * 1024 * 1024,
  connectTimeout: 30_000,
});

function bad(message: string): never {
  throw new StompInvalidArgumentError(`cluster: ${message}`);
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    bad(
      `${name} must be an integer from ${String(min)} to ${String(max)} ` +
        `(got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** Split a `--cluster` value (`nats://a:4222,nats://b:4222`) into server URLs. */
export function parseServers(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Check `options` and fill in the defaults; throws `ERR_STOMP_INVALID_ARGUMENT` naming the key. */
export function resolveClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  const servers = [...options.servers];
  if (servers.length === 0) bad('servers: list at least one NATS server URL');
  for (const s of servers) {
    let url: URL;
    try {
      url = new URL(s.includes('://') ? s : `nats://${s}`);
    } catch {
      bad(`servers: ${JSON.stringify(s)} is not a URL (nats://HOST:PORT)`);
    }
    if (!['nats:', 'tls:'].includes(url.protocol)) {
      bad(`servers: ${JSON.stringify(s)} must start with nats:// or tls://`);
    }
  }
  const auth = options.auth ?? {};
  const ways = [
    auth.user !== undefined || auth.password !== undefined,
    auth.token !== undefined,
    auth.credsFile !== undefined,
  ].filter(Boolean).length;
  if (ways > 1) bad('auth: use one of user/password, token or credsFile');
  if ((auth.user === undefined) !== (auth.password === undefined)) {
    bad('auth: user and password go together');
  }
  const tls = options.tls;
  if (tls !== undefined && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    bad('tls: certFile and keyFile go together');
  }
  const replicas = integer('replicas', options.replicas, CLUSTER_DEFAULTS.replicas, 1, 5);
  if (replicas % 2 === 0) bad(`replicas must be odd (1, 3 or 5; got ${String(replicas)})`);
  const prefix = options.prefix ?? CLUSTER_DEFAULTS.prefix;
  if (!validPrefix(prefix)) bad(`prefix ${JSON.stringify(prefix)}: use 1-32 of [A-Za-z0-9_-]`);
  const day = 86_400_000;
  const resolved: ResolvedClusterOptions = {
    servers,
    nodeName: options.nodeName ?? `stompede-${String(process.pid)}`,
    auth: { ...auth },
    tls: tls === undefined ? undefined : { ...tls },
    replicas,
    prefix,
    queueShards: integer('queueShards', options.queueShards, CLUSTER_DEFAULTS.queueShards, 1, 64),
    ackWait: integer('ackWait', options.ackWait, CLUSTER_DEFAULTS.ackWait, 1000, day),
    duplicateWindow: integer(
      'duplicateWindow',
      options.duplicateWindow,
      CLUSTER_DEFAULTS.duplicateWindow,
      1000,
      day,
    ),
    publishTimeout: integer(
      'publishTimeout',
      options.publishTimeout,
      CLUSTER_DEFAULTS.publishTimeout,
      100,
      600_000,
    ),
    maxAge: integer('maxAge', options.maxAge, CLUSTER_DEFAULTS.maxAge, 0, 3650 * day),
    maxStreamBytes: integer(
      'maxStreamBytes',
      options.maxStreamBytes,
      CLUSTER_DEFAULTS.maxStreamBytes,
      -1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxInflightBytes: integer(
      'maxInflightBytes',
      options.maxInflightBytes,
      CLUSTER_DEFAULTS.maxInflightBytes,
      1024,
      Number.MAX_SAFE_INTEGER,
    ),
    connectTimeout: integer(
      'connectTimeout',
      options.connectTimeout,
      CLUSTER_DEFAULTS.connectTimeout,
      0,
      3_600_000,
    ),
  };
  if (resolved.duplicateWindow < 3 * resolved.publishTimeout) {
    // Retried SENDs, and transactions replayed after 2 × publishTimeout, are deduplicated in it.
    bad('duplicateWindow must be at least 3 × publishTimeout');
  }
  return Object.freeze(resolved);
}
