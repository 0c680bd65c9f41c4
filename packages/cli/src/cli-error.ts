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
