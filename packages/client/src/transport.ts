// The byte-level transport contract: a Transport carries bytes, never frames, and is opened per
// connection by a TransportFactory. The built-in factories are `webSocketTransport()` (this
// entry point) and `nodeTransport()` (`@stompede/client/node`: TCP, TLS and WebSocket); tests
// inject in-memory transports.
import type { BrokerAddress, StompVersion } from '@stompede/core';

/**
 * A bidirectional byte stream to one broker.
 *
 * - Reading: iterate it (`for await (const chunk of transport)`). The client pulls the next chunk
 *   only when it has handled the previous one, so a transport that can pause its source (a TCP
 *   socket) must do so while nobody is pulling. Iteration ends when the peer closes, and throws
 *   when the connection fails. A transport is iterated once.
 * - Writing: {@link Transport.write} resolves once the chunks are accepted by the underlying
 *   socket without exceeding its buffer (after `drain` when needed), so awaiting it is the
 *   backpressure.
 *
 * The optional members are a faster path that a transport may offer: with `writeNow` the client
 * writes a frame without a promise or a timer when nothing is queued, and with `readNow` it takes
 * the chunks already received in one go instead of one iteration (a promise and a turn) each.
 * The client uses them when they are there; a transport without them works the same way.
 */
export interface Transport extends AsyncIterable<Uint8Array> {
  /** Write `chunks` in order, as one batch. Rejects with `ERR_STOMP_CONNECTION_CLOSED` once closed. */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** Flush what was written, then close gracefully. Resolves when closed. Idempotent. */
  close(): Promise<void>;
  /** Close at once, discarding anything unsent. Idempotent. */
  destroy(error?: Error): void;
  /** Resolves when the transport is closed: with the error that closed it, or `undefined`. */
  readonly closed: Promise<Error | undefined>;
  /**
   * Optional: write `chunks` as {@link Transport.write} does, synchronously. Returns `undefined`
   * when the caller need not wait (the chunks are written, or queued for this tick's batch), or
   * a promise that settles once the transport can take more (`drain`). Throws
   * `ERR_STOMP_CONNECTION_CLOSED` once closed. The client calls it only while no earlier write
   * of its own is still waiting.
   */
  writeNow?(chunks: readonly Uint8Array[]): Promise<void> | undefined;
  /**
   * Optional: the next chunk already received, or `undefined` when there is none and the client
   * must iterate (and wait). Chunks taken here are not returned by the iterator.
   */
  readNow?(): Uint8Array | undefined;
  /**
   * Optional: called once the broker accepted the connection (its CONNECTED frame was read), with
   * what it said about itself: a WebSocket transport decides there whether to pack frames.
   */
  onConnected?(info: TransportConnectedInfo): void;
}

/** What {@link Transport.onConnected} learns about the broker. */
export interface TransportConnectedInfo {
  /** The negotiated STOMP version. */
  readonly version: StompVersion;
  /** The CONNECTED frame's `server` header (`name/version`), if any. */
  readonly server: string | undefined;
  /** The CONNECTED frame's `session` header, if any. */
  readonly session: string | undefined;
}

/** Context a {@link TransportFactory} receives. */
export interface TransportContext {
  /** Aborts when the connect attempt is given up (timeout, `destroy()`, the user's signal). */
  readonly signal: AbortSignal;
  /** The STOMP versions the client offers (a WebSocket transport maps them to subprotocols). */
  readonly versions: readonly StompVersion[];
}

/**
 * Opens a transport to `broker` (one address of the broker list; see `parseFailoverUri`).
 * Rejects with a `StompConnectionError` (`ERR_STOMP_CONNECTION_REFUSED`) when the broker cannot
 * be reached.
 */
export type TransportFactory = (
  broker: BrokerAddress,
  context: TransportContext,
) => Promise<Transport>;
