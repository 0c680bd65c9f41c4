// Authentication (CONNECT login/passcode against salted hashes, anonymous access, failed-login
// throttling), authorization (read/write/create on destination patterns, per virtual host) and
// connection admission (total and per-address limits).
import type { Duplex } from 'node:stream';
import {
  ErrorCode,
  type Frame,
  StompInvalidArgumentError,
  StompProtocolError,
  encodeFrameBytes,
  errorFrame,
} from '@stompede/core';
import type { Connection, ConnectionInfo } from '../connection.js';
import { isTemporary } from '../destination.js';
import type { MaybePromise } from '../engine.js';
import type { ErrorCounts } from './errors.js';
import { InsecureConfigurationError } from './errors.js';
import { type PasswordHash, dummyHash, parsePasswordHash, verifyPassword } from './password.js';
import { DestinationPattern } from './pattern.js';
import { LoginThrottle } from './throttle.js';
import { type ClientCertificate, clientCertificateOf } from '../listen/peer.js';
import type { PermissionGrant, Right, SecurityOptions } from './types.js';

/** Who a session is. */
export interface Principal {
  /** The login, or `anonymous`. */
  readonly user: string;
  readonly anonymous: boolean;
  readonly groups: ReadonlySet<string>;
}

const READ = 1;
const WRITE = 2;
const CREATE = 4;
const BITS: Readonly<Record<Right, number>> = { read: READ, write: WRITE, create: CREATE };

interface User {
  readonly principal: Principal;
  /** Undefined for a user who can only authenticate with a client certificate. */
  readonly hash: PasswordHash | undefined;
  readonly vhosts: ReadonlySet<string> | undefined;
}

interface Grant {
  readonly user: string | undefined;
  readonly group: string | undefined;
  readonly vhost: string;
  readonly patterns: readonly DestinationPattern[];
  readonly rights: number;
}

/** Where a session came from, and what admission counted. */
interface Tracked {
  readonly info: ConnectionInfo;
  readonly address: string;
  readonly stream: Duplex;
  /** The verified client certificate, on listeners that map certificates to users. */
  readonly cert: ClientCertificate | undefined;
}

const ANONYMOUS: Principal = Object.freeze({
  user: 'anonymous',
  anonymous: true,
  groups: new Set<string>(),
});

/** True for a loopback host: `127.x.x.x`, `::1`, `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(h)
  );
}

/** The address part of `ip:port` (IPv6 included); `local` for in-memory streams. */
export function addressOf(remote: string | undefined): string {
  if (remote === undefined) return 'local';
  const i = remote.lastIndexOf(':');
  return i <= 0 ? remote : remote.slice(0, i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Milliseconds between two log lines about connections refused by the same limit. */
const REFUSAL_LOG_INTERVAL = 10_000;

/** A connection refused by a limit. */
export interface Refusal {
  readonly limit: 'maxConnections' | 'maxConnectionsPerAddress';
  readonly address: string;
  /** The ERROR frame's `message`. */
  readonly message: string;
  /** Whether to log it (at most one line per limit every 10 s). */
  readonly log: boolean;
  /** Refusals by the same limit since the last line logged, not logged themselves. */
  readonly suppressed: number;
}

/** Limits on connections, checked when a listener accepts one. */
export interface AdmissionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
}

/** The broker's security state. One per broker (it lives in its resolved options). */
export class Security {
  /** Whether clients may connect without logging in. */
  readonly allowAnonymous: boolean;
  /** Whether permissions are checked (false when no `permissions` are configured). */
  readonly enforced: boolean;
  readonly throttle: LoginThrottle;
  /** Error counters; set by the broker. */
  errors: ErrorCounts | undefined;
  private readonly users = new Map<string, User>();
  private readonly grants: readonly Grant[];
  private readonly dummy: PasswordHash;
  private readonly principals = new WeakMap<Connection, Principal>();
  /** Rights by principal, virtual host and destination (no key string built per frame). */
  private readonly rightsCache = new WeakMap<Principal, Map<string, Map<string, number>>>();
  private readonly known = new Map<string, Set<string>>();
  private readonly tracked = new WeakMap<Connection, Tracked>();
  private readonly perAddress = new Map<string, number>();
  private readonly refusalLog = new Map<Refusal['limit'], { at: number; suppressed: number }>();

  /**
   * Validate the security options. `hosts` are the listeners' bind addresses: a non-loopback one
   * with anonymous access not explicitly allowed is refused ({@link InsecureConfigurationError}).
   */
  constructor(
    options: SecurityOptions,
    hosts: readonly string[],
    defaultVhost: string,
    readonly limits: AdmissionLimits,
  ) {
    const groupsOf = new Map<string, Set<string>>();
    const users = options.users ?? {};
    for (const [name, u] of Object.entries(users)) {
      if (name === '' || name === 'anonymous' || name === '*') {
        throw new StompInvalidArgumentError(`users: ${JSON.stringify(name)} is a reserved name`);
      }
      if (
        typeof u !== 'object' ||
        (u as unknown) === null ||
        (u.password !== undefined && typeof u.password !== 'string')
      ) {
        throw new StompInvalidArgumentError(
          `users.${name} must be a mapping; its password, when given, a scrypt hash`,
        );
      }
      groupsOf.set(name, new Set(u.groups ?? []));
    }
    for (const [group, members] of Object.entries(options.groups ?? {})) {
      if (!Array.isArray(members)) {
        throw new StompInvalidArgumentError(`groups.${group} must be a list of user names`);
      }
      for (const m of members as readonly unknown[]) {
        const set = typeof m === 'string' ? groupsOf.get(m) : undefined;
        if (set === undefined) {
          throw new StompInvalidArgumentError(
            `groups.${group} lists ${JSON.stringify(m)}, which is not a user`,
          );
        }
        set.add(group);
      }
    }
    let params: PasswordHash | undefined;
    for (const [name, u] of Object.entries(users)) {
      const hash =
        u.password === undefined
          ? undefined
          : parsePasswordHash(u.password, `users.${name}.password`);
      params ??= hash;
      this.users.set(name, {
        principal: Object.freeze({ user: name, anonymous: false, groups: groupsOf.get(name)! }),
        hash,
        vhosts: u.vhosts === undefined ? undefined : new Set(u.vhosts),
      });
    }
    // Unknown logins are checked against a hash of the same cost as real ones.
    this.dummy = dummyHash(params ?? undefined);
    this.grants = (options.permissions ?? []).map((g, i) => compileGrant(g, i, defaultVhost));
    this.enforced = options.permissions !== undefined;
    this.throttle = new LoginThrottle(options.loginThrottle);
    const exposed = hosts.filter((h) => !isLoopback(h));
    if (options.allowAnonymous !== undefined) {
      this.allowAnonymous = options.allowAnonymous;
    } else if (exposed.length === 0) {
      this.allowAnonymous = true;
    } else if (this.users.size > 0) {
      this.allowAnonymous = false;
    } else {
      throw new InsecureConfigurationError(
        `listening on ${exposed.join(', ')} (not loopback) with no users would let anyone connect ` +
          'anonymously: configure users, or set allowAnonymous: true (or false) explicitly',
      );
    }
  }

  /** Whether any user is configured. */
  get hasUsers(): boolean {
    return this.users.size > 0;
  }

  /**
   * Users, groups and rules as configured, for the admin API (never a password hash): each user
   * with its groups and virtual hosts, and whether it has a password.
   */
  describe(): {
    users: { name: string; groups: string[]; vhosts: string[] | null; password: boolean }[];
    permissions: {
      user?: string;
      group?: string;
      vhost: string;
      destinations: string[];
      rights: Right[];
    }[];
  } {
    const rights = (bits: number): Right[] =>
      (Object.entries(BITS) as [Right, number][])
        .filter(([, b]) => (bits & b) !== 0)
        .map(([r]) => r);
    return {
      users: [...this.users.entries()].map(([name, u]) => ({
        name,
        groups: [...u.principal.groups].sort(),
        vhosts: u.vhosts === undefined ? null : [...u.vhosts],
        password: u.hash !== undefined,
      })),
      permissions: this.grants.map((g) => ({
        ...(g.user === undefined ? {} : { user: g.user }),
        ...(g.group === undefined ? {} : { group: g.group }),
        vhost: g.vhost,
        destinations: g.patterns.map((p) => p.source),
        rights: rights(g.rights),
      })),
    };
  }

  /** The session's principal (anonymous until it logged in). */
  principal(conn: Connection): Principal {
    return this.principals.get(conn) ?? ANONYMOUS;
  }

  // ---- admission ----

  /**
   * A listener accepted `stream`: undefined when it is admitted; when a connection limit is
   * reached, an ERROR is written, the stream ended, and the refusal returned (for the log).
   */
  admit(stream: Duplex, info: ConnectionInfo, open: number): Refusal | undefined {
    const address = addressOf(info.remoteAddress);
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    let limit: Refusal['limit'];
    let message: string;
    let detail: string;
    if (open >= maxConnections) {
      limit = 'maxConnections';
      message = `the broker has reached its limit of ${String(maxConnections)} connections (maxConnections)`;
      detail = `${String(open)} connections are open, the broker's limit (maxConnections).`;
    } else if ((this.perAddress.get(address) ?? 0) >= maxConnectionsPerAddress) {
      limit = 'maxConnectionsPerAddress';
      message = `too many connections from ${address}: the limit per address is ${String(maxConnectionsPerAddress)} (maxConnectionsPerAddress)`;
      detail =
        `${String(maxConnectionsPerAddress)} connections are open from ${address}, the broker's ` +
        'limit per address (maxConnectionsPerAddress). Behind a load balancer or a NAT every ' +
        'client shares one address.';
    } else {
      return undefined;
    }
    this.errors?.refused(ErrorCode.LIMIT_EXCEEDED);
    stream.on('error', () => undefined);
    stream.end(
      encodeFrameBytes(
        errorFrame({
          message,
          code: ErrorCode.LIMIT_EXCEEDED,
          body: `${ErrorCode.LIMIT_EXCEEDED}: ${detail} An operator can raise ${limit} in the broker's configuration.`,
        }),
      ),
    );
    setTimeout(() => stream.destroy(), 1000).unref();
    // One log line per limit every REFUSAL_LOG_INTERVAL at most: a flood is summed up, not echoed.
    const now = Date.now();
    const last = this.refusalLog.get(limit);
    if (last !== undefined && now - last.at < REFUSAL_LOG_INTERVAL) {
      last.suppressed++;
      return { limit, address, message, log: false, suppressed: 0 };
    }
    this.refusalLog.set(limit, { at: now, suppressed: 0 });
    return { limit, address, message, log: true, suppressed: last?.suppressed ?? 0 };
  }

  /** Remember where a session came from; counted per address until it closes. */
  track(conn: Connection, stream: Duplex, info: ConnectionInfo): void {
    const address = addressOf(info.remoteAddress);
    this.tracked.set(conn, { info, address, stream, cert: clientCertificateOf(stream) });
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    void conn.closed.then(() => {
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    });
  }

  /** Where `conn` came from. */
  infoOf(conn: Connection): ConnectionInfo {
    return this.tracked.get(conn)?.info ?? {};
  }

  /** Bytes written to `conn`'s socket, when the transport counts them (TCP, TLS). */
  bytesWritten(conn: Connection): number {
    const s = this.tracked.get(conn)?.stream as { bytesWritten?: unknown } | undefined;
    return typeof s?.bytesWritten === 'number' ? s.bytesWritten : 0;
  }

  /** Connections open per address now. */
  connectionsFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  // ---- authentication ----

  /**
   * Authenticate a CONNECT, then call `accept` (synchronously when no password is checked).
   * Failures are answered with an ERROR that does not say whether the user exists; repeated
   * failures from one address are slowed down. The returned promise never rejects.
   */
  authenticate(
    conn: Connection,
    frame: Frame,
    vhost: string,
    accept: () => void,
  ): MaybePromise<void> {
    const login = frame.header('login');
    const cert = this.tracked.get(conn)?.cert;
    if (cert !== undefined && this.certificateLogin(conn, frame, cert, login, vhost)) {
      accept();
      return undefined;
    }
    if (this.users.size === 0 || login === undefined || login === '') {
      // Without users, credentials are ignored: everyone is anonymous.
      if (!this.allowAnonymous) {
        throw this.denied(
          ErrorCode.AUTHENTICATION_FAILED,
          this.users.size === 0
            ? 'this broker has no users and does not accept anonymous clients'
            : 'authentication required: send login and passcode',
          frame,
        );
      }
      accept();
      return undefined;
    }
    return this.checkPassword(conn, frame, login, frame.header('passcode') ?? '', vhost, accept);
  }

  private async checkPassword(
    conn: Connection,
    frame: Frame,
    login: string,
    passcode: string,
    vhost: string,
    accept: () => void,
  ): Promise<void> {
    const address = this.tracked.get(conn)?.address ?? 'local';
    try {
      const wait = this.throttle.delay(address);
      if (wait > 0) await sleep(wait);
      const user = this.users.get(login);
      const ok = await verifyPassword(passcode, user?.hash ?? this.dummy);
      if (!ok || user?.hash === undefined) {
        this.throttle.failure(address);
        conn.log.info({ address }, 'failed login');
        throw this.denied(
          ErrorCode.AUTHENTICATION_FAILED,
          'authentication failed: unknown login or wrong passcode',
          frame,
        );
      }
      this.throttle.success(address);
      if (user.vhosts !== undefined && !user.vhosts.has(vhost)) {
        throw this.denied(
          ErrorCode.FORBIDDEN,
          `user ${JSON.stringify(login)} may not use virtual host ${JSON.stringify(vhost)}`,
          frame,
        );
      }
      if (conn.state !== 0) return; // closed (or timed out) while we checked
      this.principals.set(conn, user.principal);
      accept();
    } catch (err) {
      conn.fail(err, frame);
    }
  }

  /**
   * A client certificate was verified on a listener that maps certificates to users: true when
   * it names a user (the session is that user), false to fall back to login/anonymous (allowed
   * only with anonymous access); throws when refused.
   */
  private certificateLogin(
    conn: Connection,
    frame: Frame,
    cert: ClientCertificate,
    login: string | undefined,
    vhost: string,
  ): boolean {
    const user = cert.user === undefined ? undefined : this.users.get(cert.user);
    if (user === undefined) {
      if (this.allowAnonymous) return false;
      const named =
        cert.user === undefined
          ? `has no single ${cert.field}`
          : `${cert.field}=${JSON.stringify(cert.user.slice(0, 200))} is not a user`;
      conn.log.info({ fingerprint256: cert.fingerprint256 }, 'client certificate names no user');
      throw this.denied(
        ErrorCode.AUTHENTICATION_FAILED,
        `authentication failed: the client certificate ${named}`,
        frame,
      );
    }
    const name = user.principal.user;
    if (login !== undefined && login !== '' && login !== name) {
      throw this.denied(
        ErrorCode.AUTHENTICATION_FAILED,
        `authentication failed: login ${JSON.stringify(login.slice(0, 200))} is not the ` +
          `user of the client certificate (${JSON.stringify(name)})`,
        frame,
      );
    }
    if (user.vhosts !== undefined && !user.vhosts.has(vhost)) {
      throw this.denied(
        ErrorCode.FORBIDDEN,
        `user ${JSON.stringify(name)} may not use virtual host ${JSON.stringify(vhost)}`,
        frame,
      );
    }
    this.principals.set(conn, user.principal);
    return true;
  }

  private denied(code: string, message: string, frame: Frame): StompProtocolError {
    return new StompProtocolError(code as typeof ErrorCode.FORBIDDEN, message, { frame });
  }

  // ---- authorization ----

  /**
   * Check that the session may `right` (read for SUBSCRIBE, write for SEND) `destination`, and
   * create it when it is new; throws `ERR_STOMP_FORBIDDEN` naming the destination and the
   * missing right.
   */
  authorize(conn: Connection, right: 'read' | 'write', destination: string, frame: Frame): void {
    if (!this.enforced) return;
    // Temporary queues are private to their session; a reply address is for anyone to answer.
    if (isTemporary(destination)) return;
    const vhost = conn.vhost;
    const principal = this.principal(conn);
    const rights = this.rightsOf(principal, vhost, destination);
    let known = this.known.get(vhost);
    const isNew = (known === undefined || !known.has(destination)) && !isPattern(destination);
    if ((rights & BITS[right]) === 0 || (isNew && (rights & CREATE) === 0)) {
      const missing: string[] = [];
      if ((rights & BITS[right]) === 0) missing.push(right);
      if (isNew && (rights & CREATE) === 0) missing.push('create');
      const who = principal.anonymous
        ? 'anonymous clients have'
        : `user ${JSON.stringify(principal.user)} has`;
      throw new StompProtocolError(
        ErrorCode.FORBIDDEN,
        `${who} no ${missing.join(' and ')} permission on ${destination.slice(0, 200)}` +
          ` in virtual host ${JSON.stringify(vhost)}` +
          (missing.includes('create') ? ' (the destination does not exist yet)' : ''),
        { frame, header: 'destination' },
      );
    }
    if (isNew) {
      if (known === undefined) {
        known = new Set();
        this.known.set(vhost, known);
      }
      known.add(destination);
    }
  }

  /** Whether `destination` was created (first used) in `vhost`, as far as permissions go. */
  exists(vhost: string, destination: string): boolean {
    return this.known.get(vhost)?.has(destination) ?? false;
  }

  /** Record that `destination` exists (e.g. it survived a restart): using it needs no create right. */
  remember(vhost: string, destination: string): void {
    let known = this.known.get(vhost);
    if (known === undefined) {
      known = new Set();
      this.known.set(vhost, known);
    }
    known.add(destination);
  }

  /** Forget that `destination` exists: the next use needs the create right again. */
  forget(vhost: string, destination: string): void {
    this.known.get(vhost)?.delete(destination);
  }

  /** The rights `principal` has on `destination` in `vhost`, as bits. */
  private rightsOf(principal: Principal, vhost: string, destination: string): number {
    let byVhost = this.rightsCache.get(principal);
    if (byVhost === undefined) {
      byVhost = new Map();
      this.rightsCache.set(principal, byVhost);
    }
    let cache = byVhost.get(vhost);
    if (cache === undefined) {
      cache = new Map();
      byVhost.set(vhost, cache);
    }
    const hit = cache.get(destination);
    if (hit !== undefined) return hit;
    let rights = 0;
    for (const g of this.grants) {
      if (g.vhost !== '*' && g.vhost !== vhost) continue;
      if (g.user !== undefined && g.user !== '*' && g.user !== principal.user) continue;
      if (g.group !== undefined && !principal.groups.has(g.group)) continue;
      if (g.patterns.some((p) => p.covers(destination))) rights |= g.rights;
    }
    if (cache.size >= 10_000) cache.clear();
    cache.set(destination, rights);
    return rights;
  }

  /** The rights a principal has on a destination (for tests and the admin API). */
  rights(principal: Principal, vhost: string, destination: string): Right[] {
    const bits = this.enforced ? this.rightsOf(principal, vhost, destination) : 7;
    return (['read', 'write', 'create'] as const).filter((r) => (bits & BITS[r]) !== 0);
  }

  /** The principal of a configured user (for tests and the admin API). */
  userPrincipal(name: string): Principal | undefined {
    return this.users.get(name)?.principal;
  }
}

function isPattern(destination: string): boolean {
  if (!destination.startsWith('/topic/')) return false;
  for (const s of destination.slice(7).split('.'))
    if (s === '*' || s === '>' || s === '#') return true;
  return false;
}

function compileGrant(g: PermissionGrant, i: number, defaultVhost: string): Grant {
  const where = `permissions[${String(i)}]`;
  if (typeof g !== 'object') throw new StompInvalidArgumentError(`${where} must be a mapping`);
  if ((g.user === undefined) === (g.group === undefined)) {
    throw new StompInvalidArgumentError(`${where} needs exactly one of user and group`);
  }
  const list = typeof g.destinations === 'string' ? [g.destinations] : g.destinations;
  if (!Array.isArray(list) || list.length === 0) {
    throw new StompInvalidArgumentError(`${where}.destinations must name one or more patterns`);
  }
  const patterns = (list as readonly unknown[]).map((p) => {
    if (typeof p !== 'string') {
      throw new StompInvalidArgumentError(`${where}.destinations must be strings`);
    }
    try {
      return new DestinationPattern(p);
    } catch (err) {
      throw new StompInvalidArgumentError(`${where}: ${(err as Error).message}`);
    }
  });
  let rights = 0;
  if (g.rights === 'all') rights = READ | WRITE | CREATE;
  else if (Array.isArray(g.rights)) {
    for (const r of g.rights as readonly unknown[]) {
      const bit = typeof r === 'string' ? BITS[r as Right] : undefined;
      if (bit === undefined) {
        throw new StompInvalidArgumentError(
          `${where}.rights: ${JSON.stringify(r)} is not one of read, write, create`,
        );
      }
      rights |= bit;
    }
  }
  if (rights === 0) {
    throw new StompInvalidArgumentError(
      `${where}.rights must list read, write or create, or be "all"`,
    );
  }
  return {
    user: g.user,
    group: g.group,
    vhost: g.vhost ?? defaultVhost,
    patterns,
    rights,
  };
}
