// The options of a failover URI (`?randomize=false&maxReconnectAttempts=3`): their types, their
// defaults and the parser that checks each one.
import { StompInvalidUriError } from '../errors.js';

/**
 * Failover options, named and defaulted as in ActiveMQ's failover transport as stompest implements
 * it. Delays are in milliseconds.
 */
export interface FailoverOptions {
  /** How long to wait before the first reconnect attempt, in ms. Integer ≥ 0. Default `10`. */
  readonly initialReconnectDelay: number;
  /** The longest delay ever waited between attempts, in ms (caps backoff and jitter). Default `30000`. */
  readonly maxReconnectDelay: number;
  /** Multiply the delay by {@link FailoverOptions.backOffMultiplier} after every reconnect attempt. Default `true`. */
  readonly useExponentialBackOff: boolean;
  /** Factor of the exponential backoff. A finite number > 0. Default `2`. */
  readonly backOffMultiplier: number;
  /**
   * Reconnect attempts allowed after a connection that had succeeded is lost, not counting the
   * first, immediate try: `-1` retries forever, `0` tries once and gives up, `n > 0` allows `n`
   * reconnect attempts. Default `-1`.
   */
  readonly maxReconnectAttempts: number;
  /**
   * Like {@link FailoverOptions.maxReconnectAttempts}, for the very first connect (before any connection
   * succeeded): `-1` forever, `0` a single try, `n > 0` up to `n` reconnect attempts.
   *
   * Default: **the number of brokers minus one**, so that a first connect tries every broker of
   * the list once. This is the one default that differs from stompest, whose default `0` tries a
   * single (possibly random) broker and gives up even when the others are up; set it explicitly
   * to `0` for stompest's behaviour.
   */
  readonly startupMaxReconnectAttempts: number;
  /**
   * Jitter in ms added to each reconnect delay to avoid stampedes: a random amount in
   * `[0, reconnectDelayJitter)` is added before the {@link FailoverOptions.maxReconnectDelay} cap. Integer ≥ 0.
   * Default `0`.
   */
  readonly reconnectDelayJitter: number;
  /** Shuffle the brokers at the start of every pass through the list. Default `true`. */
  readonly randomize: boolean;
  /**
   * Prefer local brokers: at the start of every pass, brokers on a local host (`localhost`,
   * `127.0.0.1`, `::1`, or the hosts given to the schedule) are moved to the front, keeping their
   * relative order (after any shuffle). Default `false`.
   */
  readonly priorityBackup: boolean;
}

/**
 * Every option's default except {@link FailoverOptions.startupMaxReconnectAttempts}, whose
 * default depends on the number of brokers (see there).
 */
export const FAILOVER_DEFAULTS: Readonly<Omit<FailoverOptions, 'startupMaxReconnectAttempts'>> =
  Object.freeze({
    initialReconnectDelay: 10,
    maxReconnectDelay: 30000,
    useExponentialBackOff: true,
    backOffMultiplier: 2,
    maxReconnectAttempts: -1,
    reconnectDelayJitter: 0,
    randomize: true,
    priorityBackup: false,
  });

type OptionName = keyof FailoverOptions;
type OptionParser = (value: string) => number | boolean | undefined;

const INTEGER = /^[+-]?[0-9]+$/;
const DECIMAL = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

function integer(min: number): OptionParser {
  return (value) => {
    if (!INTEGER.test(value)) return undefined;
    const n = Number(value);
    return Number.isSafeInteger(n) && n >= min ? n : undefined;
  };
}

const boolean: OptionParser = (value) =>
  value === 'true' ? true : value === 'false' ? false : undefined;

const OPTIONS: ReadonlyMap<OptionName, { parse: OptionParser; expected: string }> = new Map<
  OptionName,
  { parse: OptionParser; expected: string }
>([
  ['initialReconnectDelay', { parse: integer(0), expected: 'an integer ≥ 0 (ms)' }],
  ['maxReconnectDelay', { parse: integer(0), expected: 'an integer ≥ 0 (ms)' }],
  ['useExponentialBackOff', { parse: boolean, expected: "'true' or 'false'" }],
  [
    'backOffMultiplier',
    {
      parse: (value) => {
        if (!DECIMAL.test(value)) return undefined;
        const n = Number(value);
        return Number.isFinite(n) && n > 0 ? n : undefined;
      },
      expected: 'a number > 0',
    },
  ],
  ['maxReconnectAttempts', { parse: integer(-1), expected: 'an integer ≥ -1' }],
  ['startupMaxReconnectAttempts', { parse: integer(-1), expected: 'an integer ≥ -1' }],
  ['reconnectDelayJitter', { parse: integer(0), expected: 'an integer ≥ 0 (ms)' }],
  ['randomize', { parse: boolean, expected: "'true' or 'false'" }],
  ['priorityBackup', { parse: boolean, expected: "'true' or 'false'" }],
]);

/** Parse the options after `?` (or none), with defaults filled in, for `brokerCount` brokers. */
export function parseOptions(text: string | undefined, brokerCount: number): FailoverOptions {
  const options: Record<OptionName, number | boolean> = {
    ...FAILOVER_DEFAULTS,
    startupMaxReconnectAttempts: brokerCount - 1,
  };
  if (text !== undefined && text.length > 0) {
    for (const part of text.split(/[&,]/)) {
      if (part.length === 0) {
        throw new StompInvalidUriError(`empty option in '?${text}' (stray '&' or ',')`);
      }
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      const spec = OPTIONS.get(name as OptionName);
      if (spec === undefined) {
        const near = [...OPTIONS.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
        throw new StompInvalidUriError(
          `unknown option '${name}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`,
        );
      }
      if (eq < 0) {
        throw new StompInvalidUriError(`option '${name}' has no value: expected ${spec.expected}`);
      }
      const value = part.slice(eq + 1);
      const parsed = spec.parse(value);
      if (parsed === undefined) {
        throw new StompInvalidUriError(
          `bad value '${value}' for option '${name}': expected ${spec.expected}`,
        );
      }
      options[name as OptionName] = parsed;
    }
  }
  return Object.freeze(options) as unknown as FailoverOptions;
}
