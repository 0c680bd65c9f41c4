// One broker address of a failover URI: `scheme://[login[:passcode]@]host[:port][path]`, parsed
// by hand (IPv6 literals, percent-decoded credentials) so every JavaScript runtime agrees.
import { StompInvalidUriError } from '../errors.js';

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

/** Parse one broker address; see `parseBrokerUri`. */
export function parseBroker(text: string): BrokerAddress {
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
