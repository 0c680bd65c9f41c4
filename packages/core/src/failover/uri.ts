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
import { StompInvalidUriError } from '../errors.js';
import { type BrokerAddress, parseBroker } from './broker.js';
import { type FailoverOptions, parseOptions } from './options.js';

/** A parsed failover URI. */
export interface FailoverUri {
  /** The brokers, in the order written. Never empty. */
  readonly brokers: readonly BrokerAddress[];
  /** The options, with defaults filled in. */
  readonly options: FailoverOptions;
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
