// The flags every client subcommand (send, subscribe, bench) shares: where the broker is, who we
// are, TLS; and the parsing and --help every one of them does the same way.
import { readFileSync } from 'node:fs';
import { type parseArgs, type ParseArgsConfig } from 'node:util';
import {
  connect,
  type Client,
  type ConnectOptions,
  nodeTransport,
  type WebSocketConstructor,
} from '@stompede/client/node';
import { StompError, StompServerError } from '@stompede/core';
import { WebSocket } from 'ws';
import { CliError, parseCommandArgs } from './cli-error.js';

/** The default broker of every client command. */
export const DEFAULT_BROKER = 'tcp://127.0.0.1:61613';

export const CONNECTION_HELP = `Connection options (the same for send, subscribe and bench):
  --broker URI        tcp://, ssl://, ws://, wss:// or failover:(…) URI   (${DEFAULT_BROKER})
  --login USER        CONNECT login
  --passcode PASS     CONNECT passcode (or STOMPEDE_PASSCODE in the environment, kept out of ps)
  --vhost HOST        CONNECT host header: the virtual host   (the broker URI's host)
  --timeout MS        give up connecting, or waiting for a receipt, after MS   (10000)
  --tls-ca FILE       PEM CA bundle to verify the broker's certificate (default: the system's)
  --tls-cert FILE     PEM client certificate (mutual TLS)
  --tls-key FILE      PEM client key (mutual TLS)
  --tls-servername N  name to verify the broker's certificate against   (the URI's host)
  --insecure          do not verify the broker's certificate
`;

/** parseArgs options for the flags above. */
export const CONNECTION_OPTIONS = {
  broker: { type: 'string' },
  login: { type: 'string' },
  passcode: { type: 'string' },
  vhost: { type: 'string' },
  timeout: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-servername': { type: 'string' },
  insecure: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * `--help` of a client subcommand: its usage and description, its own options, then the shared
 * connection options.
 */
export function clientHelp(head: string, ownOptions: string): string {
  return `${head}\nOptions:\n${ownOptions}${CONNECTION_HELP}  -h, --help          show this help\n`;
}

/**
 * Parse a client subcommand's arguments: its own `options`, the connection flags and --help.
 * Returns 'help' after printing `help` when it was asked for.
 */
export function parseClientArgs<const O extends Options>(
  command: string,
  help: string,
  argv: readonly string[],
  options: O,
): ParsedClientArgs<O> | 'help' {
  const config: ClientArgsConfig<O> = {
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, ...options, ...HELP_OPTION },
  };
  const parsed = parseCommandArgs(command, config);
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(help);
    return 'help';
  }
  return parsed;
}

interface ClientArgsConfig<O extends Options> {
  args: string[];
  strict: true;
  allowPositionals: true;
  options: typeof CONNECTION_OPTIONS & O & typeof HELP_OPTION;
}
/** What {@link parseClientArgs} returns: parseArgs' result for these options. */
export type ParsedClientArgs<O extends Options> = ReturnType<typeof parseArgs<ClientArgsConfig<O>>>;

/** Where and how to connect, from the connection flags. */
export interface ConnectionSettings {
  readonly url: string;
  readonly login: string | undefined;
  readonly passcode: string | undefined;
  readonly vhost: string | undefined;
  /** Milliseconds to connect, and to wait for a receipt. */
  readonly timeout: number;
  /** TLS options with the files' contents read. */
  readonly tls: {
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly servername?: string;
    readonly rejectUnauthorized?: false;
  };
}

type ConnectionValues = Partial<
  Record<keyof typeof CONNECTION_OPTIONS, string | boolean | (string | boolean)[]>
>;

/** Parse repeated `--header name:value` flags. */
export function parseHeaders(values: readonly string[] | undefined): [string, string][] {
  return (values ?? []).map((text) => {
    const colon = text.indexOf(':');
    if (colon <= 0) throw new CliError(`--header must be name:value, got ${JSON.stringify(text)}`);
    return [text.slice(0, colon), text.slice(colon + 1)];
  });
}

/** Parse a positive millisecond flag. */
export function parseMillis(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1)
    throw new CliError(`${flag} must be a positive number of milliseconds`);
  return n;
}

function file(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The connection flags' values, checked, with the TLS files read. */
export function connectionSettings(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv,
): ConnectionSettings {
  const text = (flag: keyof typeof CONNECTION_OPTIONS): string | undefined => {
    const v = values[flag];
    if (typeof v !== 'string') return undefined;
    if (/[\n\r\0]/.test(v)) throw new CliError(`--${flag} must be a single line`);
    return v;
  };
  const ca = text('tls-ca');
  const cert = text('tls-cert');
  const key = text('tls-key');
  const servername = text('tls-servername');
  const passcode = text('passcode') ?? env.STOMPEDE_PASSCODE;
  if (passcode !== undefined && /[\n\r\0]/.test(passcode)) {
    throw new CliError('STOMPEDE_PASSCODE must be a single line');
  }
  return {
    url: text('broker') ?? DEFAULT_BROKER,
    login: text('login'),
    passcode,
    vhost: text('vhost'),
    timeout: parseMillis('--timeout', text('timeout'), 10_000),
    tls: {
      ...(ca === undefined ? {} : { ca: file('--tls-ca', ca) }),
      ...(cert === undefined ? {} : { cert: file('--tls-cert', cert) }),
      ...(key === undefined ? {} : { key: file('--tls-key', key) }),
      ...(servername === undefined ? {} : { servername }),
      ...(values.insecure === true ? { rejectUnauthorized: false as const } : {}),
    },
  };
}

/** Connect the client as the settings say, turning failures into messages a user can act on. */
export async function connectClient(settings: ConnectionSettings): Promise<Client> {
  const options: ConnectOptions = {
    url: settings.url,
    connectTimeout: settings.timeout,
    receiptTimeout: settings.timeout,
    ...(settings.login === undefined ? {} : { login: settings.login }),
    ...(settings.passcode === undefined ? {} : { passcode: settings.passcode }),
    ...(settings.vhost === undefined ? {} : { host: settings.vhost }),
    transport: nodeTransport({
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      tls: settings.tls,
    }),
  };
  try {
    return await connect(options);
  } catch (err) {
    throw describeFailure(err, settings.url);
  }
}

const UNVERIFIED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

const SOCKET_PROBLEMS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is a broker listening there?)',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connecting timed out',
};

/** A socket error among `err`'s causes, in a user's words; undefined when there is none. */
function socketProblem(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && SOCKET_PROBLEMS[code] !== undefined)
      return SOCKET_PROBLEMS[code];
  }
  return undefined;
}

/** What to do about a TLS verification failure somewhere in `err`'s causes, or ''. */
export function tlsHint(err: unknown): string {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNVERIFIED.has(code)) {
      return code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? ' (the certificate does not name this host: --tls-servername NAME names the one it does)'
        : " (the broker's certificate is not trusted here: --tls-ca FILE trusts its CA, --insecure skips the check)";
    }
  }
  return '';
}

/**
 * A CliError (exit 1) that says what went wrong in a user's terms: the broker's ERROR once (its
 * `message` header, and the body only when it adds something), with the error code.
 */
export function describeFailure(err: unknown, url: string): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof StompServerError) {
    const message = err.frame.header('message')?.trim() ?? '';
    const body = err.frame.body.length > 0 ? err.frame.text.trim() : '';
    // Brokers often repeat the message header in the body (ours as "CODE: message"): say each
    // thing once, the body's other lines after it.
    const lines = body.split('\n').map((l) => l.trim());
    const extra = lines.filter((l) => l !== '' && (message === '' || !l.includes(message)));
    const rest = extra.filter((l) => !message.includes(l));
    let text = message === '' ? extra.join('; ') : message;
    if (message !== '' && rest.length > 0) text += ` (${rest.join('; ')})`;
    if (text === '') text = 'no message';
    return new CliError(`${url}: the broker sent an ERROR: ${text} [${err.code}]`, 1);
  }
  if (err instanceof StompError) {
    const root = socketProblem(err);
    const text = root ?? (err.message.includes(url) ? err.message : `${url}: ${err.message}`);
    return new CliError(
      `${root === undefined ? '' : `${url}: `}${text} [${err.code}]${tlsHint(err)}`,
      1,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CliError(`${url}: ${message}${tlsHint(err)}`, 1);
}
