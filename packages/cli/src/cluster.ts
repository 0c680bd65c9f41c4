// Cluster mode for `stompede broker`: the `cluster:` block of the config file, `--cluster`, and
// starting the cluster engine. The engine lives in @stompede/cluster, loaded only here and only in
// cluster mode, so a broker that never clusters never loads the NATS client.
import type { ClusterEngine, ClusterOptions } from '@stompede/cluster';
import type { Metrics } from '@stompede/broker';
import type { Logger } from 'pino';
import { CliError } from './cli-error.js';
import type { ConfigFile } from './config/schema.js';

/** The `cluster:` block of a configuration file. */
export type ClusterConfig = NonNullable<ConfigFile['cluster']>;

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
  readonly maxQueues?: number;
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
  const options: ClusterOptions = config;
  try {
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
