// The flags and the HTTP calls of the commands that talk to a broker's admin server (list,
// create, purge, delete, close-connection, status), and errors in words a user can act on.
import type { ParseArgsConfig, parseArgs } from 'node:util';
import { CliError, parseCommandArgs } from './cli-error.js';
import { parseMillis } from './connection-flags.js';

/** The admin server a command talks to by default (the broker's `admin.port` default). */
export const DEFAULT_ADMIN = 'http://127.0.0.1:61680';

export const ADMIN_HELP = `Admin server options (the same for list, create, purge, delete, close-connection, status):
  --admin URL         the broker's admin server   (${DEFAULT_ADMIN}) [STOMPEDE_ADMIN_URL]
  --admin-user USER   its basic-auth user (admin.user)   [STOMPEDE_ADMIN_USER]
  --admin-password P  its password; better in STOMPEDE_ADMIN_PASSWORD, kept out of ps
  --timeout MS        give up waiting for an answer after MS   (10000)
`;

/** parseArgs options of the admin flags. */
export const ADMIN_OPTIONS = {
  admin: { type: 'string' },
  'admin-user': { type: 'string' },
  'admin-password': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--help` of an admin command: usage, its own options, then the admin flags. */
export function adminHelp(head: string, ownOptions: string): string {
  return `${head}\nOptions:\n${ownOptions}${ADMIN_HELP}  -h, --help          show this help\n`;
}

interface AdminArgsConfig<O extends Options> {
  args: string[];
  strict: true;
  allowPositionals: true;
  options: typeof ADMIN_OPTIONS & O;
}
/** What {@link parseAdminArgs} returns: parseArgs' result for these options. */
export type ParsedAdminArgs<O extends Options> = ReturnType<typeof parseArgs<AdminArgsConfig<O>>>;

/** Parse an admin command's arguments; 'help' after printing `help` when it was asked for. */
export function parseAdminArgs<const O extends Options>(
  command: string,
  help: string,
  argv: readonly string[],
  options: O,
): ParsedAdminArgs<O> | 'help' {
  const config: AdminArgsConfig<O> = {
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: { ...ADMIN_OPTIONS, ...options },
  };
  const parsed = parseCommandArgs(command, config);
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(help);
    return 'help';
  }
  return parsed;
}

const NETWORK: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** A client of one admin server. */
export class AdminClient {
  readonly url: string;
  private readonly authorization: string | undefined;

  constructor(
    url: string,
    user: string | undefined,
    password: string | undefined,
    private readonly timeout: number,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(
        `--admin must be a URL such as ${DEFAULT_ADMIN}, got ${JSON.stringify(url)}`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new CliError(`--admin must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
    // Credentials in the URL (http://ops:secret@host:port) are taken out: fetch refuses them.
    const u = user ?? (parsed.username === '' ? undefined : decodeURIComponent(parsed.username));
    const p =
      password ?? (parsed.password === '' ? undefined : decodeURIComponent(parsed.password));
    parsed.username = '';
    parsed.password = '';
    this.url = parsed.href.replace(/\/$/, '');
    if (u === undefined && p !== undefined)
      throw new CliError('an admin password without --admin-user: give both');
    this.authorization =
      u === undefined ? undefined : `Basic ${Buffer.from(`${u}:${p ?? ''}`).toString('base64')}`;
  }

  /** GET `path` (`/api/overview`, …) with query parameters; the parsed JSON. */
  get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, v);
    const s = q.toString();
    return this.call<T>('GET', s === '' ? path : `${path}?${s}`);
  }

  /** POST a JSON body to an action. */
  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  /** GET a probe (`/healthz`, `/readyz`): its status code, 0 when unreachable. */
  async probe(path: string): Promise<number> {
    try {
      const r = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(this.timeout) });
      await r.text();
      return r.status;
    } catch {
      return 0;
    }
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let r: Response;
    try {
      r = await fetch(`${this.url}${path}`, {
        method,
        signal: AbortSignal.timeout(this.timeout),
        headers: {
          accept: 'application/json',
          ...(this.authorization === undefined ? {} : { authorization: this.authorization }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    const text = await r.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (r.ok) {
      if (parsed === undefined)
        throw new CliError(
          `${this.url}${path} did not answer with JSON: is it a stompede admin server?`,
          1,
        );
      return parsed as T;
    }
    throw this.refused(r.status, path, parsed, text);
  }

  private unreachable(err: unknown): CliError {
    if (err instanceof Error && err.name === 'TimeoutError')
      return new CliError(
        `the admin server at ${this.url} did not answer within ${String(this.timeout)} ms`,
        1,
      );
    for (let e: unknown = err; e instanceof Error; e = e.cause) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && NETWORK[code] !== undefined) {
        const hint =
          code === 'ECONNREFUSED'
            ? ' (is the broker running with its admin server on? `stompede broker --admin-port 61680`, or admin.port in its config file; --admin URL names another)'
            : '';
        return new CliError(
          `cannot reach the admin server at ${this.url}: ${NETWORK[code]}${hint}`,
          1,
        );
      }
    }
    return new CliError(
      `cannot reach the admin server at ${this.url}: ${err instanceof Error ? err.message : String(err)}`,
      1,
    );
  }

  private refused(status: number, path: string, parsed: unknown, text: string): CliError {
    const e = parsed as { error?: unknown; code?: unknown } | undefined;
    const message = typeof e?.error === 'string' ? e.error : text.trim();
    const code = typeof e?.code === 'string' ? ` [${e.code}]` : '';
    switch (status) {
      case 401:
        return new CliError(
          this.authorization === undefined
            ? `the admin server at ${this.url} needs credentials: --admin-user USER and STOMPEDE_ADMIN_PASSWORD (admin.user and the password hashed in admin.password)`
            : `the admin server at ${this.url} refused these credentials (--admin-user, STOMPEDE_ADMIN_PASSWORD)`,
          1,
        );
      case 403:
        return new CliError(`the admin server at ${this.url} refused the request: ${message}`, 1);
      case 404:
        return new CliError(
          message === 'not found'
            ? `${this.url}${path.split('?')[0] ?? ''} is not there: is it a stompede admin server of this version?`
            : message,
          1,
        );
      default:
        return new CliError(`${message}${code} (HTTP ${String(status)})`, 1);
    }
  }
}

/** The admin client the flags (and the environment) describe. */
export function adminClient(
  values: Partial<Record<keyof typeof ADMIN_OPTIONS, string | boolean | undefined>>,
  env: NodeJS.ProcessEnv,
): AdminClient {
  const text = (v: string | boolean | undefined): string | undefined =>
    typeof v === 'string' ? v : undefined;
  return new AdminClient(
    text(values.admin) ?? env.STOMPEDE_ADMIN_URL ?? DEFAULT_ADMIN,
    text(values['admin-user']) ?? env.STOMPEDE_ADMIN_USER,
    text(values['admin-password']) ?? env.STOMPEDE_ADMIN_PASSWORD,
    parseMillis('--timeout', text(values.timeout), 10_000),
  );
}

/** What {@link postForQueue} did: the queue named, and the admin server's answer. */
export interface QueueAction<T> {
  readonly destination: string;
  readonly answer: T;
}

/**
 * An admin command acting on the one queue its command line names (with `--vhost`): posts
 * `{vhost, destination}` to `path`. Resolves to 'help' after printing `help` when asked for.
 */
export async function postForQueue<T>(
  command: string,
  help: string,
  argv: readonly string[],
  path: string,
): Promise<QueueAction<T> | 'help'> {
  const parsed = parseAdminArgs(command, help, argv, { vhost: { type: 'string' } });
  if (parsed === 'help') return 'help';
  const [destination, ...extra] = parsed.positionals;
  if (destination === undefined || extra.length > 0)
    throw new CliError(`name one queue to ${command}\n\n${help}`);
  const answer = await adminClient(parsed.values, process.env).post<T>(path, {
    vhost: parsed.values.vhost ?? '/',
    destination,
  });
  return { destination, answer };
}
