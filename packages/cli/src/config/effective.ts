// The broker's effective configuration: built-in defaults, then the config file, then environment
// variables, then flags. The result has the file's shape, so `--print-config` prints a file that
// `--config` loads back unchanged; and it is checked by the same schema as the file, with problems
// named by the flag or variable that set the value.
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { BrokerOptions, ListenerOptions } from '@stompede/broker';
import { stringify } from 'yaml';
import { CliError, parsePort, parseSize } from '../cli-error.js';
import { type Problem, problemsOf, renderPath } from './problems.js';
import { type ConfigFile, configSchema, LOG_FORMATS, LOG_LEVELS, TLS_VERSIONS } from './schema.js';

/** The configuration after merging: the listeners, logging and data directory always set. */
export type Effective = ConfigFile &
  Required<Pick<ConfigFile, 'host' | 'port' | 'ws' | 'logLevel' | 'logFormat' | 'dataDir'>>;

/** A mutable configuration under construction. */
type Draft = Record<string, unknown>;

/** A flag (and maybe an environment variable) that sets a key of the configuration. */
interface Setting {
  readonly flag: string;
  /** The argument in --help (`N`, `FILE`); none for a switch. */
  readonly arg?: string;
  readonly env?: string;
  readonly multiple?: true;
  /** --help's text, one or more lines. */
  readonly help: string;
  /** The default shown in --help. */
  readonly shown?: string;
  /** The key it sets, for messages and the override report. */
  readonly key: readonly string[];
  /** Put the value (already a string, string list or true) into the draft. */
  readonly apply: (draft: Draft, value: string | string[] | true, name: string) => void;
}

const DEFAULT_WS = { port: 15674, path: '/ws' } as const;
const DEFAULT_TLS_PORT = 61614;

function section(draft: Draft, key: string): Draft {
  const current = draft[key];
  if (typeof current === 'object' && current !== null) return current as Draft;
  const fresh: Draft = {};
  draft[key] = fresh;
  return fresh;
}

/** The WebSocket listener's settings, refusing a ws flag when the listener is off. */
function wsSection(draft: Draft, name: string): Draft {
  if (draft.ws === false) {
    throw new CliError(`${name}: the WebSocket listener is off (ws: false, or --ws-port off)`);
  }
  return section(draft, 'ws');
}

const tlsKey =
  (key: string) =>
  (draft: Draft, value: string | string[] | true): void => {
    section(draft, 'tls')[key] = value;
  };
const tlsFile =
  (key: string) =>
  (draft: Draft, value: string | string[] | true): void => {
    section(draft, 'tls')[key] = resolve(value as string);
  };

/** Every flag that sets a key, in --help's order. */
export const SETTINGS: readonly Setting[] = [
  {
    flag: 'host',
    arg: 'ADDR',
    env: 'STOMPEDE_HOST',
    shown: '127.0.0.1',
    help: 'address every listener binds to',
    key: ['host'],
    apply: (d, v) => (d.host = v),
  },
  {
    flag: 'port',
    arg: 'N',
    env: 'STOMPEDE_PORT',
    shown: '61613',
    help: 'STOMP over TCP port; 0 picks a free one (logged)',
    key: ['port'],
    apply: (d, v, name) => (d.port = parsePort(name, v as string)),
  },
  {
    flag: 'ws-port',
    arg: 'N|off',
    env: 'STOMPEDE_WS_PORT',
    shown: '15674',
    help: "STOMP over WebSocket port; 0 picks a free one, 'off' turns it off",
    key: ['ws', 'port'],
    apply: (d, v, name) => {
      if (v === 'off') d.ws = false;
      else {
        if (d.ws === false) d.ws = {};
        section(d, 'ws').port = parsePort(name, v as string);
      }
    },
  },
  {
    flag: 'ws-path',
    arg: 'PATH',
    shown: '/ws',
    help: 'WebSocket URL path',
    key: ['ws', 'path'],
    apply: (d, v, name) => (wsSection(d, name).path = v),
  },
  {
    flag: 'ws-allowed-origin',
    arg: 'ORIGIN',
    multiple: true,
    help:
      'a browser origin (https://app.example.com) allowed to open a WebSocket,\n' +
      "or '*' for all; repeatable; replaces the config file's ws.allowedOrigins\n" +
      "(default: clients without Origin, pages from the broker's own host:port,\n" +
      'and on a loopback listener pages from any loopback origin)',
    key: ['ws', 'allowedOrigins'],
    apply: (d, v, name) => (wsSection(d, name).allowedOrigins = v),
  },
  {
    flag: 'tls-port',
    arg: 'N',
    shown: String(DEFAULT_TLS_PORT),
    help: 'also listen for STOMP over TLS on this port\n(needs --tls-cert and --tls-key)',
    key: ['tls', 'port'],
    apply: (d, v, name) => (section(d, 'tls').port = parsePort(name, v as string)),
  },
  {
    flag: 'tls-cert',
    arg: 'FILE',
    help: 'PEM certificate chain for the TLS listener',
    key: ['tls', 'cert'],
    apply: tlsFile('cert'),
  },
  {
    flag: 'tls-key',
    arg: 'FILE',
    help: 'PEM private key for the TLS listener',
    key: ['tls', 'key'],
    apply: tlsFile('key'),
  },
  {
    flag: 'tls-ca',
    arg: 'FILE',
    help:
      'PEM CA bundle; with it, clients must present a certificate it signed\n' +
      '(with --tls-client-cert-user, only those who do not log in otherwise)',
    key: ['tls', 'ca'],
    apply: tlsFile('ca'),
  },
  {
    flag: 'tls-client-cert-user',
    arg: 'FIELD',
    help: 'authenticate clients by certificate: this subject field (CN, …)\nnames the user (needs --tls-ca)',
    key: ['tls', 'clientCertUser'],
    apply: tlsKey('clientCertUser'),
  },
  {
    flag: 'tls-min-version',
    arg: 'V',
    shown: 'TLSv1.2',
    help: `lowest TLS version accepted: ${TLS_VERSIONS.join(', ')}`,
    key: ['tls', 'minVersion'],
    apply: tlsKey('minVersion'),
  },
  {
    flag: 'tls-ciphers',
    arg: 'LIST',
    help: 'OpenSSL cipher list (TLS_… names are the TLS 1.3 suites)',
    key: ['tls', 'ciphers'],
    apply: tlsKey('ciphers'),
  },
  {
    flag: 'data-dir',
    arg: 'DIR',
    env: 'STOMPEDE_DATA_DIR',
    shown: './data',
    help: 'where persistent messages are journaled',
    key: ['dataDir'],
    apply: (d, v, name) => {
      if (v === '') throw new CliError(`${name} must name a directory`);
      d.dataDir = resolve(v as string);
    },
  },
  {
    flag: 'in-memory',
    help: 'keep every message in memory only (nothing survives a restart)',
    key: ['dataDir'],
    apply: (d) => (d.dataDir = false),
  },
  {
    flag: 'persist-all',
    help: 'journal every message, as if each SEND had persistent:true',
    key: ['persistence', 'persistAll'],
    apply: (d) => (section(d, 'persistence').persistAll = true),
  },
  {
    flag: 'verify-journal',
    help: 'at start, read and checksum every journal record even after a clean stop',
    key: ['persistence', 'verifyOnStart'],
    apply: (d) => (section(d, 'persistence').verifyOnStart = true),
  },
  {
    flag: 'disk-free-limit',
    arg: 'SIZE',
    env: 'STOMPEDE_DISK_FREE_LIMIT',
    shown: '50MiB',
    help:
      "refuse persistent SENDs (ERR_STOMP_DISK_FULL) while the data directory's\n" +
      'disk has less free space (50MiB, 1GB, ...); ACKs go on. 0: only once full',
    key: ['persistence', 'diskFreeLimit'],
    apply: (d, v, name) => {
      const bytes = parseSize(v);
      if (bytes === undefined) {
        throw new CliError(
          `${name} must be a size such as 50MiB, 1GB or 52428800, got ${JSON.stringify(v)}`,
        );
      }
      section(d, 'persistence').diskFreeLimit = bytes;
    },
  },
  {
    flag: 'log-level',
    arg: 'LEVEL',
    env: 'STOMPEDE_LOG_LEVEL',
    shown: 'info',
    help: LOG_LEVELS.join(', '),
    key: ['logLevel'],
    apply: (d, v) => (d.logLevel = v),
  },
  {
    flag: 'log-format',
    arg: 'FORMAT',
    env: 'STOMPEDE_LOG_FORMAT',
    shown: 'auto',
    help: `${LOG_FORMATS.join(', ')}: auto writes readable lines to a terminal,\nJSON lines otherwise`,
    key: ['logFormat'],
    apply: (d, v) => (d.logFormat = v),
  },
  {
    flag: 'allow-anonymous',
    help:
      'accept clients that do not log in, even on a non-loopback --host\n' +
      '(without it, a non-loopback --host needs users in the config file)',
    key: ['allowAnonymous'],
    apply: (d) => (d.allowAnonymous = true),
  },
  {
    flag: 'cluster',
    arg: 'URLS',
    env: 'STOMPEDE_CLUSTER',
    shown: 'off',
    help:
      'cluster mode: NATS JetStream servers, comma-separated\n' +
      '(nats://10.0.0.1:4222,nats://10.0.0.2:4222); the node then keeps no\n' +
      'messages of its own and any node serves any client (docs/cluster.md;\n' +
      'needs the @stompede/cluster package)',
    key: ['cluster', 'servers'],
    apply: (d, v) => {
      section(d, 'cluster').servers = (v as string)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    },
  },
  {
    flag: 'admin-port',
    arg: 'N',
    env: 'STOMPEDE_ADMIN_PORT',
    shown: 'off',
    help: 'HTTP admin server (metrics, health, dashboard) on 127.0.0.1:N;\n0 picks a free one',
    key: ['admin', 'port'],
    apply: (d, v, name) => (section(d, 'admin').port = parsePort(name, v as string)),
  },
];

/** parseArgs options of `stompede broker`: the settings above, --config, --print-config, --help. */
export function brokerArgOptions(): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {
    config: { type: 'string' },
    'print-config': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const s of SETTINGS) {
    options[s.flag] =
      s.arg === undefined
        ? { type: 'boolean' }
        : { type: 'string', ...(s.multiple ? { multiple: true } : {}) };
  }
  return options;
}

/** The settings' part of --help: `--flag ARG   text   [ENV] (default)`. */
export function settingsHelp(): string {
  const lines: string[] = [];
  for (const s of SETTINGS) {
    const head = `  --${s.flag}${s.arg === undefined ? '' : ` ${s.arg}`}`;
    const tail = `${s.env === undefined ? '' : `   [${s.env}]`}${s.shown === undefined ? '' : ` (${s.shown})`}`;
    const text = s.help.split('\n');
    const first =
      head.length < 22 ? `${head.padEnd(22)}${text[0]!}` : `${head}\n${' '.repeat(22)}${text[0]!}`;
    lines.push(first, ...text.slice(1).map((t) => `${' '.repeat(22)}${t}`));
    const last = lines[lines.length - 1]!;
    if (tail === '') continue;
    if (last.length + tail.length <= 100) lines[lines.length - 1] = last + tail;
    else lines.push(`${' '.repeat(22)}${tail.trimStart()}`);
  }
  return lines.join('\n') + '\n';
}

/** A key the flags or environment changed from the config file's value. */
export interface Override {
  readonly key: string;
  readonly by: string;
  readonly file: unknown;
}

function valueAt(config: unknown, key: readonly string[]): unknown {
  let v = config;
  for (const k of key) v = typeof v === 'object' && v !== null ? (v as Draft)[k] : undefined;
  return v;
}

/**
 * Merge the file, the environment and the flags over the defaults, and check the result. `flags`
 * are parseArgs values; `file` a checked configuration file (or `{}`).
 */
export function mergeConfig(
  file: ConfigFile,
  flags: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>,
  env: NodeJS.ProcessEnv,
): { config: Effective; overrides: Override[] } {
  if (flags['in-memory'] === true && flags['data-dir'] !== undefined) {
    throw new CliError('--in-memory and --data-dir contradict each other');
  }
  const draft = structuredClone(file) as Draft;
  const setBy = new Map<string, string>();
  const overrides: Override[] = [];
  for (const s of SETTINGS) {
    const flag = flags[s.flag];
    const fromEnv = s.env === undefined ? undefined : env[s.env];
    const value = flag === false ? undefined : (flag ?? fromEnv);
    if (value === undefined) continue;
    const name = flag === undefined ? s.env! : `--${s.flag}`;
    const before = valueAt(file, s.key);
    s.apply(draft, value as string | string[] | true, name);
    setBy.set(renderPath(s.key), name);
    if (before !== undefined && JSON.stringify(before) !== JSON.stringify(valueAt(draft, s.key))) {
      overrides.push({ key: renderPath(s.key), by: name, file: before });
    }
  }
  // --tls-ca alone asks every client for a certificate; with --tls-client-cert-user, a
  // certificate is one way of logging in among others.
  if (flags['tls-ca'] !== undefined && flags['tls-client-cert-user'] === undefined) {
    section(draft, 'tls').requireClientCert = true;
  }
  draft.host ??= '127.0.0.1';
  draft.port ??= 61613;
  if (draft.ws !== false) draft.ws = { ...DEFAULT_WS, ...(draft.ws as Draft | undefined) };
  if (draft.tls !== undefined) {
    const tls = draft.tls as Draft;
    if (tls.cert === undefined || tls.key === undefined) {
      throw new CliError(
        'a TLS listener needs --tls-cert and --tls-key (or tls.cert and tls.key in the config file)',
      );
    }
    draft.tls = { port: DEFAULT_TLS_PORT, requireClientCert: false, ...tls };
  }
  if (draft.cluster !== undefined) {
    // A cluster node journals nothing: its messages live in JetStream.
    if (draft.dataDir !== undefined && draft.dataDir !== false) {
      throw new CliError(
        `${setBy.get('dataDir') ?? 'dataDir'} has no effect in cluster mode (messages live in ` +
          'NATS JetStream): remove it',
      );
    }
    draft.dataDir = false;
  }
  draft.dataDir ??= resolve('./data');
  draft.logLevel ??= 'info';
  draft.logFormat ??= 'auto';

  const checked = configSchema.safeParse(draft);
  if (!checked.success) {
    const problems = problemsOf(checked.error.issues, configSchema, () => true);
    const named = (p: Problem): string => {
      const path = renderPath(p.path);
      const by = [...setBy].find(
        ([key]) => path === key || path.startsWith(`${key}[`) || path.startsWith(`${key}.`),
      );
      return `${by?.[1] ?? path} ${p.message}`;
    };
    throw new CliError(problems.map(named).join('\n'));
  }
  return { config: checked.data as Effective, overrides };
}

/** The configuration as a file `--config` loads back (YAML). */
export function printConfig(config: Effective): string {
  return `# stompede broker: effective configuration (--print-config)\n${stringify(config)}`;
}

/** createBroker()'s options for this configuration (listeners and logger aside). */
export function listenersOf(config: Effective): ListenerOptions[] {
  const listeners: ListenerOptions[] = [{ protocol: 'tcp', host: config.host, port: config.port }];
  if (config.ws !== false) {
    listeners.push({
      protocol: 'ws',
      host: config.host,
      port: config.ws.port ?? DEFAULT_WS.port,
      path: config.ws.path ?? DEFAULT_WS.path,
      ...(config.ws.allowedOrigins === undefined
        ? {}
        : { allowedOrigins: config.ws.allowedOrigins }),
    });
  }
  const tls = config.tls;
  if (tls !== undefined) {
    listeners.push({
      protocol: 'tls',
      host: config.host,
      port: tls.port ?? DEFAULT_TLS_PORT,
      certFile: tls.cert,
      keyFile: tls.key,
      ...(tls.ca === undefined ? {} : { caFile: tls.ca }),
      requireClientCert: tls.requireClientCert ?? false,
      ...(tls.minVersion === undefined ? {} : { minVersion: tls.minVersion }),
      ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
      ...(tls.clientCertUser === undefined ? {} : { clientCertUser: tls.clientCertUser }),
    });
  }
  return listeners;
}

/** The options of createBroker() the configuration sets, with its listeners. */
export function brokerOptionsOf(config: Effective): BrokerOptions {
  const {
    host: _h,
    port: _p,
    ws: _w,
    tls: _t,
    logLevel: _l,
    logFormat: _f,
    dataDir,
    ...rest
  } = config;
  return {
    ...rest,
    ...(dataDir === false ? {} : { dataDir }),
    listeners: listenersOf(config),
  };
}
