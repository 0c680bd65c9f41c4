// The client's public interface. The implementation (`ClientImpl` in client-impl.ts, with the link,
// the connector and the session it drives) is internal: only what is declared here is the API.
import type { BodyInit, BrokerAddress, StompVersion } from '@stompede/core';
import type { ClientState, StatusEvent, StatusEventType } from './events.js';
import type {
  OperationOptions,
  ResolvedOptions,
  SendOptions,
  SubscribeOptions,
} from './options.js';
import type { MessageHandler, Subscription } from './subscription.js';
import type { Transaction } from './transaction.js';
import type { WaitOptions } from './util.js';

/**
 * A connected STOMP client. Create one with `connect()` (from `@stompede/client` for WebSocket,
 * `@stompede/client/node` for TCP/TLS too).
 *
 * Every operation that waits takes `timeout` and `signal`. While the client is reconnecting,
 * operations wait for the new session (`whileDisconnected: 'wait'`, bounded by
 * `disconnectedTimeout`) or fail at once (`'fail'`); waiting operations go out only after the
 * subscriptions were replayed.
 *
 * Design decisions worth knowing:
 *
 * - **Memory is bounded.** Each subscription buffers at most its `buffer` messages; when one is
 *   full the client stops reading the connection (a TCP socket or a `ws` WebSocket is paused),
 *   so a fast broker waits for a slow application. Frames already parsed from the last chunk
 *   wait in order (at most one chunk's worth). Sends that are not awaited are limited by
 *   `sendBufferLimit` bytes; beyond it `send` rejects with `ERR_STOMP_LIMIT_EXCEEDED`. A
 *   browser WebSocket cannot be paused: there, the transport's `maxUnreadBytes` caps what may
 *   pile up.
 * - **While reading is held for a full buffer, the silent-server check is suspended.** The
 *   broker's heart-beats queue behind the messages the application has not taken yet, so
 *   silence then says nothing about the broker; dropping the connection would redeliver the
 *   whole backlog. Outgoing heart-beats continue, and the check resumes, with a full period,
 *   as soon as reading does.
 * - **Only `failover:` URIs (or `reconnect`) reconnect.** A plain `tcp://` URI means "this
 *   broker": losing it fails open transactions and unacknowledged deliveries, which an
 *   application should opt into handling (as with ActiveMQ's and stompest's URIs). After a lost
 *   connection the broker that was lost is tried last (it may still accept TCP connections
 *   without answering), and every attempt is announced with a `reconnecting` event.
 * - **Messages are pulled per subscription** (`for await`, `receive()`, or a handler), not as
 *   "the next frame of any kind" like stompest's `receiveFrame`: RECEIPT and ERROR frames
 *   settle the operations that asked for them and appear as status events, so a pull of any
 *   frame would only ever see messages, and each subscription keeps its own bounded buffer.
 * - **No MESSAGE is dropped silently.** One for a subscription never made is reported as an
 *   `error` event (`ERR_STOMP_UNKNOWN_SUBSCRIPTION`) and the client goes on; one before
 *   CONNECTED fails that connect attempt (`ERR_STOMP_UNEXPECTED_FRAME`: the `error` event of a
 *   failed attempt, or the `cause` of `connect()`'s rejection). Only messages still on their
 *   way when the application unsubscribed are dropped without a word.
 */
export interface Client {
  /** Same as {@link Client.close} (defined only where the runtime has `Symbol.asyncDispose`). */
  readonly [Symbol.asyncDispose]: () => Promise<void>;
  /** The options in force: those given to `connect()`, with defaults filled in. */
  readonly options: ResolvedOptions;
  /** The current state. */
  readonly state: ClientState;
  /** The negotiated STOMP version of the current (or last) session. */
  readonly version: StompVersion | undefined;
  /** The broker of the current session, if connected. */
  readonly broker: BrokerAddress | undefined;
  /** The `server` header of the last CONNECTED frame. */
  readonly server: string | undefined;
  /** Bytes of message bodies accepted by `send()` and not yet written to the connection. */
  readonly queuedBytes: number;
  /** Resolves when the client is closed for good: with the error that closed it, if any. */
  readonly closed: Promise<Error | undefined>;

  /**
   * Listen to one kind of {@link StatusEvent}. Returns a function that removes the listener.
   * Listeners must not throw (a throwing listener is ignored).
   */
  on<T extends StatusEventType>(
    type: T,
    listener: (event: Extract<StatusEvent, { type: T }>) => void,
  ): () => void;

  /**
   * The status changes from now on, as an async iterable that ends when the client closes. Holds
   * the latest `capacity` events (default 64) when not consumed quickly enough.
   */
  status(capacity?: number): AsyncIterable<StatusEvent>;

  /**
   * Send a message. Strings are sent as UTF-8 with `content-type: text/plain;charset=utf-8`
   * unless `contentType` or a `content-type` header says otherwise; bytes are sent as they are.
   * Resolves once the frame is written (the socket accepted it: after `drain` when its buffer was
   * full, so awaiting sends is the backpressure), or when the RECEIPT arrives with
   * `{ receipt: true }`.
   *
   * Sends that are not awaited queue up to `sendBufferLimit` bytes of bodies (a single larger
   * body is accepted when nothing else is queued); beyond that `send` rejects at once with
   * `ERR_STOMP_LIMIT_EXCEEDED` instead of holding memory without bound.
   *
   * @example
   * ```ts
   * await client.send('/queue/orders', JSON.stringify(order), {
   *   contentType: 'application/json',
   *   headers: { persistent: 'true' },
   *   receipt: true,
   * });
   * ```
   */
  send(destination: string, body: BodyInit, options?: SendOptions): Promise<void>;

  /**
   * Subscribe to `destination`. Returns once SUBSCRIBE is written (or acknowledged with
   * `{ receipt: true }`). Consume with `for await`, `receive()`, or pass `handler` for the
   * callback form (each returned promise is awaited before the next message).
   *
   * @throws StompInvalidArgumentError for an unknown `ack` mode, a `buffer` that is not a
   *   positive integer, a `prefetch` that is not a non-negative integer.
   *
   * @example
   * ```ts
   * const sub = await client.subscribe('/queue/work', { ack: 'client-individual', prefetch: 10 });
   * for await (const msg of sub) {
   *   console.log(msg.text);
   *   await msg.ack();
   * }
   * ```
   */
  subscribe(
    destination: string,
    options?: SubscribeOptions,
    handler?: MessageHandler,
  ): Promise<Subscription>;

  /**
   * Start a transaction. Prefer {@link Client.transaction}, which commits or aborts for you.
   *
   * @example
   * ```ts
   * await using tx = await client.begin();
   * await tx.send('/queue/a', 'one');
   * await tx.commit();
   * ```
   */
  begin(options?: OperationOptions & { readonly id?: string }): Promise<Transaction>;

  /**
   * Run `work` in a transaction: COMMIT when it resolves, ABORT when it throws (the error is
   * rethrown). If the connection is lost meanwhile, rejects with `ERR_STOMP_CONNECTION_LOST`.
   *
   * @example
   * ```ts
   * await client.transaction(async (tx) => {
   *   await tx.send('/queue/a', 'one');
   *   await tx.ack(message);
   * }, { receipt: true });
   * ```
   */
  transaction<T>(work: (tx: Transaction) => Promise<T> | T, options?: OperationOptions): Promise<T>;

  /**
   * Close gracefully: send DISCONNECT with a receipt, wait for it (up to `timeout`, default the
   * `closeTimeout` option), then close the transport. Frames written before are processed by the
   * broker first. Subscriptions end (their buffered messages stay readable); operations still
   * waiting (for the connection, for a full socket to drain, for a receipt) reject with
   * `ERR_STOMP_CONNECTION_CLOSED`. Idempotent. Also `await using client = ...` where the runtime
   * has `Symbol.asyncDispose`.
   */
  close(options?: WaitOptions): Promise<void>;

  /**
   * Close at once without DISCONNECT; pending operations reject with `error`, or with
   * `ERR_STOMP_CONNECTION_CLOSED`.
   */
  destroy(error?: Error): void;
}
