// Option types of the client and their validation (once, at connect time; a subscription's when
// it is made). Transport options (sockets, TLS, WebSocket) belong to the transport factories.
import {
  type AckMode,
  type FailoverOptions,
  type HeadersInit,
  type HeartBeat,
  isAckMode,
  isStompVersion,
  type ParserLimits,
  type StompVersion,
  StompInvalidArgumentError,
} from '@stompede/core';
import { headerPairs } from './frame-options.js';
import type { TransportFactory } from './transport.js';
import type { WaitOptions } from './util.js';

/** What the client does with an operation attempted while it is not connected. */
export type DisconnectedPolicy =
  /** Wait (up to `disconnectedTimeout`) until the connection is back and subscriptions replayed. */
  | 'wait'
  /** Reject at once with `ERR_STOMP_CONNECTION_LOST`. */
  | 'fail';

/**
 * Options of `connect()`: the STOMP session's. How the bytes travel (TCP, TLS, WebSocket and
 * their settings) is the `transport` factory's business: `webSocketTransport({...})` or, on
 * Node, `nodeTransport({...})`. Every field is optional except a way to reach a broker.
 */
export interface ConnectOptions {
  /**
   * The broker: `tcp://host:61613`, `ssl://…`, `ws://host:15674/ws`, `wss://…`, or an ActiveMQ
   * failover URI `failover:(tcp://a:61613,tcp://b:61613)?randomize=false&maxReconnectAttempts=5`
   * (options as in `parseFailoverUri` of `@stompede/core`).
   */
  readonly url?: string | undefined;
  /**
   * Opens the byte stream to a broker, with the transport's own options. Default:
   * `webSocketTransport()` from `@stompede/client` (WebSocket for `ws`/`wss`), or
   * `nodeTransport()` from `@stompede/client/node` (TCP, TLS and WebSocket); pass one of them
   * with options (`nodeTransport({ tls: { ca }, WebSocket })`), or a factory of your own.
   */
  readonly transport?: TransportFactory | undefined;
  /** The `login` header. A login in the URI (`tcp://user:pass@host`) is used when this is absent. */
  readonly login?: string | undefined;
  /** The `passcode` header. */
  readonly passcode?: string | undefined;
  /** The `host` header: the virtual host (default: the broker's host name). */
  readonly host?: string | undefined;
  /** Versions to offer (default `['1.0', '1.1', '1.2']`). */
  readonly versions?: readonly StompVersion[] | undefined;
  /**
   * Heart-beat wishes in ms, `[canSend, wantReceive]` (default `[10000, 10000]`; `[0, 0]` for none).
   */
  readonly heartBeat?: HeartBeat | undefined;
  /**
   * Extra silence tolerated beyond the negotiated receive period before the connection is declared
   * lost, in ms. Default: the period plus 1000 ms, so the connection is lost after two periods
   * and a second of silence. Brokers may legitimately leave almost two periods between beats:
   * ActiveMQ sends one only when it wrote nothing during a whole check period.
   */
  readonly heartBeatGrace?: number | undefined;
  /** Extra CONNECT headers (e.g. `client-id` for ActiveMQ durable topics). */
  readonly headers?: HeadersInit | undefined;
  /** Use the `STOMP` command instead of `CONNECT` when 1.0 is not offered (default `false`). */
  readonly stompCommand?: boolean | undefined;
  /** Time allowed for one connect attempt, transport and CONNECTED together (default 30000 ms). */
  readonly connectTimeout?: number | undefined;
  /** Aborts the initial connect. */
  readonly signal?: AbortSignal | undefined;
  /** Default time to wait for a RECEIPT (default 30000 ms). */
  readonly receiptTimeout?: number | undefined;
  /** Time `close()` waits for the DISCONNECT receipt before closing anyway (default 10000 ms). */
  readonly closeTimeout?: number | undefined;
  /**
   * Reconnect after a lost connection. Default: on for `failover:` URIs (with the URI's options),
   * off otherwise. `true` turns it on with the URI's options; an object overrides some of them.
   *
   * A plain `tcp://` URI does not reconnect on purpose: a reconnect loses open transactions and
   * makes unacknowledged messages stale (redelivered), which an application should opt into.
   */
  readonly reconnect?: boolean | Partial<FailoverOptions> | undefined;
  /** Random source in [0, 1) for broker shuffling and jitter (default `Math.random`). */
  readonly random?: (() => number) | undefined;
  /** Operations attempted while disconnected: `'wait'` (default) or `'fail'`. */
  readonly whileDisconnected?: DisconnectedPolicy | undefined;
  /** Longest wait for the connection under `whileDisconnected: 'wait'` (default 30000 ms). */
  readonly disconnectedTimeout?: number | undefined;
  /**
   * Default buffer of a subscription, in messages (default 256). When a buffer is full the client
   * stops reading the socket until the application catches up.
   */
  readonly subscriptionBuffer?: number | undefined;
  /** Parser limits for frames from the broker. */
  readonly limits?: Partial<ParserLimits> | undefined;
  /**
   * Bytes of message bodies that `send()` calls not yet written may hold (default 16 MiB;
   * strings count one byte per character). Beyond it `send` rejects with
   * `ERR_STOMP_LIMIT_EXCEEDED`; a single larger body is accepted when nothing else is queued.
   */
  readonly sendBufferLimit?: number | undefined;
  /**
   * Longest wait for the connection to accept a frame (its socket buffer to drain) when an
   * operation names no `timeout` (default 30000 ms).
   */
  readonly writeTimeout?: number | undefined;
}

/** Options every operation that writes a frame takes. */
export interface OperationOptions extends WaitOptions {
  /**
   * Ask for a RECEIPT and resolve only when it arrives (within `timeout`, default the client's
   * `receiptTimeout`). Without it the operation resolves once the frame is written.
   */
  readonly receipt?: boolean | undefined;
}

/** Options of {@link Client.send}. */
export interface SendOptions extends OperationOptions {
  /** Extra headers (`content-type`, `persistent`, `reply-to`, `expires`, ...). */
  readonly headers?: HeadersInit | undefined;
  /** The `content-type` header (default `text/plain;charset=utf-8` for strings, none for bytes). */
  readonly contentType?: string | undefined;
}

/** Options of {@link Client.subscribe}. */
export interface SubscribeOptions extends OperationOptions {
  /** Acknowledgement mode (default `'auto'`). */
  readonly ack?: AckMode | undefined;
  /** Extra SUBSCRIBE headers (`selector`, `durable`, `activemq.subscriptionName`, ...). */
  readonly headers?: HeadersInit | undefined;
  /**
   * Messages the broker may send before acknowledgements: sets `prefetch-count` (RabbitMQ) and
   * `activemq.prefetchSize` (ActiveMQ). Only meaningful with a client ack mode.
   */
  readonly prefetch?: number | undefined;
  /** This subscription's buffer in messages (default the client's `subscriptionBuffer`). */
  readonly buffer?: number | undefined;
  /** The subscription id (default: generated, `0`, `1`, ...). Kept across reconnects. */
  readonly id?: string | undefined;
}

/** The session options a client uses: those given to `connect()`, with defaults filled in. */
export interface ResolvedOptions {
  readonly login: string | undefined;
  readonly passcode: string | undefined;
  readonly host: string | undefined;
  readonly versions: readonly StompVersion[];
  readonly heartBeat: HeartBeat;
  readonly heartBeatGrace: number | undefined;
  readonly headers: HeadersInit | undefined;
  readonly stompCommand: boolean;
  readonly connectTimeout: number;
  readonly receiptTimeout: number;
  readonly closeTimeout: number;
  readonly whileDisconnected: DisconnectedPolicy;
  readonly disconnectedTimeout: number;
  readonly subscriptionBuffer: number;
  readonly limits: Partial<ParserLimits> | undefined;
  readonly sendBufferLimit: number;
  readonly writeTimeout: number;
}

const DEFAULTS = Object.freeze({
  versions: Object.freeze(['1.0', '1.1', '1.2'] as StompVersion[]),
  heartBeat: Object.freeze([10000, 10000] as const),
  connectTimeout: 30000,
  receiptTimeout: 30000,
  closeTimeout: 10000,
  whileDisconnected: 'wait',
  disconnectedTimeout: 30000,
  subscriptionBuffer: 256,
  sendBufferLimit: 16 * 1024 * 1024,
  writeTimeout: 30000,
});

/**
 * Options `connect()` took before they moved to the transport factories, and where they go now:
 * naming one is an error that says so, rather than an option silently ignored.
 */
const TRANSPORT_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  WebSocket: 'webSocketTransport({ WebSocket }), or nodeTransport({ WebSocket }) on Node',
  webSocketOptions: 'webSocketTransport({ webSocketOptions }) (or nodeTransport)',
  webSocketPackFrames: 'webSocketTransport({ packFrames }) (or nodeTransport)',
  maxUnreadBytes: 'webSocketTransport({ maxUnreadBytes }) (or nodeTransport)',
  readNapMs: 'nodeTransport({ readNapMs }) (or webSocketTransport)',
  tls: 'nodeTransport({ tls })',
  noDelay: 'nodeTransport({ noDelay })',
  keepAlive: 'nodeTransport({ keepAlive })',
});

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new StompInvalidArgumentError(`${name} must be a non-negative number of milliseconds`);
  }
  return value;
}

/** @internal Validate the options once and fill in defaults. */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  for (const [name, where] of Object.entries(TRANSPORT_OPTIONS)) {
    if ((options as Readonly<Record<string, unknown>>)[name] !== undefined) {
      throw new StompInvalidArgumentError(
        `${name} is an option of the transport, not of connect(): pass it as ` +
          `{ transport: ${where} }`,
      );
    }
  }
  const versions = options.versions ?? DEFAULTS.versions;
  if (versions.length === 0 || !versions.every((v) => isStompVersion(v))) {
    throw new StompInvalidArgumentError('versions must list STOMP versions: "1.0", "1.1", "1.2"');
  }
  const heartBeat = options.heartBeat ?? DEFAULTS.heartBeat;
  if (
    (heartBeat as readonly number[]).length !== 2 ||
    !heartBeat.every((n) => Number.isSafeInteger(n) && n >= 0)
  ) {
    throw new StompInvalidArgumentError('heartBeat must be [canSend, wantReceive] in whole ms');
  }
  const policy = options.whileDisconnected ?? DEFAULTS.whileDisconnected;
  if (!['wait', 'fail'].includes(policy)) {
    throw new StompInvalidArgumentError('whileDisconnected must be "wait" or "fail"');
  }
  const buffer = options.subscriptionBuffer ?? DEFAULTS.subscriptionBuffer;
  if (!Number.isSafeInteger(buffer) || buffer < 1) {
    throw new StompInvalidArgumentError('subscriptionBuffer must be a positive integer');
  }
  return Object.freeze({
    login: options.login,
    passcode: options.passcode,
    host: options.host,
    versions,
    heartBeat,
    heartBeatGrace:
      options.heartBeatGrace === undefined
        ? undefined
        : duration('heartBeatGrace', options.heartBeatGrace, 0),
    headers: options.headers,
    stompCommand: options.stompCommand ?? false,
    connectTimeout: duration('connectTimeout', options.connectTimeout, DEFAULTS.connectTimeout),
    receiptTimeout: duration('receiptTimeout', options.receiptTimeout, DEFAULTS.receiptTimeout),
    closeTimeout: duration('closeTimeout', options.closeTimeout, DEFAULTS.closeTimeout),
    whileDisconnected: policy,
    disconnectedTimeout: duration(
      'disconnectedTimeout',
      options.disconnectedTimeout,
      DEFAULTS.disconnectedTimeout,
    ),
    subscriptionBuffer: buffer,
    limits: options.limits,
    sendBufferLimit: duration('sendBufferLimit', options.sendBufferLimit, DEFAULTS.sendBufferLimit),
    writeTimeout: duration('writeTimeout', options.writeTimeout, DEFAULTS.writeTimeout),
  });
}

/** @internal A subscription's options after defaults and validation. */
export interface ResolvedSubscription {
  readonly ack: AckMode;
  readonly buffer: number;
  /** The SUBSCRIBE headers: the caller's, then the prefetch headers. */
  readonly headers: [string, string][];
}

/** @internal Validate a subscription's options and fill in defaults. */
export function resolveSubscribeOptions(
  options: SubscribeOptions,
  defaults: ResolvedOptions,
): ResolvedSubscription {
  const ack = options.ack ?? 'auto';
  if (!isAckMode(ack, '1.2')) {
    throw new StompInvalidArgumentError(`unknown ack mode ${JSON.stringify(ack)}`);
  }
  const buffer = options.buffer ?? defaults.subscriptionBuffer;
  if (!Number.isSafeInteger(buffer) || buffer < 1) {
    throw new StompInvalidArgumentError('buffer must be a positive integer');
  }
  const headers = headerPairs(options.headers);
  const prefetch = options.prefetch;
  if (prefetch !== undefined) {
    if (!Number.isSafeInteger(prefetch) || prefetch < 0) {
      throw new StompInvalidArgumentError('prefetch must be a non-negative integer');
    }
    headers.push(['prefetch-count', String(prefetch)], ['activemq.prefetchSize', String(prefetch)]);
  }
  return { ack, buffer, headers };
}
