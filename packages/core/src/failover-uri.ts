/**
 * ActiveMQ-style failover URIs: `failover:(tcp://a:61613,ssl://b:61614)?randomize=false&…`, and
 * the plain broker forms `tcp://`, `ssl://` (alias `tls://`), `ws://` and `wss://`.
 *
 * The option set, their defaults and their meaning follow Python stompest
 * (`stompest.protocol.failover.StompFailoverUri`), which follows ActiveMQ's failover transport.
 * One default differs on purpose, see {@link FailoverOptions.startupMaxReconnectAttempts}.
 *
 * The parser is hand-written (no `URL`, no platform quirks) so that it behaves the same in every
 * JavaScript runtime.
 */
import { ErrorCode, StompError, type StompErrorOptions } from './errors.js';

/** The transports a broker address can name. `tls://` is accepted and normalised to `ssl`. */
export const BrokerScheme = {
  /** Plain STOMP over TCP. */
  TCP: 'tcp',
  /** STOMP over TLS (`ssl://` or `tls://`). */
  SSL: 'ssl',
  /** STOMP over a WebSocket. */
  WS: 'ws',
  /** STOMP over a WebSocket over TLS. */
  WSS: 'wss',
} as const;

/** One of the {@link BrokerScheme} values. */
export type BrokerScheme = (typeof BrokerScheme)[keyof typeof BrokerScheme];

/** One broker of a failover URI. */
export interface BrokerAddress {
  /** The transport; `tls://` is reported as `ssl`. */
  readonly scheme: BrokerScheme;
  /**
   * Host name or IP address, as written. IPv6 addresses are given without their brackets
   * (`::1` for `tcp://[::1]:61613`), ready for a socket connect; a zone is decoded (`fe80::1%eth0`).
   */
  readonly host: string;
  /** TCP port, 1–65535. Required for `tcp`/`ssl`; `ws` defaults to 80 and `wss` to 443. */
  readonly port: number;
  /**
   * For `ws`/`wss` only: the request path and any query, as written (`/ws`, `/stomp?vhost=a`);
   * `/` when the URI has none. Absent for `tcp`/`ssl`, which take no path.
   */
  readonly path?: string;
  /** The percent-decoded user name from `scheme://login:passcode@host:port`, if any. */
  readonly login?: string;
  /** The percent-decoded password from `scheme://login:passcode@host:port`, if any. */
  readonly passcode?: string;
  /**
   * The canonical URI of this broker without credentials (safe to log), e.g.
   * `ssl://b:61614`, `tcp://[::1]:61613`, `ws://127.0.0.1:15674/ws`.
   */
  readonly uri: string;
}

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

/** A parsed failover URI. */
export interface FailoverUri {
  /** The brokers, in the order written. Never empty. */
  readonly brokers: readonly BrokerAddress[];
  /** The options, with defaults filled in. */
  readonly options: FailoverOptions;
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

/** A malformed failover or broker URI. `code` is always `ERR_STOMP_INVALID_URI`. */
export class StompInvalidUriError extends StompError {
  constructor(message: string, options: StompErrorOptions = {}) {
    super(ErrorCode.INVALID_URI, message, options);
  }
}

/**
 * Parse a failover URI or a single broker URI.
 *
 * Accepted forms:
 * - `failover:(uri1,…,uriN)?options` (also `failover://(…)`),
 * - `failover:uri1,…,uriN?options`,
 * - `uri1,…,uriN?options`, in particular a single `tcp://host:port`.
 *
 * Each broker is `scheme://[login[:passcode]@]host[:port][path]` with scheme `tcp`, `ssl`, `tls`,
 * `ws` or `wss`; IPv6 hosts in brackets. Only `ws`/`wss` take a path. Inside parentheses a
 * `ws`/`wss` path may carry its own query; outside them the first `?` starts the failover options.
 * Options are `name=value` pairs separated by `&` or `,`; names are case-sensitive, booleans are
 * `true`/`false`.
 *
 * @throws {@link StompInvalidUriError} (`ERR_STOMP_INVALID_URI`) naming the bad part. Messages
 *   never contain passwords.
 */
export function parseFailoverUri(uri: string): FailoverUri {
  if (typeof uri !== 'string') {
    throw new StompInvalidUriError(`a failover URI must be a string, got ${typeof uri}`);
  }
  let rest = uri;
  if (rest.length >= 9 && rest.slice(0, 9).toLowerCase() === 'failover:') {
    rest = rest.slice(9);
    if (rest.startsWith('//')) rest = rest.slice(2);
  }
  let brokerText: string;
  let optionText: string | undefined;
  if (rest.startsWith('(')) {
    const close = rest.indexOf(')');
    const nested = rest.indexOf('(', 1);
    if (close < 0) {
      throw new StompInvalidUriError("unbalanced parentheses: missing ')' after the broker list");
    }
    if (nested >= 0 && nested < close) {
      throw new StompInvalidUriError("unbalanced parentheses: nested '(' in the broker list");
    }
    brokerText = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after.length > 0) {
      if (after[0] !== '?') {
        throw new StompInvalidUriError(
          `unexpected '${after}' after the broker list: expected the end or '?options'`,
        );
      }
      optionText = after.slice(1);
    }
  } else {
    const question = rest.indexOf('?');
    brokerText = question < 0 ? rest : rest.slice(0, question);
    optionText = question < 0 ? undefined : rest.slice(question + 1);
  }
  for (const [text, where] of [
    [brokerText, 'in the broker list'],
    [optionText ?? '', 'in the options'],
  ] as const) {
    const paren = /[()]/.exec(text);
    if (paren !== null) {
      throw new StompInvalidUriError(`unbalanced parentheses: unexpected '${paren[0]}' ${where}`);
    }
  }
  if (brokerText.length === 0) {
    throw new StompInvalidUriError('empty broker list: a failover URI names at least one broker');
  }
  const parts = brokerText.split(',');
  const brokers = parts.map((part, index) => {
    if (part.length === 0) {
      throw new StompInvalidUriError(
        `empty broker at position ${index + 1} of ${parts.length} (stray ',')`,
      );
    }
    return parseBroker(part);
  });
  return Object.freeze({
    brokers: Object.freeze(brokers),
    options: parseOptions(optionText, brokers.length),
  });
}

/**
 * Parse one broker URI (`tcp://host:port`, `ssl://…`, `tls://…`, `ws://host[:port][/path]`,
 * `wss://…`, with optional `login:passcode@`). A `?` is part of a `ws`/`wss` path here; for
 * `tcp`/`ssl` it is an error (broker options are not supported).
 *
 * @throws {@link StompInvalidUriError} naming the bad part.
 */
export function parseBrokerUri(uri: string): BrokerAddress {
  if (typeof uri !== 'string') {
    throw new StompInvalidUriError(`a broker URI must be a string, got ${typeof uri}`);
  }
  return parseBroker(uri);
}

// ---------------------------------------------------------------------------------------------
// Brokers

const SCHEMES: ReadonlyMap<string, BrokerScheme> = new Map([
  ['tcp', 'tcp'],
  ['ssl', 'ssl'],
  ['tls', 'ssl'],
  ['ws', 'ws'],
  ['wss', 'wss'],
]);

const DEFAULT_WS_PORTS: Readonly<Partial<Record<BrokerScheme, number>>> = { ws: 80, wss: 443 };

/** `text` with any user info replaced by `***`, for error messages. */
function redact(text: string): string {
  const sep = text.indexOf('://');
  if (sep < 0) return text;
  const start = sep + 3;
  const end = authorityEnd(text, start);
  const at = text.lastIndexOf('@', end - 1);
  return at < start ? text : `${text.slice(0, start)}***${text.slice(at)}`;
}

/** Index of the first `/`, `?` or `#` at or after `start`, or the length. */
function authorityEnd(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '/' || c === '?' || c === '#') return i;
  }
  return text.length;
}

function parseBroker(text: string): BrokerAddress {
  const shown = `'${redact(text)}'`;
  const sep = text.indexOf('://');
  if (sep < 0) {
    throw new StompInvalidUriError(
      `broker ${shown} has no scheme: expected tcp://, ssl://, tls://, ws:// or wss://`,
    );
  }
  const schemeText = text.slice(0, sep);
  const scheme = SCHEMES.get(schemeText.toLowerCase());
  if (scheme === undefined) {
    throw new StompInvalidUriError(
      `unknown scheme '${schemeText}' in broker ${shown}: expected tcp, ssl, tls, ws or wss`,
    );
  }
  const start = sep + 3;
  const end = authorityEnd(text, start);
  const authority = text.slice(start, end);
  const tail = text.slice(end);

  if (tail.includes('#')) {
    throw new StompInvalidUriError(`broker ${shown} has a fragment ('#'), which is not allowed`);
  }
  let path: string | undefined;
  if (scheme === 'ws' || scheme === 'wss') {
    path = tail.length === 0 ? '/' : tail.startsWith('?') ? `/${tail}` : tail;
    if (/\s/.test(path)) {
      throw new StompInvalidUriError(`bad path in broker ${shown}: whitespace is not allowed`);
    }
  } else if (tail.startsWith('?')) {
    throw new StompInvalidUriError(
      `broker ${shown} has its own options ('${tail}'): per-broker options are not supported; put failover options after the broker list`,
    );
  } else if (tail.length > 0) {
    throw new StompInvalidUriError(`broker ${shown} has a path ('${tail}'): ${scheme} takes none`);
  }

  // User info: the last '@' of the authority ends it, so an unencoded '@' in a password survives.
  let login: string | undefined;
  let passcode: string | undefined;
  let hostPort = authority;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    hostPort = authority.slice(at + 1);
    if (userInfo.length === 0) {
      throw new StompInvalidUriError(`empty credentials before '@' in broker ${shown}`);
    }
    const colon = userInfo.indexOf(':');
    login = percentDecode(colon < 0 ? userInfo : userInfo.slice(0, colon), 'login', shown);
    if (colon >= 0) passcode = percentDecode(userInfo.slice(colon + 1), 'passcode', shown);
  }

  let host: string;
  let portText: string | undefined;
  let ipv6 = false;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) {
      throw new StompInvalidUriError(
        `unterminated IPv6 address ('[' without ']') in broker ${shown}`,
      );
    }
    host = parseIpv6(hostPort.slice(1, close), shown);
    ipv6 = true;
    const after = hostPort.slice(close + 1);
    if (after.length > 0) {
      if (after[0] !== ':') {
        throw new StompInvalidUriError(
          `unexpected '${after}' after the IPv6 address in broker ${shown}: expected ':port'`,
        );
      }
      portText = after.slice(1);
    }
  } else {
    const colon = hostPort.indexOf(':');
    if (colon >= 0 && hostPort.indexOf(':', colon + 1) >= 0) {
      throw new StompInvalidUriError(
        `bad host in broker ${shown}: an IPv6 address must be written in brackets, e.g. tcp://[::1]:61613`,
      );
    }
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    if (colon >= 0) portText = hostPort.slice(colon + 1);
    if (host.length === 0) {
      throw new StompInvalidUriError(`missing host in broker ${shown}`);
    }
    if (!/^[A-Za-z0-9._~-]+$/.test(host)) {
      throw new StompInvalidUriError(`bad host '${host}' in broker ${shown}`);
    }
  }

  let port: number;
  if (portText === undefined) {
    const fallback = DEFAULT_WS_PORTS[scheme];
    if (fallback === undefined) {
      throw new StompInvalidUriError(`missing port in broker ${shown}: ${scheme} needs host:port`);
    }
    port = fallback;
  } else {
    if (!/^[0-9]{1,5}$/.test(portText)) {
      throw new StompInvalidUriError(
        `bad port '${portText}' in broker ${shown}: expected a number from 1 to 65535`,
      );
    }
    port = Number(portText);
    if (port < 1 || port > 65535) {
      throw new StompInvalidUriError(
        `bad port '${portText}' in broker ${shown}: expected a number from 1 to 65535`,
      );
    }
  }

  const uriHost = ipv6 ? `[${host.replace('%', '%25')}]` : host;
  const address: {
    scheme: BrokerScheme;
    host: string;
    port: number;
    path?: string;
    login?: string;
    passcode?: string;
    uri: string;
  } = { scheme, host, port, uri: `${scheme}://${uriHost}:${port}${path ?? ''}` };
  if (path !== undefined) address.path = path;
  if (login !== undefined) address.login = login;
  if (passcode !== undefined) address.passcode = passcode;
  return Object.freeze(address);
}

/**
 * Validate the inside of `[…]`: an IPv6 address (RFC 4291 text form, optionally ending in a dotted
 * IPv4 address) with an optional zone `%25zone`. Returns it with the zone decoded (`%zone`).
 */
function parseIpv6(text: string, shown: string): string {
  const bad = (why: string): StompInvalidUriError =>
    new StompInvalidUriError(`bad IPv6 address '[${text}]' in broker ${shown}: ${why}`);
  let address = text;
  let zone = '';
  const percent = text.indexOf('%');
  if (percent >= 0) {
    if (text.slice(percent, percent + 3) !== '%25' || percent + 3 >= text.length) {
      throw bad("a zone must be written '%25zone'");
    }
    zone = text.slice(percent + 3);
    if (!/^[A-Za-z0-9._~-]+$/.test(zone)) throw bad(`bad zone '${zone}'`);
    address = text.slice(0, percent);
  }
  const halves = address.split('::');
  if (halves.length > 2) throw bad("'::' may appear only once");
  const groups = (half: string): string[] => (half.length === 0 ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i]!;
    if (i === all.length - 1 && group.includes('.')) {
      if (!isIpv4(group)) throw bad(`bad embedded IPv4 address '${group}'`);
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) {
      count += 1;
    } else {
      throw bad(group.length === 0 ? 'empty group' : `bad group '${group}'`);
    }
  }
  if (halves.length === 2 ? count > 7 : count !== 8) {
    throw bad(halves.length === 2 ? 'too many groups' : 'expected 8 groups');
  }
  return zone.length > 0 ? `${address}%${zone}` : address;
}

function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return (
    parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)
  );
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Decode `%XX` escapes as UTF-8. Error messages name the field, never its value. */
function percentDecode(text: string, field: string, shown: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  let i = 0;
  while (i < text.length) {
    const percent = text.indexOf('%', i);
    const literalEnd = percent < 0 ? text.length : percent;
    if (literalEnd > i) bytes.push(...encoder.encode(text.slice(i, literalEnd)));
    if (percent < 0) break;
    const hex = text.slice(percent + 1, percent + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
      throw new StompInvalidUriError(
        `bad percent-encoding in the ${field} of broker ${shown}: '%' must be followed by two hex digits`,
      );
    }
    bytes.push(parseInt(hex, 16));
    i = percent + 3;
  }
  try {
    return fatalDecoder.decode(Uint8Array.from(bytes));
  } catch (cause) {
    throw new StompInvalidUriError(
      `bad percent-encoding in the ${field} of broker ${shown}: not valid UTF-8`,
      { cause },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Options

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

function parseOptions(text: string | undefined, brokerCount: number): FailoverOptions {
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
