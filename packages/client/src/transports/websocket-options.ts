// The WebSocket shapes the transport works with (browsers' and `ws`'s), and its options.
import type { PacedReadOptions } from './read-pacer.js';

/** The subset of the W3C `WebSocket` this transport uses (matches browsers and `ws`). */
export interface WebSocketLike {
  binaryType: string;
  /** `ws` (Node) only: stop reading the socket. Browsers have no way to pause a WebSocket. */
  pause?: () => void;
  /** `ws` (Node) only: resume reading. */
  resume?: () => void;
  /** `ws` (Node) only: destroy the socket at once. */
  terminate?: () => void;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
}

/** A `WebSocket` constructor: `globalThis.WebSocket` in browsers, `ws`'s default export on Node. */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

/**
 * How WebSockets are opened and used: the options of `webSocketTransport()` (and of
 * `nodeTransport()` for `ws://` and `wss://` brokers).
 */
export interface WebSocketTransportOptions extends PacedReadOptions {
  /**
   * The WebSocket class to use (default `globalThis.WebSocket`). Node 20 has none: pass the `ws`
   * package's `WebSocket`, whose sockets can be paused (reading is then bounded like TCP).
   */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /**
   * Writes wait while more than this many bytes are queued in the socket (default 1 MiB);
   * writes under the mark never wait. With `ws` (Node) a writer wakes when `ws` reports a send
   * written out. A browser WebSocket has no drain event (`bufferedAmount` is its only
   * backpressure signal), so there the buffer is polled every `pollInterval` ms while it is over
   * the mark.
   */
  readonly highWaterMark?: number | undefined;
  /** Browsers: poll interval in ms while waiting for the send buffer to drain (default 10). */
  readonly pollInterval?: number | undefined;
  /**
   * For a WebSocket that cannot pause (a browser's): bytes received and not yet read by the
   * client before the connection is failed with `ERR_STOMP_LIMIT_EXCEEDED` (default 64 MiB).
   * Bound what a broker may send ahead with STOMP flow control (a client ack mode and a
   * `prefetch` on subscriptions) so that this limit is never reached.
   */
  readonly maxUnreadBytes?: number | undefined;
  /**
   * The constructor's third argument, where `ws` takes its options (browsers ignore it), laid over
   * the defaults, which it overrides one by one: `perMessageDeflate: false`, as `ws` would offer
   * compression, which costs several times the CPU of STOMP itself for small messages and buys
   * little on a LAN (pass `{ perMessageDeflate: true }`, or `ws`'s deflate settings, to offer
   * it); `allowSynchronousEvents: true`, so that a read's messages are handed over in one go
   * (`ws` 8.15.1 to 8.16 otherwise hand over one message per microtask).
   */
  readonly webSocketOptions?: object | undefined;
  /**
   * Send the frames written in one tick as one WebSocket message (per run of text or binary
   * frames) instead of one message per frame. Fewer, larger messages cost both ends less per
   * frame, but only brokers that read a WebSocket as a byte stream accept them (RabbitMQ
   * Web-STOMP and stompede do; ActiveMQ Classic parses one frame per message and drops the
   * rest). Default `'auto'`: when the CONNECTED frame's `server` header names RabbitMQ or
   * stompede, pack, and send every message as binary (they read bytes either way; RabbitMQ checks
   * a text message's UTF-8 byte by byte), else one message per frame; `true` packs for any broker
   * (e.g. ActiveMQ Artemis), `false` never.
   */
  readonly packFrames?: boolean | 'auto' | undefined;
}

/** Options of `connectWebSocket()`: one connection's. */
export interface ConnectWebSocketOptions extends WebSocketTransportOptions {
  /** Subprotocols to offer (default `v12.stomp`, `v11.stomp`, `v10.stomp`). */
  readonly protocols?: readonly string[] | undefined;
  /** Abort the connect attempt (the socket is closed). */
  readonly signal?: AbortSignal | undefined;
}
