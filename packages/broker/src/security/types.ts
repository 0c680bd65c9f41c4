// Option types of the security features (re-exported by options.ts and index.ts).
import type { LoginThrottleOptions } from './throttle.js';

/** A user of the broker. */
export interface UserOptions {
  /**
   * The password as a salted hash `scrypt$N$r$p$salt$hash` (see `stompede passwd`); never plain
   * text. Without one the user can only authenticate with a client certificate.
   */
  readonly password?: string;
  /** Groups the user belongs to (in addition to those listing it in `groups`). */
  readonly groups?: readonly string[];
  /** Virtual hosts the user may connect to. Default: every one. */
  readonly vhosts?: readonly string[];
}

/** A right on destinations: `read` to SUBSCRIBE, `write` to SEND, `create` to use a new one. */
export type Right = 'read' | 'write' | 'create';

/** One permission rule: a subject, a virtual host, destination patterns and rights. */
export interface PermissionGrant {
  /** A user name, `anonymous` (clients that did not log in) or `*` (everyone). Or give `group`. */
  readonly user?: string;
  /** A group name. */
  readonly group?: string;
  /** The virtual host; `*` for every one. Default: the broker's `defaultVhost`. */
  readonly vhost?: string;
  /** Patterns: `/queue/orders.*`, `/topic/prices.>`, or `>` for every destination. */
  readonly destinations: string | readonly string[];
  /** Rights granted, or `all`. */
  readonly rights: readonly Right[] | 'all';
}

/** The HTTP admin server (health, Prometheus metrics, actions, dashboard). */
export interface AdminOptions {
  /** Default `127.0.0.1`. Another address needs `user` and `password`. */
  readonly host?: string;
  /** Default 61680; 0 picks a free port. */
  readonly port?: number;
  /** Basic-auth user name. */
  readonly user?: string;
  /** Basic-auth password as a `scrypt$…` hash. */
  readonly password?: string;
  /**
   * Milliseconds between the samples behind the console's rates and charts (and the API's
   * `rates`). Default 5000; an hour of broker-wide samples is kept.
   */
  readonly sampleInterval?: number;
}

/** The security options of `createBroker`. */
export interface SecurityOptions {
  readonly users?: Readonly<Record<string, UserOptions>>;
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  readonly permissions?: readonly PermissionGrant[];
  readonly allowAnonymous?: boolean;
  readonly loginThrottle?: LoginThrottleOptions;
}
