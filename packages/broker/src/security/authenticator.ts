// Authentication: who a CONNECT is. A login/passcode checked against salted hashes, a client
// certificate mapped to a user, or anonymous access when allowed; repeated failures from one
// address are slowed down. Failures never say whether the user exists.
import {
  ErrorCode,
  type Frame,
  StompInvalidArgumentError,
  StompProtocolError,
} from '@stompede/core';
import type { Logger } from 'pino';
import type { MaybePromise } from '../engine.js';
import { isLoopback } from '../listen/address.js';
import type { ClientCertificate } from '../listen/peer.js';
import { InsecureConfigurationError } from './errors.js';
import { type PasswordHash, dummyHash, parsePasswordHash, verifyPassword } from './password.js';
import { LoginThrottle, type LoginThrottleOptions } from './throttle.js';
import type { SecurityOptions, UserOptions } from './types.js';

/** Who a session is. */
export interface Principal {
  /** The login, or `anonymous`. */
  readonly user: string;
  readonly anonymous: boolean;
  readonly groups: ReadonlySet<string>;
}

/** The principal of sessions that did not log in. */
export const ANONYMOUS: Principal = Object.freeze({
  user: 'anonymous',
  anonymous: true,
  groups: Object.freeze(new Set<string>()),
});

/** A configured user, validated. */
export interface ResolvedUser {
  readonly principal: Principal;
  /** Undefined for a user who can only authenticate with a client certificate. */
  readonly hash: PasswordHash | undefined;
  readonly vhosts: ReadonlySet<string> | undefined;
}

/** The authentication settings, validated (part of the broker's resolved options). */
export interface ResolvedAuthentication {
  /** Users by login (a null-prototype record). */
  readonly users: Readonly<Record<string, ResolvedUser>>;
  /** Whether clients may connect without logging in. */
  readonly allowAnonymous: boolean;
  readonly loginThrottle: LoginThrottleOptions;
}

/** One CONNECT to authenticate. */
export interface LoginRequest {
  readonly frame: Frame;
  /** The virtual host the session asks for. */
  readonly vhost: string;
  /** The peer's address, for throttling. */
  readonly address: string;
  /** The peer's verified client certificate, on listeners that map certificates to users. */
  readonly cert: ClientCertificate | undefined;
  /** The session's logger. */
  readonly log: Logger;
}

/**
 * Validate the users, groups and anonymous access of `options`. `hosts` are the listeners' bind
 * addresses: a non-loopback one with anonymous access not explicitly allowed is refused
 * ({@link InsecureConfigurationError}).
 */
export function resolveAuthentication(
  options: SecurityOptions,
  hosts: readonly string[],
): ResolvedAuthentication {
  const users = resolveUsers(options.users ?? {}, options.groups ?? {});
  const count = Object.keys(users).length;
  const exposed = hosts.filter((h) => !isLoopback(h));
  let allowAnonymous: boolean;
  if (options.allowAnonymous !== undefined) {
    allowAnonymous = options.allowAnonymous;
  } else if (exposed.length === 0) {
    allowAnonymous = true;
  } else if (count > 0) {
    allowAnonymous = false;
  } else {
    throw new InsecureConfigurationError(
      `listening on ${exposed.join(', ')} (not loopback) with no users would let anyone connect ` +
        'anonymously: configure users, or set allowAnonymous: true (or false) explicitly',
    );
  }
  return Object.freeze({
    users,
    allowAnonymous,
    loginThrottle: Object.freeze({ ...options.loginThrottle }),
  });
}

function resolveUsers(
  users: Readonly<Record<string, UserOptions>>,
  groups: Readonly<Record<string, readonly string[]>>,
): Readonly<Record<string, ResolvedUser>> {
  const groupsOf = new Map<string, Set<string>>();
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
  for (const [group, members] of Object.entries(groups)) {
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
  const out = Object.create(null) as Record<string, ResolvedUser>;
  for (const [name, u] of Object.entries(users)) {
    out[name] = Object.freeze({
      principal: Object.freeze({ user: name, anonymous: false, groups: groupsOf.get(name)! }),
      hash:
        u.password === undefined
          ? undefined
          : parsePasswordHash(u.password, `users.${name}.password`),
      vhosts: u.vhosts === undefined ? undefined : new Set(u.vhosts),
    });
  }
  return Object.freeze(out);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Checks CONNECT credentials. One per broker. */
export class Authenticator {
  /** Failed logins per address, and the delay they earn. */
  readonly throttle: LoginThrottle;
  private readonly users: Readonly<Record<string, ResolvedUser>>;
  private readonly userCount: number;
  private readonly allowAnonymous: boolean;
  /** Unknown logins are checked against a hash of the same cost as real ones. */
  private readonly dummy: PasswordHash;

  constructor(config: ResolvedAuthentication) {
    this.users = config.users;
    this.userCount = Object.keys(config.users).length;
    this.allowAnonymous = config.allowAnonymous;
    this.throttle = new LoginThrottle(config.loginThrottle);
    let params: PasswordHash | undefined;
    for (const name in config.users) params ??= config.users[name]!.hash;
    this.dummy = dummyHash(params ?? undefined);
  }

  /** The principal of a configured user (for tests and the admin API). */
  userPrincipal(name: string): Principal | undefined {
    return this.user(name)?.principal;
  }

  /**
   * Who the CONNECT in `request` is: synchronously when no password is checked. Throws (or
   * rejects) `ERR_STOMP_AUTHENTICATION_FAILED` or `ERR_STOMP_FORBIDDEN`, with the frame.
   */
  authenticate(request: LoginRequest): MaybePromise<Principal> {
    const frame = request.frame;
    const login = frame.header('login');
    const cert = request.cert;
    if (cert !== undefined) {
      const principal = this.certificateLogin(request, cert, login);
      if (principal !== undefined) return principal;
    }
    if (this.userCount === 0 || login === undefined || login === '') {
      // Without users, credentials are ignored: everyone is anonymous.
      if (!this.allowAnonymous) {
        throw denied(
          ErrorCode.AUTHENTICATION_FAILED,
          this.userCount === 0
            ? 'this broker has no users and does not accept anonymous clients'
            : 'authentication required: send login and passcode',
          frame,
        );
      }
      return ANONYMOUS;
    }
    return this.checkPassword(request, login, frame.header('passcode') ?? '');
  }

  private async checkPassword(
    request: LoginRequest,
    login: string,
    passcode: string,
  ): Promise<Principal> {
    const { address, frame, vhost } = request;
    const wait = this.throttle.delay(address);
    if (wait > 0) await sleep(wait);
    const user = this.user(login);
    const ok = await verifyPassword(passcode, user?.hash ?? this.dummy);
    if (!ok || user?.hash === undefined) {
      this.throttle.failure(address);
      request.log.info({ address }, 'failed login');
      throw denied(
        ErrorCode.AUTHENTICATION_FAILED,
        'authentication failed: unknown login or wrong passcode',
        frame,
      );
    }
    this.throttle.success(address);
    checkVhost(user, vhost, frame);
    return user.principal;
  }

  /**
   * A client certificate was verified on a listener that maps certificates to users: the user it
   * names, or undefined to fall back to login/anonymous (allowed only with anonymous access);
   * throws when refused.
   */
  private certificateLogin(
    request: LoginRequest,
    cert: ClientCertificate,
    login: string | undefined,
  ): Principal | undefined {
    const frame = request.frame;
    const user = cert.user === undefined ? undefined : this.user(cert.user);
    if (user === undefined) {
      if (this.allowAnonymous) return undefined;
      const named =
        cert.user === undefined
          ? `has no single ${cert.field}`
          : `${cert.field}=${JSON.stringify(cert.user.slice(0, 200))} is not a user`;
      request.log.info({ fingerprint256: cert.fingerprint256 }, 'client certificate names no user');
      throw denied(
        ErrorCode.AUTHENTICATION_FAILED,
        `authentication failed: the client certificate ${named}`,
        frame,
      );
    }
    const name = user.principal.user;
    if (login !== undefined && login !== '' && login !== name) {
      throw denied(
        ErrorCode.AUTHENTICATION_FAILED,
        `authentication failed: login ${JSON.stringify(login.slice(0, 200))} is not the ` +
          `user of the client certificate (${JSON.stringify(name)})`,
        frame,
      );
    }
    checkVhost(user, request.vhost, frame);
    return user.principal;
  }

  private user(name: string): ResolvedUser | undefined {
    return this.users[name];
  }
}

function checkVhost(user: ResolvedUser, vhost: string, frame: Frame): void {
  if (user.vhosts !== undefined && !user.vhosts.has(vhost)) {
    throw denied(
      ErrorCode.FORBIDDEN,
      `user ${JSON.stringify(user.principal.user)} may not use virtual host ${JSON.stringify(vhost)}`,
      frame,
    );
  }
}

function denied(
  code: typeof ErrorCode.AUTHENTICATION_FAILED | typeof ErrorCode.FORBIDDEN,
  message: string,
  frame: Frame,
): StompProtocolError {
  return new StompProtocolError(code, message, { frame });
}
