import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A problem with how the command was invoked or configured: printed without a stack trace. */
export class CliError extends Error {
  /** Process exit code: 2 for usage and configuration errors, 1 for runtime failures. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Parse a TCP port flag: an integer 0–65535 (0 lets the system pick one). */
export function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new CliError(`${flag} must be a port number 0-65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/**
 * A byte size: an integer, or a number with a unit (`50MiB`, `50MB`, `2G`, `512k`; k, M and G
 * alone are binary, as RabbitMQ's disk_free_limit reads them). Undefined when `value` is none.
 */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = SIZE_UNITS[m?.[2]?.toLowerCase() ?? 'x'];
  if (m === null || unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * `parseArgs` for subcommand `command`: a bad flag becomes a usage error (exit 2) that points at
 * the subcommand's --help.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new CliError(
      `${(err as Error).message}\nRun 'stompede ${command} --help' for the options.`,
    );
  }
}
