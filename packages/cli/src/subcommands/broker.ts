// `stompede broker`: run a broker with embedded defaults (TCP 127.0.0.1:61613 and WebSocket
// ws://127.0.0.1:15674/ws), configured by a file, environment variables and flags, in that order.
import { resolve } from 'node:path';
import {
  type BrokerOptions,
  DEFAULTS,
  type Engine,
  type ListenerOptions,
  Metrics,
  createBroker,
} from '@stompede/broker';
import { StompError } from '@stompede/core';
import { pino } from 'pino';
import { CliError, parsePort, parseCommandArgs } from '../cli-error.js';
import { type ClusterConfig, startClusterEngine } from '../cluster.js';
import {
  type BrokerConfig,
  type TlsVersion,
  loadConfig,
  LOG_LEVELS,
  originProblem,
  subjectFieldProblem,
  TLS_VERSIONS,
} from '../config.js';

export const BROKER_HELP = `Usage: stompede broker [options]

Run a STOMP 1.0/1.1/1.2 broker. With no options it listens on loopback only:
STOMP over TCP on 127.0.0.1:61613 and STOMP over WebSocket on ws://127.0.0.1:15674/ws
(RabbitMQ Web-STOMP's address). Logs are JSON lines on stdout. SIGTERM or SIGINT closes it
gracefully: listeners stop accepting, in-flight frames finish, sessions are closed. SIGHUP
re-reads the TLS certificate, key and CA files (open connections stay; bad files are logged and
the old ones kept).

Options (flags override environment variables, which override the config file):
  --config FILE       YAML (or JSON) configuration file; see docs/broker.md for every key
  --host ADDR         address every listener binds to               [STOMPEDE_HOST] (127.0.0.1)
  --port N            STOMP over TCP port; 0 picks a free one       [STOMPEDE_PORT] (61613)
  --ws-port N         STOMP over WebSocket port; 0 turns it off     [STOMPEDE_WS_PORT] (15674)
  --ws-path PATH      WebSocket URL path                            (/ws)
  --ws-allowed-origin ORIGIN
                      a browser origin (https://app.example.com) allowed to open a
                      WebSocket, or '*' for all; repeatable (default: only clients
                      without Origin and pages from the broker's own host:port)
  --tls-port N        also listen for STOMP over TLS on this port (needs --tls-cert, --tls-key)
  --tls-cert FILE     PEM certificate chain for the TLS listener
  --tls-key FILE      PEM private key for the TLS listener
  --tls-ca FILE       PEM CA bundle; with it, clients must present a certificate it signed
                      (with --tls-client-cert-user, only those who do not log in otherwise)
  --tls-client-cert-user FIELD
                      authenticate clients by certificate: this subject field (CN, …)
                      names the user (needs --tls-ca)
  --tls-min-version V TLSv1.2 (default), TLSv1.3, TLSv1.1 or TLSv1
  --tls-ciphers LIST  OpenSSL cipher list (TLS_… names are the TLS 1.3 suites)
  --data-dir DIR      where persistent messages are journaled          [STOMPEDE_DATA_DIR] (./data)
  --in-memory         keep every message in memory only (nothing survives a restart)
  --persist-all       journal every message, as if each SEND had persistent:true
  --verify-journal    at start, read and checksum every journal record even after a clean stop
  --log-level LEVEL   ${LOG_LEVELS.join(', ')}   [STOMPEDE_LOG_LEVEL] (info)
  --allow-anonymous   accept clients that do not log in, even on a non-loopback --host
                      (without it, a non-loopback --host needs users in the config file)
  --admin-port N      HTTP admin server (metrics, health, dashboard) on 127.0.0.1:N
                                                                    [STOMPEDE_ADMIN_PORT] (off)
  --cluster URLS      cluster mode: this node keeps no messages of its own; queues, durable
                      subscriptions and topics go through the NATS JetStream servers listed,
                      e.g. nats://10.0.0.1:4222,nats://10.0.0.2:4222 (needs @stompede/cluster;
                      the config file's cluster: block sets the rest; docs/cluster.md)
                                                                    [STOMPEDE_CLUSTER] (off)
  --print-config      print the effective configuration as JSON and exit
  -h, --help          show this help
`;

interface Effective {
  host: string;
  port: number;
  ws: { port: number; path: string; allowedOrigins?: string[] } | false;
  tls:
    | {
        port: number;
        cert: string;
        key: string;
        ca?: string;
        requireClientCert: boolean;
        minVersion?: TlsVersion;
        ciphers?: string;
        clientCertUser?: string;
      }
    | undefined;
  logLevel: string;
  cluster: ClusterConfig | undefined;
  broker: Record<string, unknown>;
}

/** Merge defaults, the config file, the environment and the flags into one configuration. */
export async function effectiveConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<Effective | 'help'> {
  const parsed = parseCommandArgs('broker', {
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'ws-port': { type: 'string' },
      'ws-path': { type: 'string' },
      'tls-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'tls-client-cert-user': { type: 'string' },
      'tls-min-version': { type: 'string' },
      'tls-ciphers': { type: 'string' },
      'ws-allowed-origin': { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      'allow-anonymous': { type: 'boolean' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean' },
      'persist-all': { type: 'boolean' },
      'verify-journal': { type: 'boolean' },
      'admin-port': { type: 'string' },
      cluster: { type: 'string' },
      'print-config': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const flags = parsed.values;
  if (flags.help === true) return 'help';
  const file: BrokerConfig =
    flags.config === undefined ? { broker: {} } : await loadConfig(flags.config);

  const host = flags.host ?? env.STOMPEDE_HOST ?? file.host ?? '127.0.0.1';
  const portText = flags.port ?? env.STOMPEDE_PORT;
  const port = portText === undefined ? (file.port ?? 61613) : parsePort('--port', portText);
  const wsPortText = flags['ws-port'] ?? env.STOMPEDE_WS_PORT;
  const fileWs = file.ws === false ? undefined : file.ws;
  let ws: Effective['ws'];
  if (wsPortText !== undefined) {
    const wsPort = parsePort('--ws-port', wsPortText);
    ws = wsPort === 0 ? false : { port: wsPort, path: fileWs?.path ?? '/ws' };
  } else if (file.ws === false) {
    ws = false;
  } else {
    ws = { port: fileWs?.port ?? 15674, path: fileWs?.path ?? '/ws' };
  }
  if (ws !== false && flags['ws-path'] !== undefined) {
    if (!flags['ws-path'].startsWith('/')) throw new CliError("--ws-path must start with '/'");
    ws.path = flags['ws-path'];
  }
  const origins = flags['ws-allowed-origin'] ?? fileWs?.allowedOrigins;
  if (origins !== undefined) {
    for (const o of origins) {
      const problem = originProblem(o);
      if (problem !== undefined) throw new CliError(`--ws-allowed-origin ${problem}`);
    }
    if (ws !== false) ws.allowedOrigins = [...origins];
  }

  let tls =
    file.tls === undefined ? undefined : { port: 61614, requireClientCert: false, ...file.tls };
  const tlsFlags = [
    flags['tls-port'],
    flags['tls-cert'],
    flags['tls-key'],
    flags['tls-ca'],
    flags['tls-client-cert-user'],
    flags['tls-min-version'],
    flags['tls-ciphers'],
  ];
  if (tlsFlags.some((f) => f !== undefined)) {
    const cert = flags['tls-cert'] ?? tls?.cert;
    const key = flags['tls-key'] ?? tls?.key;
    if (cert === undefined || key === undefined) {
      throw new CliError(
        'a TLS listener needs --tls-cert and --tls-key (or tls.cert and tls.key in the config file)',
      );
    }
    const ca = flags['tls-ca'] ?? tls?.ca;
    const minVersion = flags['tls-min-version'] ?? tls?.minVersion;
    if (minVersion !== undefined && !(TLS_VERSIONS as readonly string[]).includes(minVersion)) {
      throw new CliError(`--tls-min-version must be one of ${TLS_VERSIONS.join(', ')}`);
    }
    const ciphers = flags['tls-ciphers'] ?? tls?.ciphers;
    if (ciphers?.trim() === '') throw new CliError('--tls-ciphers must be a cipher list');
    const certUser = flags['tls-client-cert-user'] ?? tls?.clientCertUser;
    if (certUser !== undefined) {
      const problem = subjectFieldProblem(certUser);
      if (problem !== undefined) throw new CliError(`--tls-client-cert-user ${problem}`);
      if (ca === undefined) throw new CliError('--tls-client-cert-user needs --tls-ca');
    }
    tls = {
      ...tls,
      port:
        flags['tls-port'] === undefined
          ? (tls?.port ?? 61614)
          : parsePort('--tls-port', flags['tls-port']),
      cert,
      key,
      ...(ca === undefined ? {} : { ca }),
      requireClientCert:
        (flags['tls-ca'] !== undefined && flags['tls-client-cert-user'] === undefined) ||
        (tls?.requireClientCert ?? false),
      ...(minVersion === undefined ? {} : { minVersion: minVersion as TlsVersion }),
      ...(ciphers === undefined ? {} : { ciphers }),
      ...(certUser === undefined ? {} : { clientCertUser: certUser }),
    };
  }

  const logLevel = flags['log-level'] ?? env.STOMPEDE_LOG_LEVEL ?? file.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const broker: Record<string, unknown> = { ...file.broker };
  if (flags['allow-anonymous'] === true) broker.allowAnonymous = true;
  // Cluster mode: --cluster (or STOMPEDE_CLUSTER) names the servers, over the file's block.
  const clusterServers = flags.cluster ?? env.STOMPEDE_CLUSTER;
  let cluster: ClusterConfig | undefined = file.cluster;
  if (clusterServers !== undefined) {
    if (clusterServers.trim() === '') throw new CliError('--cluster must list NATS server URLs');
    cluster = { ...cluster, servers: clusterServers };
  }
  // Durable messages live in the data directory (./data unless told otherwise); --in-memory
  // keeps everything in memory, as an embedded broker does by default. A cluster node keeps
  // none: its messages live in JetStream.
  if (cluster !== undefined) {
    if (flags['data-dir'] !== undefined || broker.dataDir !== undefined) {
      throw new CliError(
        '--data-dir (dataDir) has no effect in cluster mode: messages live in NATS JetStream',
      );
    }
  } else if (flags['in-memory'] === true) {
    if (flags['data-dir'] !== undefined)
      throw new CliError('--in-memory and --data-dir contradict each other');
    delete broker.dataDir;
  } else {
    const dataDir =
      flags['data-dir'] ??
      env.STOMPEDE_DATA_DIR ??
      (broker.dataDir as string | undefined) ??
      './data';
    if (dataDir === '') throw new CliError('--data-dir must name a directory');
    broker.dataDir = resolve(dataDir);
  }
  if (flags['persist-all'] === true) {
    broker.persistence = {
      ...(broker.persistence as Record<string, unknown> | undefined),
      persistAll: true,
    };
  }
  if (flags['verify-journal'] === true) {
    broker.persistence = {
      ...(broker.persistence as Record<string, unknown> | undefined),
      verifyOnStart: true,
    };
  }
  const adminPort = flags['admin-port'] ?? env.STOMPEDE_ADMIN_PORT;
  if (adminPort !== undefined) {
    broker.admin = {
      ...(broker.admin as Record<string, unknown> | undefined),
      port: parsePort('--admin-port', adminPort),
    };
  }
  const effective: Effective = { host, port, ws, tls, logLevel, cluster, broker };
  if (flags['print-config'] === true) {
    process.stdout.write(JSON.stringify(effective, null, 2) + '\n');
    return 'help';
  }
  return effective;
}

function listenersOf(config: Effective): ListenerOptions[] {
  const listeners: ListenerOptions[] = [{ protocol: 'tcp', host: config.host, port: config.port }];
  if (config.ws !== false) {
    listeners.push({
      protocol: 'ws',
      host: config.host,
      port: config.ws.port,
      path: config.ws.path,
      ...(config.ws.allowedOrigins === undefined
        ? {}
        : { allowedOrigins: config.ws.allowedOrigins }),
    });
  }
  if (config.tls !== undefined) {
    listeners.push({
      protocol: 'tls',
      host: config.host,
      port: config.tls.port,
      certFile: config.tls.cert,
      keyFile: config.tls.key,
      ...(config.tls.ca === undefined ? {} : { caFile: config.tls.ca }),
      requireClientCert: config.tls.requireClientCert,
      ...(config.tls.minVersion === undefined ? {} : { minVersion: config.tls.minVersion }),
      ...(config.tls.ciphers === undefined ? {} : { ciphers: config.tls.ciphers }),
      ...(config.tls.clientCertUser === undefined
        ? {}
        : { clientCertUser: config.tls.clientCertUser }),
    });
  }
  return listeners;
}

/** Run the broker until SIGTERM or SIGINT. Resolves with the process exit code. */
export async function runBroker(argv: readonly string[]): Promise<number> {
  const config = await effectiveConfig(argv, process.env);
  if (config === 'help') {
    if (argv.includes('--help') || argv.includes('-h')) process.stdout.write(BROKER_HELP);
    return 0;
  }
  const logger = pino({ level: config.logLevel, base: { pid: process.pid } });
  const options = config.broker as BrokerOptions;
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
        persistAll: options.persistence?.persistAll === true,
      },
      metrics,
      logger,
    );
    clustered = { engine, metrics };
  }
  let broker;
  try {
    broker = createBroker({
      ...options,
      ...clustered,
      listeners: listenersOf(config),
      logger,
    });
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
    throw new CliError(`cannot listen: ${(err as Error).message}`, 1);
  }
  logger.info(
    {
      listeners: addresses.map((a) => a.url),
      ...(broker.adminUrl === undefined ? {} : { admin: broker.adminUrl }),
    },
    'broker listening',
  );

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

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        resolve(1);
        return;
      }
      stopping = true;
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
}
