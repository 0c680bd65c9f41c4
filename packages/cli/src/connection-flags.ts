// Flags every client subcommand (send, subscribe) shares: where the broker is, who we are, TLS.
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import {
  connect,
  type Client,
  type ConnectOptions,
  nodeTransport,
  type WebSocketConstructor,
} from '@stompede/client/node';
import { StompError, StompServerError } from '@stompede/core';
import { WebSocket } from 'ws';
import { CliError } from './cli-error.js';

export const CONNECTION_HELP = `Connection options:
  --broker URI        tcp://, ssl://, ws://, wss:// or failover:(…) URI   (tcp://127.0.0.1:61613)
  --login USER        login header
  --passcode PASS     passcode header (or STOMPEDE_PASSCODE in the environment)
  --vhost HOST        CONNECT host header (virtual host)
  --header K:V        add a header to every frame sent; repeatable
  --timeout MS        give up connecting or waiting for a receipt after MS   (10000)
  --tls-ca FILE       PEM CA bundle to verify the broker's certificate
  --tls-cert FILE     PEM client certificate (mutual TLS)
  --tls-key FILE      PEM client key (mutual TLS)
  --tls-servername N  name to verify the broker's certificate against
  --insecure          do not verify the broker's certificate
`;

/** parseArgs options for the flags above. */
export const CONNECTION_OPTIONS = {
  broker: { type: 'string' },
  login: { type: 'string' },
  passcode: { type: 'string' },
  vhost: { type: 'string' },
  header: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-servername': { type: 'string' },
  insecure: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

type Values = Partial<Record<keyof typeof CONNECTION_OPTIONS, string | string[] | boolean>>;

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

/** Connect as the flags say, turning failures into messages a user can act on (exit 1). */
export async function connectFromFlags(values: Values, env: NodeJS.ProcessEnv): Promise<Client> {
  const url = (values.broker as string | undefined) ?? 'tcp://127.0.0.1:61613';
  const timeout = parseMillis('--timeout', values.timeout as string | undefined, 10_000);
  const login = values.login as string | undefined;
  const passcode = (values.passcode as string | undefined) ?? env.STOMPEDE_PASSCODE;
  const vhost = values.vhost as string | undefined;
  const ca = values['tls-ca'] as string | undefined;
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  const servername = values['tls-servername'] as string | undefined;
  const options: ConnectOptions = {
    url,
    connectTimeout: timeout,
    receiptTimeout: timeout,
    ...(login === undefined ? {} : { login }),
    ...(passcode === undefined ? {} : { passcode }),
    ...(vhost === undefined ? {} : { host: vhost }),
    transport: nodeTransport({
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      tls: {
        ...(ca === undefined ? {} : { ca: file('--tls-ca', ca) }),
        ...(cert === undefined ? {} : { cert: file('--tls-cert', cert) }),
        ...(key === undefined ? {} : { key: file('--tls-key', key) }),
        ...(servername === undefined ? {} : { servername }),
        ...(values.insecure === true ? { rejectUnauthorized: false } : {}),
      },
    }),
  };
  try {
    return await connect(options);
  } catch (err) {
    throw describeFailure(err, url);
  }
}

/** A CliError (exit 1) that says what went wrong in a user's terms. */
export function describeFailure(err: unknown, url: string): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof StompServerError) {
    const detail = err.frame.body.length > 0 ? `: ${err.frame.text.trim()}` : '';
    return new CliError(`the broker sent an ERROR: ${err.message}${detail}`, 1);
  }
  if (err instanceof StompError) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return new CliError(`${url}: ${err.message}${cause} [${err.code}]`, 1);
  }
  return new CliError(`${url}: ${err instanceof Error ? err.message : String(err)}`, 1);
}
