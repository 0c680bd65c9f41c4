// The broker's logger: pino JSON lines for log collectors, or pino-pretty's readable lines for a
// person at a terminal. `auto` (the default) picks by whether stdout is a terminal, as most
// servers do; `--log-format json|pretty` forces either (a pipe to `less` may still want pretty).
import { type Logger, pino } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogFormat } from './config/schema.js';

/** Where log lines go: stdout, or a test's stand-in. */
export interface LogOutput {
  readonly isTTY?: boolean;
  /** The file descriptor pino-pretty writes to (1 for stdout). */
  readonly fd: number;
}

/** Whether `format` means readable lines on `out`. */
export function isPretty(format: LogFormat, out: LogOutput): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}

/** The broker's logger at `level`, in `format`, writing to `out` (stdout by default). */
export function createLogger(
  level: string,
  format: LogFormat,
  out: LogOutput = { isTTY: process.stdout.isTTY, fd: 1 },
): Logger {
  const options = { level, base: { pid: process.pid } };
  if (!isPretty(format, out)) return pino(options, pino.destination({ fd: out.fd, sync: true }));
  return pino(
    options,
    PinoPretty({
      destination: out.fd,
      // Colours only for a terminal: a forced `pretty` into a file stays plain text.
      colorize: out.isTTY === true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: false,
      // Lines are written before the process exits (a shutdown's last lines included).
      sync: true,
    }),
  );
}
