// The WebSocket `Origin` check. Browsers send `Origin` on every WebSocket handshake and let any
// page open a WebSocket to any address, so without a check a page from anywhere could use the
// visitor's network position (a broker on their loopback or LAN) - cross-site WebSocket
// hijacking. Non-browser clients send no `Origin` (and could send any), so it is not an
// authentication: logins and permissions still apply.
import { StompInvalidArgumentError } from '@stompede/core';
import { isLoopback } from './address.js';

/** Which origins a WebSocket listener accepts (compiled from `allowedOrigins`). */
export interface OriginPolicy {
  /** `*` was listed: every origin is accepted. */
  readonly any: boolean;
  /** Exact origins, normalised (`https://app.example.com`, default ports dropped). */
  readonly origins: ReadonlySet<string>;
  /** The listener binds a loopback address: same-host origins must name a loopback host too. */
  readonly loopback: boolean;
}

/** Normalise one configured origin (`scheme://host[:port]`); throws naming `where`. */
export function normalizeOrigin(value: unknown, where: string): string {
  if (value === '*') return '*';
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.pathname !== '/'
  ) {
    throw new StompInvalidArgumentError(
      `${where} must be "*" or an origin such as https://app.example.com:8443 (scheme, host and ` +
        `optional port, no path), not ${JSON.stringify(value)}`,
    );
  }
  return url.origin;
}

/** Compile a listener's `allowedOrigins`. */
export function originPolicy(
  allowed: readonly string[] | undefined,
  host: string,
  where = 'allowedOrigins',
): OriginPolicy {
  const origins = new Set<string>();
  let any = false;
  (allowed ?? []).forEach((o, i) => {
    const n = normalizeOrigin(o, `${where}[${String(i)}]`);
    if (n === '*') any = true;
    else origins.add(n);
  });
  return { any, origins, loopback: isLoopback(host) };
}

/**
 * Whether an upgrade with these `Origin` and `Host` headers is accepted: no `Origin` (not a
 * browser), an origin listed (or `*`), on a loopback listener any loopback origin (any port),
 * or a same-host origin (its host and port equal `Host`; on a loopback listener only for
 * loopback names, so a DNS-rebound page is refused).
 */
export function originAllowed(
  policy: OriginPolicy,
  origin: string | undefined,
  host: string | undefined,
): boolean {
  if (origin === undefined) return true;
  if (policy.any) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed pages, file: URLs) and garbage: only with "*"
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (policy.origins.has(url.origin)) return true;
  // A loopback listener serves this machine only: a page on any loopback origin (a dev server on
  // another port, say) is this machine's, while a page from a real site still is refused.
  if (policy.loopback && isLoopback(url.hostname)) return true;
  if (host === undefined || host === '') return false;
  let requested: URL;
  try {
    requested = new URL(`${url.protocol}//${host}`);
  } catch {
    return false;
  }
  if (requested.host !== url.host) return false;
  return !policy.loopback || isLoopback(url.hostname);
}
