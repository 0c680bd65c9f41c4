// `stompede broker`: run a broker with embedded defaults (TCP 127.0.0.1:61613 and WebSocket
// ws://127.0.0.1:15674/ws), configured by a file, environment variables and flags, in that order
// (config/effective.ts).
import { DEFAULTS, type Engine, Metrics, createBroker } from '@stompede/broker';
import { StompError } from '@stompede/core';
import { CliError, parseCommandArgs } from '../cli-error.js';
import {
  brokerArgOptions,
  brokerOptionsOf,
  type Effective,
  mergeConfig,
  type Override,
  printConfig,
  settingsHelp,
} from '../config/effective.js';
import { loadConfig } from '../config/load.js';
import { startClusterEngine } from '../cluster.js';
import { createLogger } from '../logger.js';

export const BROKER_HELP = `Usage: stompede broker [options]

Run a STOMP 1.0/1.1/1.2 broker. With no options it listens on loopback only:
STOMP over TCP on 127.0.0.1:61613 and STOMP over WebSocket on ws://127.0.0.1:15674/ws
(RabbitMQ Web-STOMP's address). Logs go to stdout: readable lines on a terminal, JSON lines
otherwise (--log-format). SIGTERM or SIGINT closes it
gracefully: listeners stop accepting, in-flight frames finish, sessions are closed. SIGHUP
re-reads the TLS certificate, key and CA files (open connections stay; bad files are logged and
the old ones kept).

Options (flags override environment variables, which override the config file; the broker logs
each setting of the file that a flag or variable replaced):
  --config FILE       YAML (or JSON) configuration file; see docs/broker.md for every key.
                      Relative paths in it are relative to the file.
${settingsHelp()}  --print-config      print the effective configuration as a config file (YAML) and exit
  -h, --help          show this help
`;

/**
 * Merge defaults, the config file, the environment and the flags into one configuration;
 * 'help' when the command only printed something.
 */
export async function effectiveConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ config: Effective; overrides: Override[] } | 'help'> {
  const { values: flags } = parseCommandArgs('broker', {
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: brokerArgOptions(),
  });
  if (flags.help === true) {
    process.stdout.write(BROKER_HELP);
    return 'help';
  }
  const file = typeof flags.config === 'string' ? await loadConfig(flags.config) : {};
  const merged = mergeConfig(file, flags, env);
  if (flags['print-config'] === true) {
    process.stdout.write(printConfig(merged.config));
    return 'help';
  }
  return merged;
}

/** A signal this soon after the first is the same interrupt delivered twice, not a second one. */
const REPEATED_SIGNAL_MS = 500;

/** Run the broker until SIGTERM or SIGINT. Resolves with the process exit code. */
export async function runBroker(argv: readonly string[]): Promise<number> {
  const merged = await effectiveConfig(argv, process.env);
  if (merged === 'help') return 0;
  const { config, overrides } = merged;
  const logger = createLogger(config.logLevel, config.logFormat);
  if (overrides.length > 0) {
    logger.info({ overrides }, 'flags and environment variables override the config file');
  }
  const options = brokerOptionsOf(config);
  // Cluster mode: the engine connects to NATS first (a clear error and exit 1 when it cannot).
  let clustered: { engine: Engine; metrics: Metrics } | undefined;
  if (config.cluster !== undefined) {
    const metrics = new Metrics();
    const engine = await startClusterEngine(
      config.cluster,
      {
        ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
        maxDeliveries: options.maxDeliveries ?? DEFAULTS.maxDeliveries,
        ...(options.maxTopicPending === undefined
          ? {}
          : { maxTopicPending: options.maxTopicPending }),
        ...(options.maxQueues === undefined ? {} : { maxQueues: options.maxQueues }),
        persistAll: options.persistence?.persistAll === true,
      },
      metrics,
      logger,
    );
    clustered = { engine, metrics };
  }
  let broker;
  try {
    broker = createBroker({ ...options, ...clustered, logger });
  } catch (err) {
    await clustered?.engine.close();
    if (err instanceof StompError) throw new CliError(`invalid configuration: ${err.message}`);
    throw err;
  }
  let addresses;
  try {
    addresses = await broker.listen();
  } catch (err) {
    await broker.close();
    // A file the configuration names that cannot be used is a configuration error (exit 2).
    if (err instanceof StompError) throw new CliError(`invalid configuration: ${err.message}`);
    throw new CliError(`cannot listen: ${(err as Error).message}`, 1);
  }
  // SIGHUP: re-read the TLS certificate files (each listener logs its outcome).
  const reload = (): void => {
    logger.info({ signal: 'SIGHUP' }, 'reloading certificates');
    void broker.reloadCertificates().then((results) => {
      logger.info(
        {
          reloaded: results.filter((r) => r.reloaded).length,
          failed: results.filter((r) => !r.reloaded).length,
        },
        'certificate reload finished',
      );
    });
  };
  process.on('SIGHUP', reload);

  // The handlers are in place before 'broker listening' is logged: whoever starts the broker may
  // interrupt it as soon as it reads that line, and a SIGINT before process.on('SIGINT') would
  // kill the process without a graceful stop.
  const stopped = new Promise<number>((resolve) => {
    let stoppedAt: number | undefined;
    const stop = (signal: string): void => {
      if (stoppedAt !== undefined) {
        // One Ctrl-C under `npx` or `npm start` arrives twice: the terminal signals the whole
        // process group, and npm forwards it to its child as well. Only a later one is a second.
        if (performance.now() - stoppedAt < REPEATED_SIGNAL_MS) return;
        logger.warn({ signal }, 'second signal: exiting without waiting');
        resolve(1);
        return;
      }
      stoppedAt = performance.now();
      process.off('SIGHUP', reload);
      logger.info({ signal, connections: broker.connections }, 'shutting down');
      broker.close().then(
        () => {
          logger.info({ metrics: broker.metrics.snapshot() }, 'broker stopped');
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => {
      stop('SIGTERM');
    });
    process.on('SIGINT', () => {
      stop('SIGINT');
    });
  });
  logger.info(
    {
      listeners: addresses.map((a) => a.url),
      ...(broker.adminUrl === undefined ? {} : { admin: broker.adminUrl }),
    },
    'broker listening',
  );

  return stopped;
}
