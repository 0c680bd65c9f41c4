// Broker options: one exported type, frozen defaults, validated once.
import {
  type ParserLimits,
  type StompVersion,
  StompInvalidArgumentError,
  SUPPORTED_VERSIONS,
  isStompVersion,
} from '@stompede/core';
import { resolveLimits } from '@stompede/core/internal';
import { type Logger, pino } from 'pino';
import type { Engine } from './engine.js';
import type { ListenerOptions } from './listen/listener-options.js';
import type { Metrics } from './metrics.js';
import { type ResolvedAdminOptions, resolveAdmin } from './admin/options.js';
import { type ResolvedAuthentication, resolveAuthentication } from './security/authenticator.js';
import { type ResolvedAuthorization, resolveAuthorization } from './security/authorizer.js';
import { type Clock, systemClock } from './session/clock.js';
import { checkTls } from './listen/tls-options.js';
import { originPolicy } from './listen/origin.js';
import type { LoginThrottleOptions } from './security/throttle.js';
import type { AdminOptions, PermissionGrant, UserOptions } from './security/types.js';

export type {
  ListenerOptions,
  TcpListenerOptions,
  TlsListenerOptions,
  WsListenerOptions,
} from './listen/listener-options.js';

/** How persistent messages are stored (with {@link BrokerOptions.dataDir}). */
export interface PersistenceOptions {
  /** Make every message persistent, whatever its `persistent` header says. Default false. */
  readonly persistAll?: boolean;
  /**
   * fdatasync each group of writes before receipting them. Default true; false trades crash
   * safety (a power loss, not a process crash) for speed.
   */
  readonly fsync?: boolean;
  /** Bytes per journal segment file. Default 64 MiB. */
  readonly segmentSize?: number;
  /**
   * Bytes of message data held in memory beyond which persistent messages are kept on disk only
   * and paged in as consumers reach them. Default half of `memoryLimit` (64 MiB without a limit).
   */
  readonly pageOutBytes?: number;
  /**
   * At start, read and checksum every journal record even when the clean-shutdown checkpoint
   * matches the journal (by default a clean restart rebuilds from the checkpoint and damage is
   * found when a message is read). Default false.
   */
  readonly verifyOnStart?: boolean;
  /**
   * Free bytes on the disk of `dataDir` below which persistent SENDs are refused with
   * ERR_STOMP_DISK_FULL (non-persistent messages, ACKs and NACKs go on, so consumers can free
   * space; persistent SENDs are taken again once space is back). Default 50 MiB (RabbitMQ's
   * `disk_free_limit`); 0 refuses only once a write finds the disk full.
   */
  readonly diskFreeLimit?: number;
  /** Milliseconds between readings of the free disk space (every second while refusing). Default 5000. */
  readonly diskCheckInterval?: number;
}

/** Options of {@link createBroker}. Every field is optional. */
export interface BrokerOptions {
  /** Listeners {@link Broker.listen} opens. Default one TCP listener on 127.0.0.1:61613. */
  readonly listeners?: readonly ListenerOptions[];
  /** A pino logger; a child per session is derived from it. Default: silent. */
  readonly logger?: Logger;
  /** The message store and router. Default: a new engine, durable with `dataDir`. */
  readonly engine?: Engine;
  /**
   * The counters the broker keeps. Pass the ones an {@link engine} built outside the broker
   * counts into (e.g. a cluster engine), so that the admin API shows one set. Default: new ones.
   */
  readonly metrics?: Metrics;
  /**
   * Directory of the embedded store: persistent messages (`persistent:true`) sent to queues and
   * durable subscriptions are written there before their RECEIPT and survive restarts and
   * crashes. Default: none, every message in memory (the `stompede broker` command defaults to
   * `./data`).
   */
  readonly dataDir?: string;
  /** Settings of the store in `dataDir`. */
  readonly persistence?: PersistenceOptions;
  /** Name in the CONNECTED `server` header. Default `stompede/0.1.0`. */
  readonly serverName?: string;
  /** Versions offered. Default 1.0, 1.1 and 1.2. */
  readonly versions?: readonly StompVersion[];
  /**
   * Virtual hosts the CONNECT `host` header selects among; an unknown host is refused. Empty
   * (default): every host maps to `defaultVhost`.
   */
  readonly vhosts?: readonly string[];
  /** The virtual host of sessions whose CONNECT names none (or of all, without `vhosts`). Default `/`. */
  readonly defaultVhost?: string;
  /**
   * Heart-beat bounds in ms, `[floor, ceiling]`: the broker follows the period each client asks
   * for, each way, raised to the floor and, for its own beats, lowered to the ceiling (see
   * docs/broker.md). `[0, 0]` turns heart-beats off. Default [1000, 60000].
   */
  readonly heartbeat?: readonly [number, number];
  /** A peer silent for longer than its heart-beat period times this factor is closed. Default 1.5. */
  readonly heartbeatGrace?: number;
  /** Milliseconds a new connection has to send CONNECT. Default 10000. */
  readonly connectTimeout?: number;
  /** Bytes a connection may send before its CONNECT frame is complete. Default 64 KiB. */
  readonly maxPreConnectBytes?: number;
  /**
   * Milliseconds a frame may take to arrive, from the chunk it begins in to its last byte,
   * whatever the heart-beats (time the broker itself stops reading, while a frame before it is
   * processed, does not count). Default 30000; 0 = no limit.
   */
  readonly frameTimeout?: number;
  /**
   * Bytes all connections together may hold in frames not received whole yet; the connection that
   * goes over gets an ERROR. Default: `memoryLimit` (256 MiB); 0 = no limit.
   */
  readonly maxPartialFrameBytes?: number;
  /** The same, for the connections from one address. Default: twice `limits.maxFrameSize`; 0 = no limit. */
  readonly maxPartialFrameBytesPerAddress?: number;
  /** Frame size limits (see core's `DEFAULT_LIMITS`). */
  readonly limits?: Partial<ParserLimits>;
  /** Bytes of message data held before producers are paused. Default 256 MiB; 0 = no limit. */
  readonly memoryLimit?: number;
  /** Deliveries after which a message goes to `/queue/DLQ.NAME`. Default 10; 0 = never. */
  readonly maxDeliveries?: number;
  /** Unacknowledged messages per client-ack subscription when it names no prefetch. Default 1000. */
  readonly defaultPrefetch?: number;
  /** Messages a slow non-durable topic subscriber may have pending before the oldest are dropped. Default 10000. */
  readonly maxTopicPending?: number;
  /**
   * Bytes a slow non-durable topic subscriber may have pending before the oldest are dropped.
   * Default a sixteenth of `memoryLimit` (16 MiB); 0 = no limit.
   */
  readonly maxTopicPendingBytes?: number;
  /**
   * Bytes of waiting messages a queue, temporary queue or durable subscription may hold in
   * memory: beyond it, persistent messages stay on disk only (with `dataDir`), and producers of
   * that destination (only) wait until it has room. Default a quarter of `memoryLimit` (64 MiB);
   * 0 = no limit.
   */
  readonly maxQueueBytes?: number;
  /**
   * Queues each virtual host may hold (as RabbitMQ's `max-queues` vhost limit): named queues,
   * temporary queues and durable topic subscriptions. A SEND, SUBSCRIBE, transaction or admin
   * create that would make one more gets ERR_STOMP_LIMIT_EXCEEDED; dead-letter queues are
   * created even at the limit (see docs/security.md). Default 10,000; 0 = no limit.
   */
  readonly maxQueues?: number;
  /** Subscriptions per connection. Default 1000. */
  readonly maxSubscriptions?: number;
  /** Open transactions per connection. Default 100. */
  readonly maxTransactions?: number;
  /** Frames one transaction may hold. Default 10000. */
  readonly maxTransactionFrames?: number;
  /** After an ERROR, milliseconds to wait for the peer to close before destroying the socket. Default 2000. */
  readonly errorLinger?: number;
  /** Milliseconds {@link Broker.close} waits for connections to flush before destroying them. Default 5000. */
  readonly closeTimeout?: number;
  /** Users who may log in (CONNECT `login`/`passcode`): name → password hash and groups. Default none. */
  readonly users?: Readonly<Record<string, UserOptions>>;
  /** Groups: name → member user names. */
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  /** Permission rules (docs/security.md). Default: none, and every session may do everything. */
  readonly permissions?: readonly PermissionGrant[];
  /**
   * Accept sessions that do not log in. Default: true when every listener is on loopback; with
   * a non-loopback listener, false when users are configured, else createBroker refuses.
   */
  readonly allowAnonymous?: boolean;
  /** Delays after failed logins from one address. */
  readonly loginThrottle?: LoginThrottleOptions;
  /** Connections open at once; more are refused at accept. Default 10000. */
  readonly maxConnections?: number;
  /**
   * Connections open at once from one address. Default: `maxConnections` (no limit of its own:
   * behind a load balancer or a NAT every client shares one address). Set it lower on a broker
   * that clients reach directly, to keep one host from taking every connection.
   */
  readonly maxConnectionsPerAddress?: number;
  /** Unacknowledged messages per subscription, whatever prefetch it asks for. Default 10000. */
  readonly maxUnackedPerSubscription?: number;
  /** The HTTP admin server (metrics, health, actions, dashboard). Default: off. */
  readonly admin?: AdminOptions;
  /**
   * The source of time for the session layer's timers (CONNECT timeout, heart-beats, ERROR
   * linger) and for message expiry (a relative `expiration` counts from its `now()`, which the
   * built-in engine compares expiry times with; ms since the epoch). Default: the system clock.
   * Tests inject a manual clock to make timing exact.
   */
  readonly clock?: Clock;
}

/** The security settings after validation: authentication and authorization. */
export type ResolvedSecurity = ResolvedAuthentication & ResolvedAuthorization;

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly listeners: readonly ListenerOptions[];
  readonly logger: Logger;
  readonly engine: Engine | undefined;
  readonly metrics: Metrics | undefined;
  readonly dataDir: string | undefined;
  readonly persistence: Required<Omit<PersistenceOptions, 'pageOutBytes'>> & {
    readonly pageOutBytes: number | undefined;
  };
  readonly serverName: string;
  readonly versions: readonly StompVersion[];
  /**
   * The oldest of `versions`: its header rules are the strictest (1.0 escapes nothing, 1.1 has
   * no escape for CR), so a header it can carry can go to every subscriber.
   */
  readonly strictestVersion: StompVersion;
  readonly vhosts: readonly string[];
  readonly defaultVhost: string;
  readonly heartbeat: readonly [number, number];
  readonly heartbeatGrace: number;
  readonly connectTimeout: number;
  readonly maxPreConnectBytes: number;
  readonly frameTimeout: number;
  readonly maxPartialFrameBytes: number;
  readonly maxPartialFrameBytesPerAddress: number;
  readonly limits: ParserLimits;
  readonly memoryLimit: number;
  readonly maxDeliveries: number;
  readonly defaultPrefetch: number;
  readonly maxTopicPending: number;
  readonly maxTopicPendingBytes: number;
  readonly maxQueueBytes: number;
  readonly maxQueues: number;
  readonly maxSubscriptions: number;
  readonly maxTransactions: number;
  readonly maxTransactionFrames: number;
  readonly errorLinger: number;
  readonly closeTimeout: number;
  readonly security: ResolvedSecurity;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly maxUnackedPerSubscription: number;
  readonly admin: ResolvedAdminOptions | undefined;
  readonly clock: Clock;
}

/** The defaults. */
export const DEFAULTS = Object.freeze({
  serverName: 'stompede/0.1.0',
  defaultVhost: '/',
  heartbeat: Object.freeze([1000, 60_000] as const),
  heartbeatGrace: 1.5,
  connectTimeout: 10_000,
  maxPreConnectBytes: 64 * 1024,
  frameTimeout: 30_000,
  memoryLimit: 256 * 1024 * 1024,
  maxDeliveries: 10,
  defaultPrefetch: 1000,
  maxTopicPending: 10_000,
  /** As LocalEngine's own default (engine/queue-cap.ts). */
  maxQueues: 10_000,
  maxSubscriptions: 1000,
  maxTransactions: 100,
  maxTransactionFrames: 10_000,
  errorLinger: 2000,
  closeTimeout: 5000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 10_000,
  maxUnackedPerSubscription: 10_000,
});

function count(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StompInvalidArgumentError(`${name} must be an integer >= ${String(min)}`);
  }
  return value;
}

function port(name: string, value: number | undefined, fallback: number): number {
  const p = count(name, value, fallback);
  if (p > 65535) throw new StompInvalidArgumentError(`${name} must be a port number (0-65535)`);
  return p;
}

/**
 * Merge `options` over {@link DEFAULTS} and validate every field, once; the result is frozen
 * data (the broker builds its services from it and never changes it).
 */
export function resolveOptions(options: BrokerOptions = {}): ResolvedOptions {
  const versions = options.versions ?? SUPPORTED_VERSIONS;
  if (versions.length === 0 || versions.some((v) => !isStompVersion(v))) {
    throw new StompInvalidArgumentError('versions must list one or more of 1.0, 1.1, 1.2');
  }
  const limits = resolveLimits(options.limits);
  const memoryLimit = count('memoryLimit', options.memoryLimit, DEFAULTS.memoryLimit);
  const heartbeat = options.heartbeat ?? DEFAULTS.heartbeat;
  count('heartbeat[0]', heartbeat[0], 0);
  count('heartbeat[1]', heartbeat[1], 0);
  if (heartbeat[0] > heartbeat[1]) {
    throw new StompInvalidArgumentError(
      'heartbeat is [floor, ceiling] in ms ([0, 0]: off): the floor must not exceed the ceiling',
    );
  }
  const grace = options.heartbeatGrace ?? DEFAULTS.heartbeatGrace;
  if (!(grace >= 1)) throw new StompInvalidArgumentError('heartbeatGrace must be >= 1');
  const listeners = (options.listeners ?? [{ protocol: 'tcp' }]).map((l, i) => {
    const where = `listeners[${String(i)}]`;
    switch (l.protocol) {
      case 'tcp':
        return Object.freeze({ ...l, port: port(`${where}.port`, l.port, 61613) });
      case 'tls':
        if (typeof l.certFile !== 'string' || typeof l.keyFile !== 'string') {
          throw new StompInvalidArgumentError(
            `${where}: a tls listener needs certFile and keyFile`,
          );
        }
        checkTls(l, where);
        return Object.freeze({ ...l, port: port(`${where}.port`, l.port, 61614) });
      case 'ws':
        if (l.allowedOrigins !== undefined) {
          if (!Array.isArray(l.allowedOrigins)) {
            throw new StompInvalidArgumentError(`${where}.allowedOrigins must be a list`);
          }
          originPolicy(l.allowedOrigins, l.host ?? '127.0.0.1', `${where}.allowedOrigins`);
        }
        return Object.freeze({ ...l, port: port(`${where}.port`, l.port, 15674) });
      default:
        throw new StompInvalidArgumentError(`${where}.protocol must be "tcp", "tls" or "ws"`);
    }
  });
  return Object.freeze({
    listeners: Object.freeze(listeners),
    logger: options.logger ?? pino({ level: 'silent' }),
    engine: options.engine,
    metrics: options.metrics,
    dataDir: options.dataDir,
    persistence: Object.freeze({
      persistAll: options.persistence?.persistAll ?? false,
      fsync: options.persistence?.fsync ?? true,
      verifyOnStart: options.persistence?.verifyOnStart ?? false,
      segmentSize: count(
        'persistence.segmentSize',
        options.persistence?.segmentSize,
        64 * 1024 * 1024,
        64 * 1024,
      ),
      diskFreeLimit: count(
        'persistence.diskFreeLimit',
        options.persistence?.diskFreeLimit,
        50 * 1024 * 1024,
      ),
      diskCheckInterval: count(
        'persistence.diskCheckInterval',
        options.persistence?.diskCheckInterval,
        5000,
        10,
      ),
      pageOutBytes:
        options.persistence?.pageOutBytes === undefined
          ? undefined
          : count('persistence.pageOutBytes', options.persistence.pageOutBytes, 0),
    }),
    serverName: options.serverName ?? DEFAULTS.serverName,
    versions: Object.freeze([...versions]),
    strictestVersion: [...versions].sort()[0]!,
    vhosts: Object.freeze([...(options.vhosts ?? [])]),
    defaultVhost: options.defaultVhost ?? DEFAULTS.defaultVhost,
    heartbeat: Object.freeze([heartbeat[0], heartbeat[1]] as const),
    heartbeatGrace: grace,
    connectTimeout: count('connectTimeout', options.connectTimeout, DEFAULTS.connectTimeout, 1),
    maxPreConnectBytes: count(
      'maxPreConnectBytes',
      options.maxPreConnectBytes,
      DEFAULTS.maxPreConnectBytes,
      64,
    ),
    frameTimeout: count('frameTimeout', options.frameTimeout, DEFAULTS.frameTimeout),
    maxPartialFrameBytes: count('maxPartialFrameBytes', options.maxPartialFrameBytes, memoryLimit),
    maxPartialFrameBytesPerAddress: count(
      'maxPartialFrameBytesPerAddress',
      options.maxPartialFrameBytesPerAddress,
      2 * limits.maxFrameSize,
    ),
    limits,
    memoryLimit,
    maxDeliveries: count('maxDeliveries', options.maxDeliveries, DEFAULTS.maxDeliveries),
    defaultPrefetch: count('defaultPrefetch', options.defaultPrefetch, DEFAULTS.defaultPrefetch, 1),
    maxTopicPending: count('maxTopicPending', options.maxTopicPending, DEFAULTS.maxTopicPending),
    maxTopicPendingBytes: count(
      'maxTopicPendingBytes',
      options.maxTopicPendingBytes,
      Math.floor(memoryLimit / 16),
    ),
    maxQueueBytes: count('maxQueueBytes', options.maxQueueBytes, Math.floor(memoryLimit / 4)),
    maxQueues: count('maxQueues', options.maxQueues, DEFAULTS.maxQueues),
    maxSubscriptions: count(
      'maxSubscriptions',
      options.maxSubscriptions,
      DEFAULTS.maxSubscriptions,
      1,
    ),
    maxTransactions: count('maxTransactions', options.maxTransactions, DEFAULTS.maxTransactions, 1),
    maxTransactionFrames: count(
      'maxTransactionFrames',
      options.maxTransactionFrames,
      DEFAULTS.maxTransactionFrames,
      1,
    ),
    errorLinger: count('errorLinger', options.errorLinger, DEFAULTS.errorLinger),
    closeTimeout: count('closeTimeout', options.closeTimeout, DEFAULTS.closeTimeout),
    clock: options.clock ?? systemClock,
    ...resolveSecurity(options, listeners),
  });
}

function resolveSecurity(
  options: BrokerOptions,
  listeners: readonly ListenerOptions[],
): Pick<
  ResolvedOptions,
  'security' | 'maxConnections' | 'maxConnectionsPerAddress' | 'maxUnackedPerSubscription' | 'admin'
> {
  const maxConnections = count(
    'maxConnections',
    options.maxConnections,
    DEFAULTS.maxConnections,
    1,
  );
  const limits = {
    maxConnections,
    maxConnectionsPerAddress: count(
      'maxConnectionsPerAddress',
      options.maxConnectionsPerAddress,
      maxConnections,
      1,
    ),
  };
  const hosts = listeners.map((l) => l.host ?? '127.0.0.1');
  const vhost = options.defaultVhost ?? DEFAULTS.defaultVhost;
  // Frozen: options are data once validated; the broker builds its services from them.
  return Object.freeze({
    ...limits,
    maxUnackedPerSubscription: count(
      'maxUnackedPerSubscription',
      options.maxUnackedPerSubscription,
      DEFAULTS.maxUnackedPerSubscription,
      1,
    ),
    security: Object.freeze({
      ...resolveAuthentication(options, hosts),
      ...resolveAuthorization(options.permissions, vhost),
    }),
    admin: resolveAdmin(options.admin),
  });
}
