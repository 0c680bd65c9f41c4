// The broker's configuration file: YAML (JSON is valid YAML too). Every key is checked once at
// start, and a problem names the key and its line, so a typo never passes silently.
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { CliError } from './cli-error.js';
import {
  CLUSTER_AUTH_KEYS,
  CLUSTER_KEYS,
  CLUSTER_TLS_KEYS,
  type ClusterConfig,
} from './cluster.js';

/** The file's settings, before flags and environment variables are applied over them. */
export interface BrokerConfig {
  host?: string;
  port?: number;
  /** WebSocket listener; `false` turns it off. */
  ws?: { port?: number; path?: string; allowedOrigins?: string[] } | false;
  tls?: {
    port?: number;
    cert: string;
    key: string;
    ca?: string;
    requireClientCert?: boolean;
    minVersion?: TlsVersion;
    ciphers?: string;
    clientCertUser?: string;
  };
  logLevel?: string;
  /** Cluster mode (cluster.ts); the values are checked when the engine starts. */
  cluster?: ClusterConfig;
  /** Everything else is passed to createBroker() as it is; the broker validates the values. */
  broker: Record<string, unknown>;
}

/** Keys createBroker() takes that a file may set (listeners and logger come from the keys above). */
const BROKER_KEYS = new Set([
  'serverName',
  'versions',
  'vhosts',
  'defaultVhost',
  'heartbeat',
  'heartbeatGrace',
  'connectTimeout',
  'maxPreConnectBytes',
  'limits',
  'memoryLimit',
  'maxDeliveries',
  'defaultPrefetch',
  'maxTopicPending',
  'maxSubscriptions',
  'maxTransactions',
  'maxTransactionFrames',
  'errorLinger',
  'closeTimeout',
  'users',
  'groups',
  'permissions',
  'allowAnonymous',
  'loginThrottle',
  'maxConnections',
  'maxConnectionsPerAddress',
  'maxUnackedPerSubscription',
  'admin',
  'dataDir',
  'persistence',
]);
const TOP_KEYS = new Set(['host', 'port', 'ws', 'tls', 'logLevel', 'cluster', ...BROKER_KEYS]);
const WS_KEYS = new Set(['port', 'path', 'allowedOrigins']);
const TLS_KEYS = new Set([
  'port',
  'cert',
  'key',
  'ca',
  'requireClientCert',
  'minVersion',
  'ciphers',
  'clientCertUser',
]);
/** Protocol versions `tls.minVersion` (`--tls-min-version`) takes. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Why `value` is not a usable WebSocket origin (`*` or `scheme://host[:port]`), or undefined. */
export function originProblem(value: unknown): string | undefined {
  if (value === '*') return undefined;
  if (typeof value === 'string' && /^https?:\/\/[^/\s?#@]+\/?$/i.test(value)) return undefined;
  return 'must be "*" or an origin such as https://app.example.com:8443 (no path)';
}

/** Why `value` is not a certificate subject field name, or undefined. */
export function subjectFieldProblem(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z][A-Za-z0-9.]*$/.test(value)
    ? undefined
    : 'must name a certificate subject field, such as CN or emailAddress';
}
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Read and check a configuration file. */
export async function loadConfig(path: string): Promise<BrokerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  return parseConfig(text, path);
}

/** Parse and check configuration text; `source` names it in errors. */
export function parseConfig(text: string, source: string): BrokerConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const at = first.linePos?.[0];
    throw new CliError(
      `${source}${at ? `:${String(at.line)}` : ''}: ${first.message.split('\n')[0]!}`,
    );
  }
  const where = (path: readonly string[]): string => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const offset = node?.range?.[0];
    return offset === undefined ? source : `${source}:${String(lines.linePos(offset).line)}`;
  };
  const fail = (path: readonly string[], message: string): never => {
    throw new CliError(`${where(path)}: ${path.join('.')} ${message}`);
  };
  if (doc.contents === null) return { broker: {} };
  if (!isMap(doc.contents))
    throw new CliError(`${source}: the configuration must be a mapping of keys`);
  checkKeys(doc, [], TOP_KEYS, fail);
  const raw = doc.toJS() as Record<string, unknown>;
  checkSecurity(doc, raw, fail);
  const config: BrokerConfig = { broker: {} };
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case 'host':
        if (typeof value !== 'string' || value === '') fail([key], 'must be an address');
        config.host = value as string;
        break;
      case 'port':
        config.port = port([key], value, fail);
        break;
      case 'logLevel':
        if (typeof value !== 'string' || !LOG_LEVELS.includes(value)) {
          fail([key], `must be one of ${LOG_LEVELS.join(', ')}`);
        }
        config.logLevel = value as string;
        break;
      case 'ws':
        if (value === false) {
          config.ws = false;
          break;
        }
        if (!isMap(doc.get('ws', true)))
          fail([key], 'must be a mapping (port, path, allowedOrigins) or false');
        checkKeys(doc, ['ws'], WS_KEYS, fail);
        config.ws = {};
        {
          const ws = value as Record<string, unknown>;
          if (ws.port !== undefined) config.ws.port = port(['ws', 'port'], ws.port, fail);
          if (ws.path !== undefined) {
            if (typeof ws.path !== 'string' || !ws.path.startsWith('/'))
              fail(['ws', 'path'], "must start with '/'");
            config.ws.path = ws.path as string;
          }
          if (ws.allowedOrigins !== undefined) {
            if (!Array.isArray(ws.allowedOrigins))
              fail(['ws', 'allowedOrigins'], 'must be a list of origins (or "*")');
            (ws.allowedOrigins as unknown[]).forEach((o, i) => {
              const problem = originProblem(o);
              if (problem !== undefined) fail(['ws', 'allowedOrigins', String(i)], problem);
            });
            config.ws.allowedOrigins = ws.allowedOrigins as string[];
          }
        }
        break;
      case 'tls': {
        if (!isMap(doc.get('tls', true)))
          fail([key], `must be a mapping (${[...TLS_KEYS].join(', ')})`);
        checkKeys(doc, ['tls'], TLS_KEYS, fail);
        const tls = value as Record<string, unknown>;
        for (const file of ['cert', 'key', 'ca'] as const) {
          if (tls[file] !== undefined && typeof tls[file] !== 'string')
            fail(['tls', file], 'must be a file path');
        }
        if (tls.cert === undefined) fail(['tls'], 'needs cert (a PEM certificate file)');
        if (tls.key === undefined) fail(['tls'], 'needs key (a PEM private key file)');
        if (tls.requireClientCert !== undefined && typeof tls.requireClientCert !== 'boolean') {
          fail(['tls', 'requireClientCert'], 'must be true or false');
        }
        if (
          tls.minVersion !== undefined &&
          !(TLS_VERSIONS as readonly unknown[]).includes(tls.minVersion)
        ) {
          fail(['tls', 'minVersion'], `must be one of ${TLS_VERSIONS.join(', ')}`);
        }
        if (
          tls.ciphers !== undefined &&
          (typeof tls.ciphers !== 'string' || tls.ciphers.trim() === '')
        ) {
          fail(['tls', 'ciphers'], 'must be an OpenSSL cipher list (a string)');
        }
        if (tls.clientCertUser !== undefined) {
          const problem = subjectFieldProblem(tls.clientCertUser);
          if (problem !== undefined) fail(['tls', 'clientCertUser'], problem);
          if (tls.ca === undefined) {
            fail(['tls', 'clientCertUser'], 'needs tls.ca (the CA that signs client certificates)');
          }
        }
        config.tls = {
          cert: tls.cert as string,
          key: tls.key as string,
          ...(tls.port === undefined ? {} : { port: port(['tls', 'port'], tls.port, fail) }),
          ...(tls.ca === undefined ? {} : { ca: tls.ca as string }),
          ...(tls.requireClientCert === undefined
            ? {}
            : { requireClientCert: tls.requireClientCert as boolean }),
          ...(tls.minVersion === undefined ? {} : { minVersion: tls.minVersion as TlsVersion }),
          ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers as string }),
          ...(tls.clientCertUser === undefined
            ? {}
            : { clientCertUser: tls.clientCertUser as string }),
        };
        break;
      }
      case 'cluster':
        if (!isMap(doc.get('cluster', true))) fail([key], 'must be a mapping (servers, …)');
        checkKeys(doc, ['cluster'], CLUSTER_KEYS, fail);
        checkKeys(doc, ['cluster', 'auth'], CLUSTER_AUTH_KEYS, fail);
        checkKeys(doc, ['cluster', 'tls'], CLUSTER_TLS_KEYS, fail);
        config.cluster = value as ClusterConfig;
        break;
      default:
        config.broker[key] = value;
    }
  }
  return config;
}

function checkKeys(
  doc: Document,
  path: readonly string[],
  allowed: ReadonlySet<string>,
  fail: (path: readonly string[], message: string) => never,
): void {
  const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(node)) return;
  for (const item of node.items) {
    const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
    if (!allowed.has(key)) {
      const hint = [...allowed].find((k) => k.toLowerCase() === key.toLowerCase());
      fail(
        [...path, key],
        `is not a setting${hint ? ` (did you mean ${hint}?)` : ''}; known: ${[...allowed].join(', ')}`,
      );
    }
  }
}

function port(
  path: readonly string[],
  value: unknown,
  fail: (path: readonly string[], message: string) => never,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    fail(path, 'must be a port number 0-65535');
  }
  return value;
}

const USER_KEYS = new Set(['password', 'groups', 'vhosts']);
const ADMIN_KEYS = new Set(['host', 'port', 'user', 'password']);
const GRANT_KEYS = new Set(['user', 'group', 'vhost', 'destinations', 'rights']);

/** Security keys, checked here so that a problem names its line (the broker checks the values). */
function checkSecurity(
  doc: Document,
  raw: Record<string, unknown>,
  fail: (path: readonly string[], message: string) => never,
): void {
  const hashed = (path: readonly string[], value: unknown): void => {
    if (typeof value !== 'string' || !value.startsWith('scrypt$')) {
      fail(
        path,
        'must be a password hash made with `stompede passwd` (scrypt$...), never plain text',
      );
    }
  };
  if (raw.users !== undefined) {
    if (!isMap(doc.get('users', true))) fail(['users'], 'must be a mapping of user names');
    for (const [name, user] of Object.entries(raw.users as Record<string, unknown>)) {
      if (!isMap(doc.getIn(['users', name], true))) {
        fail(['users', name], 'must be a mapping (password, groups, vhosts)');
      }
      checkKeys(doc, ['users', name], USER_KEYS, fail);
      // No password: the user can only authenticate with a client certificate (tls.clientCertUser).
      const password = (user as Record<string, unknown>).password;
      if (password !== undefined) hashed(['users', name, 'password'], password);
    }
  }
  if (raw.admin !== undefined) {
    if (!isMap(doc.get('admin', true)))
      fail(['admin'], 'must be a mapping (host, port, user, password)');
    checkKeys(doc, ['admin'], ADMIN_KEYS, fail);
    const admin = raw.admin as Record<string, unknown>;
    if (admin.password !== undefined) hashed(['admin', 'password'], admin.password);
  }
  if (raw.permissions !== undefined) {
    const list = doc.get('permissions', true);
    if (!Array.isArray(raw.permissions)) fail(['permissions'], 'must be a list of rules');
    (raw.permissions as unknown[]).forEach((_, i) => {
      const node = (list as { items?: unknown[] }).items?.[i];
      if (!isMap(node))
        fail(
          ['permissions', String(i)],
          'must be a mapping (user or group, vhost, destinations, rights)',
        );
      for (const item of node.items) {
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        if (!GRANT_KEYS.has(key)) {
          fail(
            ['permissions', String(i), key],
            `is not a setting; known: ${[...GRANT_KEYS].join(', ')}`,
          );
        }
      }
    });
  }
  if (raw.allowAnonymous !== undefined && typeof raw.allowAnonymous !== 'boolean') {
    fail(['allowAnonymous'], 'must be true or false');
  }
}
