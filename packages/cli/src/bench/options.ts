// `stompede bench` options: parsed and validated into a BenchOptions, with PerfTest-like short
// flags where PerfTest has one (-x producers, -y consumers, -s size, -r rate, -z seconds, -C count).
import { type AckMode, type StompVersion, isAckMode, isStompVersion } from '@stompede/core';
import { CliError } from '../cli-error.js';
import {
  clientHelp,
  type ConnectionSettings,
  connectionSettings,
  parseClientArgs,
} from '../connection-flags.js';

export const BENCH_HELP = clientHelp(
  `Usage: stompede bench [options]

A STOMP load generator (in the manner of RabbitMQ's PerfTest) written on raw frames, so its own
overhead is small and the same against every broker. Producers send numbered, time-stamped
messages; consumers check that each arrives exactly once and intact. Progress once a second on
stderr, a summary at the end (--json: as JSON on stdout). Exit code 1 when a message was lost,
duplicated or corrupted, or the broker sent an ERROR. It measures one broker: --broker takes
tcp://, ssl://, ws:// or wss:// (not failover:).

Examples:
  stompede bench -x 1 -y 1 -s 100 -z 10
  stompede bench --broker tcp://127.0.0.1:61633 --login guest --passcode guest --vhost / -a client-individual
  stompede bench --broker ws://127.0.0.1:15674/ws -k topic -y 10 -r 5000
`,
  `  -x, --producers N        producer connections                               (1)
  -y, --consumers N        consumer connections, one subscription each        (1)
  -s, --size BYTES         message body size                                  (100)
  -r, --rate N             messages per second per producer; 0 = unbounded    (0)
  -z, --duration SECONDS   send for this long                                 (10, unless --count)
  -C, --count N            send this many messages per producer, then stop
  -a, --ack MODE           auto, client or client-individual                  (auto)
      --consume-rate N     each consumer reads at most N messages per second, by pausing its
                           socket (the broker's flow control is what holds the rest); 0 = as
                           fast as they come                                  (0)
      --ack-every N        with --ack client: ACK every Nth message (cumulative)  (1)
  -q, --prefetch N         unacknowledged messages per consumer (sent as prefetch-count and
                           activemq.prefetchSize); 0 = no header              (1000)
      --persistent         send with persistent:true
  -k, --kind KIND          queue or topic                                     (queue)
  -d, --destination DEST   full destination    (/queue/stompede.bench or /topic/stompede.bench)
      --stomp-version V    1.0, 1.1 or 1.2                                     (1.2)
      --warmup SECONDS     send this long first without recording latencies (JIT, heap growth and
                           connection start-up are not what a latency percentile should show;
                           those messages are still checked); the run is this much longer  (0)
      --drain-timeout S    after sending: wait this long without progress for the rest  (5)
      --self-test          run against a built-in sink (a minimal STOMP endpoint in a worker
                           thread) to show the generator's own ceiling; --broker is ignored
      --json               print the summary as JSON on stdout
      --quiet              no progress lines
`,
);

/** Everything a bench run needs. */
export interface BenchOptions {
  readonly producers: number;
  readonly consumers: number;
  readonly size: number;
  /** Messages per second per producer; 0 = unbounded. */
  readonly rate: number;
  /** Seconds to send for (when count is undefined). */
  readonly duration: number;
  /** Messages per producer; undefined = send for `duration`. */
  readonly count: number | undefined;
  readonly ack: AckMode;
  readonly ackEvery: number;
  /** Messages per second per consumer (the socket is paused in between); 0 = unthrottled. */
  readonly consumeRate: number;
  readonly prefetch: number;
  readonly persistent: boolean;
  readonly kind: 'queue' | 'topic';
  readonly destination: string;
  /** The broker, the login, TLS: the connection flags every client command takes. */
  readonly connection: ConnectionSettings;
  readonly version: StompVersion;
  /** Seconds at the start whose messages are checked but not in the latency figures. */
  readonly warmup: number;
  /** Seconds without progress after sending before the missing messages count as lost. */
  readonly drainTimeout: number;
  readonly selfTest: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
}

function int(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new CliError(
      `${flag} must be an integer >= ${String(min)}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function seconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new CliError(
      `${flag} must be a positive number of seconds, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Parse `stompede bench` arguments; 'help' when --help was asked for. */
export function parseBenchArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): BenchOptions | 'help' {
  const parsed = parseClientArgs('bench', BENCH_HELP, argv, {
    producers: { type: 'string', short: 'x' },
    consumers: { type: 'string', short: 'y' },
    size: { type: 'string', short: 's' },
    rate: { type: 'string', short: 'r' },
    duration: { type: 'string', short: 'z' },
    count: { type: 'string', short: 'C' },
    ack: { type: 'string', short: 'a' },
    'ack-every': { type: 'string' },
    'consume-rate': { type: 'string' },
    prefetch: { type: 'string', short: 'q' },
    persistent: { type: 'boolean' },
    kind: { type: 'string', short: 'k' },
    destination: { type: 'string', short: 'd' },
    'stomp-version': { type: 'string' },
    'drain-timeout': { type: 'string' },
    warmup: { type: 'string' },
    'self-test': { type: 'boolean' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (parsed === 'help') return 'help';
  const v = parsed.values;
  if (parsed.positionals.length > 0) {
    throw new CliError(
      `unexpected argument ${JSON.stringify(parsed.positionals[0])}: give the broker as --broker URI`,
    );
  }
  const version = v['stomp-version'] ?? '1.2';
  if (!isStompVersion(version)) {
    throw new CliError(`--stomp-version must be 1.0, 1.1 or 1.2, got ${JSON.stringify(version)}`);
  }
  const ack = v.ack ?? 'auto';
  if (!isAckMode(ack, version)) {
    throw new CliError(
      `--ack must be auto, client or client-individual (1.1+), got ${JSON.stringify(ack)}`,
    );
  }
  const kind = v.kind ?? 'queue';
  if (kind !== 'queue' && kind !== 'topic') {
    throw new CliError(`--kind must be queue or topic, got ${JSON.stringify(kind)}`);
  }
  const destination = v.destination ?? `/${kind}/stompede.bench`;
  if (destination.length === 0 || /[\n\r\0]/.test(destination)) {
    throw new CliError('--destination must be a non-empty single line');
  }
  const count = v.count === undefined ? undefined : int('--count', v.count, 0, 1);
  const options: BenchOptions = {
    producers: int('--producers', v.producers, 1, 0),
    consumers: int('--consumers', v.consumers, 1, 0),
    size: int('--size', v.size, 100, 0),
    rate: int('--rate', v.rate, 0, 0),
    duration: seconds('--duration', v.duration, 10),
    count,
    ack,
    ackEvery: int('--ack-every', v['ack-every'], 1, 1),
    consumeRate: int('--consume-rate', v['consume-rate'], 0, 0),
    prefetch: int('--prefetch', v.prefetch, 1000, 0),
    persistent: v.persistent === true,
    kind,
    destination,
    connection: connectionSettings(v, env),
    version,
    warmup: v.warmup?.trim() === '0' ? 0 : seconds('--warmup', v.warmup, 0),
    drainTimeout: seconds('--drain-timeout', v['drain-timeout'], 5),
    selfTest: v['self-test'] === true,
    json: v.json === true,
    quiet: v.quiet === true,
  };
  if (options.producers === 0 && options.consumers === 0) {
    throw new CliError('nothing to do: --producers and --consumers are both 0');
  }
  if (options.count !== undefined && v.duration !== undefined) {
    throw new CliError('give --duration or --count, not both');
  }
  return options;
}
