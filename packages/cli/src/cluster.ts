// Cluster mode for `stompede broker`: the `cluster:` block of the config file, `--cluster`, and
// starting the cluster engine. The engine lives in @stompede/cluster, loaded only here and only in
// cluster mode, so a broker that never clusters never loads the NATS client.
import type { ClusterEngine, ClusterOptions } from '@stompede/cluster';
import type { Metrics } from '@stompede/broker';
import type { Logger } from 'pino';
import { CliError } from './cli-error.js';

/** Keys of the `cluster:` block (the values are checked by @stompede/cluster). */
export const CLUSTER_KEYS: ReadonlySet<string> = new Set([
  'servers',
  'nodeName',
  'auth',
  'tls',
  'replicas',
  'prefix',
  'queueShards',
  'ackWait',
  'duplicateWindow',
  'publishTimeout',
  'maxAge',
  'maxStreamBytes',
  'maxInflightBytes',
  'connectTimeout',
]);
/** Keys of `cluster.auth`. */
export const CLUSTER_AUTH_KEYS: ReadonlySet<string> = new Set([
  'user',
  'password',
  'token',
  'credsFile',
]);
/** Keys of `cluster.tls`. */
export const CLUSTER_TLS_KEYS: ReadonlySet<string> = new Set(['caFile', 'certFile', 'keyFile']);

/** The `cluster:` block as read from a file: `servers` may be a list or a comma-separated text. */
export type ClusterConfig = Omit<ClusterOptions, 'servers'> & {
  servers?: readonly string[] | string;
};

/** The module, or a CliError saying how to install it. */
export async function loadClusterModule(): Promise<typeof import('@stompede/cluster')> {
  try {
    return await import('@stompede/cluster');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(
        'cluster mode needs the @stompede/cluster package (the NATS JetStream engine): ' +
          'npm install @stompede/cluster',
      );
    }
    throw err;
  }
}

/** Settings of the broker the cluster engine takes over. */
export interface EngineSettings {
  readonly memoryLimit?: number;
  readonly maxDeliveries?: number;
  readonly maxTopicPending?: number;
  readonly persistAll?: boolean;
}

/**
 * Connect this node to its cluster (waiting up to `connectTimeout`, with progress in the log).
 * Throws a CliError (exit 1) when the options are wrong or NATS cannot be used.
 */
export async function startClusterEngine(
  config: ClusterConfig,
  settings: EngineSettings,
  metrics: Metrics,
  logger: Logger,
): Promise<ClusterEngine> {
  const mod = await loadClusterModule();
  const servers =
    typeof config.servers === 'string' ? mod.parseServers(config.servers) : config.servers;
  let options: ClusterOptions;
  try {
    options = { ...config, servers: servers ?? [] };
    mod.resolveClusterOptions(options);
  } catch (err) {
    throw new CliError(`invalid cluster configuration: ${(err as Error).message}`);
  }
  logger.info({ servers: options.servers }, 'connecting to the cluster (NATS JetStream)');
  try {
    return await mod.ClusterEngine.start({
      ...options,
      ...settings,
      metrics,
      log: (level, message, err) => {
        if (err === undefined) logger[level](message);
        else logger[level]({ err }, message);
      },
    });
  } catch (err) {
    throw new CliError(`cannot start cluster mode: ${(err as Error).message}`, 1);
  }
}
