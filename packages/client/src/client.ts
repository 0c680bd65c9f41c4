// The client: drives one core ClientSession over a succession of injected transports, with
// receipts, heart-beats, failover and subscription replay. The session holds the protocol state
// (subscriptions to replay, open transactions, awaited receipts); this file owns the sockets, the
// timers and the promises callers wait on.
import {
  type BodyInit,
  type BrokerAddress,
  ClientSession,
  encodeFrame,
  ErrorCode,
  FailoverSchedule,
  type FailoverUri,
  type Frame,
  type SendFrameOptions,
  FrameParser,
  HEARTBEAT_BYTES,
  isAckMode,
  interpretError,
  parseFailoverUri,
  SessionState,
  type SerializerOptions,
  type StompVersion,
  StompConnectionError,
  StompError,
  StompInvalidArgumentError,
  StompServerError,
} from '@stompede/core';
import { type AckOptions, Message, type MessageOwner } from './message.js';
import {
  type ConnectOptions,
  type OperationOptions,
  type ResolvedOptions,
  resolveOptions,
  type SendOptions,
  type SubscribeOptions,
} from './options.js';
import { AsyncQueue } from './queue.js';
import { type MessageHandler, Subscription, type SubscriptionOwner } from './subscription.js';
import { clearTimer, setTimer, type TimerHandle } from './ticker.js';
import { Transaction, type TransactionOwner } from './transaction.js';
import {
  brokerServer,
  isServerAware,
  isSyncReadable,
  isSyncWritable,
  readNow,
  type Transport,
  type TransportFactory,
  writeNow,
} from './transport.js';
import {
  abortError,
  type Deferred,
  deferred,
  defineAsyncDispose,
  sleep,
  waitFor,
  type WaitOptions,
} from './util.js';

/** Where a client stands. */
export const ClientState = {
  /** The first connection is being made. */
  CONNECTING: 'connecting',
  /** Connected; operations go out at once. */
  CONNECTED: 'connected',
  /** The connection was lost and the failover schedule is running. */
  RECONNECTING: 'reconnecting',
  /** `close()` is in progress. */
  CLOSING: 'closing',
  /** Closed for good (by `close()`, `destroy()` or a fatal error). */
  CLOSED: 'closed',
} as const;
/** One of the {@link ClientState} values. */
export type ClientState = (typeof ClientState)[keyof typeof ClientState];

/** A change in the client's connection, as `client.on()` and `client.status()` report it. */
export type StatusEvent =
  | {
      /** A session was established (first connect or reconnect, after subscriptions were replayed). */
      readonly type: 'connected';
      readonly broker: BrokerAddress;
      readonly version: StompVersion;
      readonly server: string | undefined;
      readonly session: string | undefined;
      /** True after a reconnect. */
      readonly reconnected: boolean;
    }
  | {
      /** The connection was lost (or closed). */
      readonly type: 'disconnected';
      readonly broker: BrokerAddress;
      readonly error: Error | undefined;
    }
  | {
      /** A reconnect attempt is about to be made after `delay` ms. */
      readonly type: 'reconnecting';
      readonly broker: BrokerAddress;
      readonly attempt: number;
      readonly delay: number;
    }
  | {
      /** An ERROR frame, a failed attempt or a failing message handler; the client may go on. */
      readonly type: 'error';
      readonly error: Error;
    }
  | {
      /** The client is closed for good; `error` is why, when it did not close on request. */
      readonly type: 'closed';
      readonly error: Error | undefined;
    };

/** The type names of {@link StatusEvent}. */
export type StatusEventType = StatusEvent['type'];

type Listener = (event: StatusEvent) => void;

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** One transport and the STOMP connection on it. */
class Link {
  readonly parser: FrameParser;
  readonly handshake: Deferred<Frame> = deferred<Frame>();
  version: StompVersion = '1.2';
  connected = false;
  dead = false;

  /** False once the link was killed (a method, so checks after an await are not narrowed away). */
  isAlive(): boolean {
    return !this.dead;
  }
  /** The read loop is waiting for a full subscription buffer (the socket is not read). */
  blocked = false;
  lastRead = Date.now();
  lastWrite = Date.now();
  /** Frames queued for the transport, written or not. */
  writing = 0;
  #parsed: Frame[] = [];
  #chain: Promise<void> = Promise.resolve();
  // Heart-beat timers come from the ticker: in a browser page they run in a worker, so that
  // background-tab throttling does not delay them past the broker's patience.
  #sendTimer: TimerHandle | undefined;
  #receiveTimer: TimerHandle | undefined;

  constructor(
    readonly generation: number,
    readonly broker: BrokerAddress,
    readonly transport: Transport,
    options: ResolvedOptions,
  ) {
    this.parser = new FrameParser(
      {
        onFrame: (frame) => {
          this.#parsed.push(frame);
        },
      },
      options.limits ? { limits: options.limits } : {},
    );
  }

  /** Parse one chunk and return its frames, in order. */
  parse(chunk: Uint8Array): Frame[] {
    this.#parsed = [];
    this.parser.push(chunk);
    const frames = this.#parsed;
    this.#parsed = [];
    return frames;
  }

  /**
   * Write a frame after the frames before it; resolves once the transport accepted it (after
   * `drain` when the socket's buffer was full). A wait that gives up before the frame reached
   * the transport takes it out of the queue; after that, the frame goes out anyway.
   */
  write(frame: Frame, what: string, wait: WaitOptions): Promise<void> {
    let chunks: Uint8Array[];
    try {
      chunks = encodeFrame(frame, ENCODE_OPTIONS[this.version]);
    } catch (err) {
      return Promise.reject(toError(err));
    }
    return this.writeChunks(chunks, what, wait) ?? Promise.resolve();
  }

  /**
   * Like {@link write}, but returns `undefined` when the frame was written at once (nothing
   * queued before it and the transport took it without asking to wait): no promise, no timer.
   */
  writeNow(frame: Frame, what: Label, wait: WaitOptions): Promise<void> | undefined {
    let chunks: Uint8Array[];
    try {
      chunks = encodeFrame(frame, ENCODE_OPTIONS[this.version]);
    } catch (err) {
      return Promise.reject(toError(err));
    }
    return this.writeChunks(chunks, what, wait);
  }

  writeChunks(chunks: Uint8Array[], what: Label, wait: WaitOptions): Promise<void> | undefined {
    const transport = this.transport;
    if (
      this.writing === 0 &&
      !this.dead &&
      wait.signal?.aborted !== true &&
      isSyncWritable(transport)
    ) {
      // Nothing queued: straight to the transport. A timeout or signal only applies while the
      // transport makes us wait for `drain`; the frame itself is already written.
      this.lastWrite = Date.now();
      let pending: Promise<void> | undefined;
      try {
        pending = transport[writeNow](chunks);
      } catch (err) {
        return Promise.reject(mapWriteError(err));
      }
      if (pending === undefined) return undefined;
      this.writing++;
      const settled = (): void => {
        this.writing--;
      };
      this.#chain = pending.then(settled, settled);
      return waitFor(
        pending.catch((err: unknown) => {
          throw mapWriteError(err);
        }),
        label(what),
        wait,
      );
    }
    this.writing++;
    let cancelled = false;
    const result = this.#chain.then(() => {
      if (cancelled) return undefined;
      if (this.dead) throw lostError();
      this.lastWrite = Date.now();
      return this.transport.write(chunks);
    });
    const settled = (): void => {
      this.writing--;
    };
    this.#chain = result.then(settled, settled);
    const mapped = result.catch((err: unknown) => {
      throw mapWriteError(err);
    });
    return waitFor(mapped, label(what), wait, () => {
      cancelled = true;
    });
  }

  /** Start heart-beating: send every `send` ms of silence; expect data within `receive + grace`. */
  startHeartbeats(send: number, receive: number, grace: number, onSilent: () => void): void {
    if (send > 0) {
      const tick = (): void => {
        if (this.dead) return;
        const idle = Date.now() - this.lastWrite;
        if (idle >= send && this.writing === 0) {
          void this.writeChunks([HEARTBEAT_BYTES], 'heart-beat', {})?.catch(() => undefined);
        }
        this.#sendTimer = setTimer(tick, Math.max(1, send - (Date.now() - this.lastWrite)));
      };
      this.#sendTimer = setTimer(tick, send);
    }
    if (receive > 0) {
      const limit = receive + grace;
      const check = (): void => {
        if (this.dead) return;
        const silent = Date.now() - this.lastRead;
        if (this.blocked) {
          // Suspended on purpose while the application holds the read (see the Client TSDoc).
          this.#receiveTimer = setTimer(check, limit);
        } else if (silent >= limit) {
          onSilent();
        } else {
          this.#receiveTimer = setTimer(check, limit - silent);
        }
      };
      this.#receiveTimer = setTimer(check, limit);
    }
  }

  /** Stop the timers and drop the transport. */
  kill(error?: Error): void {
    this.dead = true;
    clearTimer(this.#sendTimer);
    clearTimer(this.#receiveTimer);
    this.transport.destroy(error);
  }
}

/** Serializer options per version (shared: one object per frame is avoidable garbage). */
const ENCODE_OPTIONS: Readonly<Record<StompVersion, SerializerOptions>> = {
  '1.0': { version: '1.0' },
  '1.1': { version: '1.1' },
  '1.2': { version: '1.2' },
};

/** Frame options with nothing set (shared). */
const NO_OPTIONS = Object.freeze({});

/** The session's options for a SEND: one object, only the keys that are set. */
function sendFrameOptions(
  destination: string,
  body: BodyInit,
  contentType: string | undefined,
  headers: SendOptions['headers'],
  transaction: string | undefined,
  receipt: string | undefined,
): SendFrameOptions {
  const o: { -readonly [K in keyof SendFrameOptions]: SendFrameOptions[K] } = {
    destination,
    body,
  };
  if (contentType !== undefined && !hasHeader(headers, 'content-type')) o.contentType = contentType;
  if (transaction !== undefined) o.transaction = transaction;
  if (receipt !== undefined) o.receipt = receipt;
  if (headers !== undefined) o.headers = headers;
  return o;
}

/** What an operation is, for error messages: built only when one is needed. */
type Label = string | (() => string);

function label(what: Label): string {
  return typeof what === 'string' ? what : what();
}

function mapWriteError(err: unknown): StompError {
  return err instanceof StompError
    ? err
    : new StompConnectionError(ErrorCode.CONNECTION_LOST, 'write failed', { cause: err });
}

function lostError(cause?: unknown): StompConnectionError {
  return new StompConnectionError(
    ErrorCode.CONNECTION_LOST,
    'the connection to the broker was lost',
    cause === undefined ? {} : { cause },
  );
}

function closedError(): StompConnectionError {
  return new StompConnectionError(ErrorCode.CONNECTION_CLOSED, 'the client is closed');
}

/** @internal How an entry point opens transports when the user gave no factory. */
export type DefaultTransport = (options: ConnectOptions) => TransportFactory;

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
 *   browser WebSocket cannot be paused: there, `maxUnreadBytes` caps what may pile up.
 * - **While reading is held for a full buffer, the silent-server check is suspended.** The
 *   broker's heart-beats queue behind the messages the application has not taken yet, so
 *   silence then says nothing about the broker; dropping the connection would redeliver the
 *   whole backlog. Outgoing heart-beats continue, and the check resumes, with a full period,
 *   as soon as reading does.
 * - **Only `failover:` URIs (or `reconnect`) reconnect.** A plain `tcp://` URI means "this
 *   broker": losing it fails open transactions and unacknowledged deliveries, which an
 *   application should opt into handling (as with ActiveMQ's and stompest's URIs).
 * - **Messages are pulled per subscription** (`for await`, `receive()`, or a handler), not as
 *   "the next frame of any kind" like stompest's `receiveFrame`: RECEIPT and ERROR frames
 *   settle the operations that asked for them and appear as status events, so a pull of any
 *   frame would only ever see messages, and each subscription keeps its own bounded buffer.
 */
export class Client implements MessageOwner, SubscriptionOwner, TransactionOwner {
  /** Same as {@link Client.close} (defined only where the runtime has `Symbol.asyncDispose`). */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  /** The resolved options (read-only). */
  readonly options: ResolvedOptions;
  readonly #factory: TransportFactory;
  readonly #schedule: FailoverSchedule;
  readonly #reconnect: boolean;
  /** The protocol state: subscriptions to replay, open transactions, awaited receipts. */
  readonly #session = new ClientSession();
  #state: ClientState = ClientState.CONNECTING;
  #link: Link | undefined;
  #generation = 0;
  #ready: Deferred<undefined> = deferred<undefined>();
  readonly #lifetime = new AbortController();
  /** The consumer side of the session's subscriptions, by id. */
  readonly #subscriptions = new Map<string, Subscription>();
  /** Subscriptions ended while disconnected: dropped from the session before the next replay. */
  readonly #forget = new Set<string>();
  /** The caller-side handles of the session's open transactions, by id. */
  readonly #transactions = new Map<string, Transaction>();
  /** Callers waiting for the session's awaited receipts, by receipt id. */
  readonly #receipts = new Map<string, Deferred<undefined>>();
  readonly #listeners = new Map<StatusEventType, Set<Listener>>();
  readonly #statusQueues = new Set<AsyncQueue<StatusEvent>>();
  readonly #closed = deferred<Error | undefined>();
  #closing: Promise<void> | undefined;
  #ids = 0;
  #queuedBytes = 0;
  /** Operations waiting for the session to be usable: later ones take no fast path past them. */
  #waiting = 0;

  /** @internal Use `connect()`. */
  constructor(options: ConnectOptions, defaultTransport: DefaultTransport) {
    if (options.url === undefined) {
      throw new StompInvalidArgumentError('url is required (a broker or failover URI)');
    }
    this.options = resolveOptions(options);
    this.#factory = options.transport ?? defaultTransport(options);
    const parsed = parseFailoverUri(options.url);
    const isFailover = /^\s*failover:/i.test(options.url) || parsed.brokers.length > 1;
    this.#reconnect = options.reconnect === undefined ? isFailover : options.reconnect !== false;
    const uri: FailoverUri = {
      brokers: parsed.brokers,
      options: {
        ...parsed.options,
        ...(this.#reconnect ? {} : { maxReconnectAttempts: 0 }),
        ...(typeof options.reconnect === 'object' ? options.reconnect : {}),
      },
    };
    this.#schedule = new FailoverSchedule(uri, options.random ? { random: options.random } : {});
  }

  /** The current state. */
  get state(): ClientState {
    return this.#state;
  }

  /** The negotiated STOMP version of the current (or last) session. */
  get version(): StompVersion | undefined {
    return this.#link?.version;
  }

  /** The broker of the current session, if connected. */
  get broker(): BrokerAddress | undefined {
    return this.#link?.connected === true ? this.#link.broker : undefined;
  }

  /** The `server` header of the last CONNECTED frame. */
  get server(): string | undefined {
    return this.#session.server;
  }

  /** Bytes of message bodies accepted by `send()` and not yet written to the connection. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Resolves when the client is closed for good: with the error that closed it, if any. */
  get closed(): Promise<Error | undefined> {
    return this.#closed.promise;
  }

  /** @internal Connect for the first time (used by `connect()`). */
  async start(signal: AbortSignal | undefined): Promise<void> {
    try {
      const link = await this.#connectLoop(signal);
      this.#established(link, false);
    } catch (err) {
      const error = toError(err);
      this.#finish(error);
      throw error;
    }
  }

  // ---- events -------------------------------------------------------------------------------

  /**
   * Listen to one kind of {@link StatusEvent}. Returns a function that removes the listener.
   * Listeners must not throw (a throwing listener is ignored).
   */
  on<T extends StatusEventType>(
    type: T,
    listener: (event: Extract<StatusEvent, { type: T }>) => void,
  ): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    const wrapped = listener as Listener;
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  /**
   * The status changes from now on, as an async iterable that ends when the client closes. Holds
   * the latest `capacity` events (default 64) when not consumed quickly enough.
   */
  status(capacity = 64): AsyncIterable<StatusEvent> {
    const queue = new AsyncQueue<StatusEvent>(capacity);
    if (this.#state === ClientState.CLOSED) queue.end();
    else this.#statusQueues.add(queue);
    const queues = this.#statusQueues;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const event = await queue.shift();
            if (event === undefined) return;
            yield event;
          }
        } finally {
          queues.delete(queue);
        }
      },
    };
  }

  #emit(event: StatusEvent): void {
    for (const listener of this.#listeners.get(event.type) ?? []) {
      try {
        listener(event);
      } catch {
        // Listeners must not break the client.
      }
    }
    for (const queue of this.#statusQueues) {
      if (queue.full) queue.dropOldest();
      queue.push(event);
    }
  }

  // ---- connecting ---------------------------------------------------------------------------

  async #connectLoop(signal: AbortSignal | undefined): Promise<Link> {
    const lifetime = this.#lifetime.signal;
    let lastError: unknown;
    for (let step = this.#schedule.next(); step !== undefined; step = this.#schedule.next()) {
      if (step.attempt > 0) {
        this.#emit({
          type: 'reconnecting',
          broker: step.broker,
          attempt: step.attempt,
          delay: step.delay,
        });
      }
      if (step.delay > 0) {
        await sleep(step.delay, lifetime);
        if (signal?.aborted === true) throw abortError(signal, 'connect');
      }
      if (lifetime.aborted) throw closedError();
      try {
        const link = await this.#open(step.broker, signal);
        this.#schedule.connected(step.broker);
        return link;
      } catch (err) {
        // A broker that answers CONNECT with ERROR rejects us (login, vhost): never retried.
        if (err instanceof StompServerError) throw err;
        if (this.#lifetime.signal.aborted) throw closedError();
        if (signal?.aborted === true) throw abortError(signal, 'connect');
        lastError = err;
        this.#emit({ type: 'error', error: toError(err) });
      }
    }
    throw new StompConnectionError(
      ErrorCode.CONNECTION_REFUSED,
      `could not connect to ${this.#schedule.brokers.map((b) => b.uri).join(', ')}`,
      lastError === undefined ? {} : { cause: lastError },
    );
  }

  /** Forget the previous connection's state in the session (subscriptions stay for replay). */
  #resetSession(): void {
    if (this.#session.state !== SessionState.DISCONNECTED) this.#session.lost();
  }

  /** Open a transport to `broker` and complete the STOMP handshake on it. */
  async #open(broker: BrokerAddress, signal: AbortSignal | undefined): Promise<Link> {
    const attempt = new AbortController();
    const abort = (): void => {
      attempt.abort();
    };
    this.#lifetime.signal.addEventListener('abort', abort, { once: true });
    let link: Link | undefined;
    const run = async (): Promise<Link> => {
      const transport = await this.#factory(broker, {
        signal: attempt.signal,
        versions: this.options.versions,
      });
      if (attempt.signal.aborted) {
        transport.destroy();
        throw closedError();
      }
      const opened = new Link(++this.#generation, broker, transport, this.options);
      link = opened;
      this.#link = opened;
      this.#resetSession();
      const o = this.options;
      const login = o.login ?? broker.login;
      const passcode = o.passcode ?? broker.passcode;
      const connect = this.#session.connect({
        versions: o.versions,
        host: o.host ?? broker.host,
        heartBeat: o.heartBeat,
        useStompCommand: o.stompCommand && !o.versions.includes('1.0'),
        ...(login === undefined ? {} : { login }),
        ...(passcode === undefined ? {} : { passcode }),
        ...(o.headers === undefined ? {} : { headers: o.headers }),
      });
      void this.#readLoop(opened);
      await opened.write(connect, 'CONNECT', {});
      await opened.handshake.promise;
      return opened;
    };
    try {
      return await waitFor(
        run(),
        `connecting to ${broker.uri}`,
        { timeout: this.options.connectTimeout, signal },
        abort,
      );
    } catch (err) {
      const l = link;
      if (l !== undefined) {
        l.kill();
        if (this.#link === l) {
          this.#link = undefined;
          this.#resetSession();
        }
      }
      throw err;
    } finally {
      this.#lifetime.signal.removeEventListener('abort', abort);
    }
  }

  /** The session is usable: release waiting operations. */
  #established(link: Link, reconnected: boolean): void {
    this.#state = ClientState.CONNECTED;
    this.#ready.resolve(undefined);
    this.#emit({
      type: 'connected',
      broker: link.broker,
      version: link.version,
      server: this.#session.server,
      session: this.#session.sessionId,
      reconnected,
    });
  }

  // ---- reading ------------------------------------------------------------------------------

  async #readLoop(link: Link): Promise<void> {
    let error: Error | undefined;
    const transport = link.transport;
    const iterator = transport[Symbol.asyncIterator]();
    // Chunks received meanwhile are taken without a turn each (see readNow).
    const received = isSyncReadable(transport) ? () => transport[readNow]() : () => undefined;
    let inBody = false;
    try {
      reading: for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        inBody = true;
        for (let chunk: Uint8Array | undefined = next.value; chunk !== undefined;) {
          if (!link.isAlive()) break reading;
          link.lastRead = Date.now();
          const frames = link.parse(chunk);
          for (const frame of frames) {
            if (!link.isAlive()) break reading;
            if (frame.command === 'MESSAGE') {
              const blocked = this.#deliver(link, frame);
              if (blocked !== undefined) await blocked;
            } else {
              this.#onFrame(link, frame);
            }
          }
          chunk = received();
        }
        inBody = false;
      }
    } catch (err) {
      error = toError(err);
    }
    // As `for await` does when its body leaves early (or throws): the transport stops reading.
    if (inBody) {
      try {
        await iterator.return?.();
      } catch {
        // The connection is being dropped either way.
      }
    }
    this.#lost(link, error ?? lostError());
  }

  /**
   * Hand a MESSAGE to its subscription, waiting (without reading the connection) while the
   * subscription's buffer is full, so a buffer never holds more than its capacity.
   */
  #deliver(link: Link, frame: Frame): Promise<void> | undefined {
    if (!link.connected) return undefined;
    let id: string;
    try {
      id = this.#session.message(frame).id;
    } catch (err) {
      // A late message for a subscription just removed is normal; anything else is reported.
      if (!(err instanceof StompError && err.code === ErrorCode.UNKNOWN_SUBSCRIPTION)) {
        this.#emit({ type: 'error', error: toError(err) });
      }
      return undefined;
    }
    const sub = this.#subscriptions.get(id);
    if (sub === undefined || !sub.active) return undefined;
    if (sub.queue.full) return this.#deliverWhenRoom(link, frame, sub);
    sub.queue.push(new Message(this, frame, sub.id, sub.ack, link.generation));
    return undefined;
  }

  /** {@link #deliver} to a full subscription: hold the read until it has room. */
  async #deliverWhenRoom(link: Link, frame: Frame, sub: Subscription): Promise<void> {
    link.blocked = true;
    await sub.queue.whenNotFull();
    link.blocked = false;
    link.lastRead = Date.now();
    if (!link.isAlive()) return; // an ended subscription ignores the push
    sub.queue.push(new Message(this, frame, sub.id, sub.ack, link.generation));
  }

  #onFrame(link: Link, frame: Frame): void {
    switch (frame.command) {
      case 'CONNECTED':
        if (!link.handshake.settled) this.#onConnected(link, frame);
        return;
      case 'RECEIPT': {
        if (this.#link !== link) return;
        let receiptId: string;
        try {
          receiptId = this.#session.received(frame).receiptId;
        } catch {
          return; // a receipt nobody waits for (or a duplicate): nothing to settle
        }
        const waiter = this.#receipts.get(receiptId);
        this.#receipts.delete(receiptId);
        waiter?.resolve(undefined);
        return;
      }
      case 'ERROR':
        this.#onError(link, frame);
        return;
      default:
        return;
    }
  }

  #onConnected(link: Link, frame: Frame): void {
    try {
      const info = this.#session.connected(frame);
      if (isServerAware(link.transport)) link.transport[brokerServer](info.server);
      link.version = info.version;
      link.parser.setVersion(info.version);
      const beats = info.heartBeat;
      const grace = this.options.heartBeatGrace ?? beats.receive + 1000;
      link.connected = true;
      link.startHeartbeats(beats.send, beats.receive, grace, () => {
        this.#lost(
          link,
          new StompConnectionError(
            ErrorCode.HEARTBEAT_TIMEOUT,
            `no data from ${link.broker.uri} for ${String(beats.receive + grace)} ms`,
          ),
        );
      });
      link.handshake.resolve(frame);
    } catch (err) {
      link.handshake.reject(err);
    }
  }

  #onError(link: Link, frame: Frame): void {
    const error = interpretError(frame);
    if (!link.handshake.settled) {
      link.handshake.reject(new StompServerError(frame, ErrorCode.CONNECTION_REFUSED));
      return;
    }
    const receipt = frame.header('receipt-id');
    const waiter = receipt === undefined ? undefined : this.#receipts.get(receipt);
    if (receipt !== undefined && waiter !== undefined) {
      this.#receipts.delete(receipt);
      waiter.reject(error);
    }
    this.#emit({ type: 'error', error });
    // The spec has the server close the connection after an ERROR frame.
    this.#lost(link, error);
  }

  /** A link died: fail what depended on it, then reconnect or close. */
  #lost(link: Link, error: Error): void {
    if (link.dead) return;
    link.kill(error);
    link.handshake.reject(error);
    if (this.#link !== link) return;
    this.#link = undefined;
    if (!link.connected) return; // a failed attempt: #open and the connect loop handle it
    const lost = lostError(error);
    const work = this.#session.lost();
    for (const { receiptId } of work.receipts) {
      const waiter = this.#receipts.get(receiptId);
      this.#receipts.delete(receiptId);
      waiter?.reject(lost);
    }
    for (const tx of this.#transactions.values()) tx.lose(error);
    this.#transactions.clear();
    if (this.#state === ClientState.CLOSING || this.#state === ClientState.CLOSED) return;
    this.#emit({ type: 'disconnected', broker: link.broker, error });
    if (this.#ready.settled) this.#ready = deferred<undefined>();
    if (!this.#reconnect) {
      this.#finish(lost);
      return;
    }
    this.#state = ClientState.RECONNECTING;
    void this.#reconnectLoop();
  }

  async #reconnectLoop(): Promise<void> {
    let link: Link;
    try {
      link = await this.#connectLoop(undefined);
    } catch (err) {
      this.#finish(toError(err));
      return;
    }
    // Replay the subscriptions, same ids and headers, before anything queued goes out. They are
    // queued together, so that a later UNSUBSCRIBE cannot overtake its SUBSCRIBE.
    try {
      for (const id of this.#forget) {
        if (this.#session.subscription(id) !== undefined) this.#session.unsubscribe(id);
      }
      this.#forget.clear();
      const wait = { timeout: this.options.connectTimeout };
      await Promise.all(
        this.#session.replay().map((frame) => link.write(frame, 'replaying SUBSCRIBE', wait)),
      );
    } catch (err) {
      this.#lost(link, toError(err));
      return;
    }
    if (this.#link !== link || link.dead) return;
    this.#established(link, true);
  }

  // ---- operations ---------------------------------------------------------------------------

  /** The current link if the session is usable now, nobody waiting for it before us. */
  #readyLink(): Link | undefined {
    const link = this.#link;
    return this.#waiting === 0 &&
      this.#state === ClientState.CONNECTED &&
      link?.connected === true &&
      !link.dead
      ? link
      : undefined;
  }

  /** {@link #readyLink}, or wait for the session like {@link #whenReady}. */
  async #ready2(options: WaitOptions): Promise<Link> {
    this.#waiting++;
    try {
      return await this.#whenReady(options);
    } finally {
      this.#waiting--;
    }
  }

  /** The current link once the session is usable (waiting per `whileDisconnected`). */
  async #whenReady(options: WaitOptions): Promise<Link> {
    for (;;) {
      const link = this.#link;
      if (this.#state === ClientState.CONNECTED && link?.connected === true && !link.dead) {
        return link;
      }
      if (this.#state === ClientState.CLOSING || this.#state === ClientState.CLOSED) {
        throw closedError();
      }
      if (this.options.whileDisconnected === 'fail') {
        throw new StompConnectionError(ErrorCode.CONNECTION_LOST, 'not connected to a broker');
      }
      await waitFor(this.#ready.promise, 'waiting for the connection', {
        timeout: options.timeout ?? this.options.disconnectedTimeout,
        signal: options.signal,
      });
    }
  }

  /** Whether an operation may take the fast path: written at once, nothing to wait for. */
  #canWriteNow(link: Link, options: OperationOptions): boolean {
    return (
      options.receipt !== true &&
      options.signal === undefined &&
      !link.dead &&
      this.#link === link &&
      this.#session.state === SessionState.CONNECTED
    );
  }

  /**
   * Build a frame with the session (`build(receiptId)`), write it on `link`, then wait for its
   * RECEIPT when asked. `options.timeout` bounds the whole operation (default: `writeTimeout`
   * for the write, `receiptTimeout` for the receipt).
   */
  #perform(
    link: Link,
    options: OperationOptions,
    what: Label,
    build: (receipt: string | undefined) => Frame,
    onWritten?: () => void,
  ): Promise<void> {
    if (this.#canWriteNow(link, options)) {
      // The fast path: no receipt to wait for, no signal; the frame is written at once when
      // nothing is queued on the link (no promise, no timer), else queued like any other.
      let pending: Promise<void> | undefined;
      try {
        pending = link.writeNow(build(undefined), what, {
          timeout: options.timeout ?? this.options.writeTimeout,
        });
      } catch (err) {
        return Promise.reject(toError(err));
      }
      if (pending === undefined) {
        onWritten?.();
        return Promise.resolve();
      }
      return onWritten === undefined ? pending : pending.finally(onWritten);
    }
    return this.#performSlow(link, options, what, build, onWritten);
  }

  async #performSlow(
    link: Link,
    options: OperationOptions,
    description: Label,
    build: (receipt: string | undefined) => Frame,
    onWritten?: () => void,
  ): Promise<void> {
    const what = label(description);
    if (options.signal?.aborted === true) throw abortError(options.signal, what);
    if (link.dead || this.#link !== link || this.#session.state !== SessionState.CONNECTED) {
      throw this.#state === ClientState.CLOSING || this.#state === ClientState.CLOSED
        ? closedError()
        : lostError();
    }
    const receipt = options.receipt === true ? `rcpt-${String(++this.#ids)}` : undefined;
    const frame = build(receipt);
    let waiter: Deferred<undefined> | undefined;
    if (receipt !== undefined) {
      waiter = deferred<undefined>();
      this.#receipts.set(receipt, waiter);
    }
    const started = Date.now();
    try {
      await link.write(frame, what, {
        timeout: options.timeout ?? this.options.writeTimeout,
        signal: options.signal,
      });
    } catch (err) {
      if (receipt !== undefined) this.#receipts.delete(receipt);
      throw err;
    } finally {
      onWritten?.();
    }
    if (waiter === undefined || receipt === undefined) return;
    const timeout =
      options.timeout === undefined
        ? this.options.receiptTimeout
        : Math.max(0, options.timeout - (Date.now() - started));
    await waitFor(
      waiter.promise,
      `the RECEIPT for ${what}`,
      { timeout, signal: options.signal },
      () => this.#receipts.delete(receipt),
    );
  }

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
  send(
    destination: string,
    body: BodyInit,
    options: SendOptions = {},
    tx?: Transaction,
  ): Promise<void> {
    const size = typeof body === 'string' ? body.length : body.byteLength;
    if (this.#queuedBytes > 0 && this.#queuedBytes + size > this.options.sendBufferLimit) {
      return Promise.reject(
        new StompError(
          ErrorCode.LIMIT_EXCEEDED,
          `send to ${destination}: ${String(this.#queuedBytes)} bytes are already queued ` +
            `(sendBufferLimit ${String(this.options.sendBufferLimit)}); await earlier sends`,
        ),
      );
    }
    let link: Link | undefined;
    if (tx === undefined) {
      link = this.#readyLink();
    } else {
      try {
        link = this.#txLink(tx);
      } catch (err) {
        return Promise.reject(toError(err));
      }
    }
    if (link === undefined) return this.#sendLater(destination, body, options, size);
    return this.#sendOn(link, destination, body, options, tx, size);
  }

  async #sendLater(
    destination: string,
    body: BodyInit,
    options: SendOptions,
    size: number,
  ): Promise<void> {
    this.#queuedBytes += size;
    let link: Link;
    try {
      link = await this.#ready2(options);
    } finally {
      this.#queuedBytes -= size;
    }
    await this.#sendOn(link, destination, body, options, undefined, size);
  }

  /** Write the SEND on `link`; its body counts as queued until written. */
  #sendOn(
    link: Link,
    destination: string,
    body: BodyInit,
    options: SendOptions,
    tx: Transaction | undefined,
    size: number,
  ): Promise<void> {
    const contentType =
      options.contentType ?? (typeof body === 'string' ? 'text/plain;charset=utf-8' : undefined);
    const headers = options.headers;
    const frameOptions = (receipt: string | undefined): SendFrameOptions =>
      sendFrameOptions(destination, body, contentType, headers, tx?.id, receipt);
    if (this.#canWriteNow(link, options)) {
      // The fast path of #perform, inlined: the body is written (or queued on the link) before
      // this returns, so it counts as queued only when we must wait.
      let pending: Promise<void> | undefined;
      try {
        const frame = this.#session.send(
          sendFrameOptions(destination, body, contentType, headers, tx?.id, undefined),
        );
        pending = link.writeNow(frame, `SEND to ${destination}`, {
          timeout: options.timeout ?? this.options.writeTimeout,
        });
      } catch (err) {
        return Promise.reject(toError(err));
      }
      if (pending === undefined) return Promise.resolve();
      this.#queuedBytes += size;
      return pending.finally(() => {
        this.#queuedBytes -= size;
      });
    }
    this.#queuedBytes += size;
    let queued = true;
    const release = (): void => {
      if (!queued) return;
      queued = false;
      this.#queuedBytes -= size;
    };
    const done = this.#perform(
      link,
      options,
      `SEND to ${destination}`,
      (receipt) => this.#session.send(frameOptions(receipt)),
      release,
    );
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- release() may have run
    if (!queued) return done;
    return done.finally(release);
  }

  /**
   * Subscribe to `destination`. Returns once SUBSCRIBE is written (or acknowledged with
   * `{ receipt: true }`). Consume with `for await`, `receive()`, or pass `handler` for the
   * callback form (each returned promise is awaited before the next message).
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
  async subscribe(
    destination: string,
    options: SubscribeOptions = {},
    handler?: MessageHandler,
  ): Promise<Subscription> {
    const ack = options.ack ?? 'auto';
    if (!isAckMode(ack, '1.2')) {
      throw new StompInvalidArgumentError(`unknown ack mode ${JSON.stringify(ack)}`);
    }
    const buffer = options.buffer ?? this.options.subscriptionBuffer;
    if (!Number.isSafeInteger(buffer) || buffer < 1) {
      throw new StompInvalidArgumentError('buffer must be a positive integer');
    }
    const extra: [string, string][] = [];
    if (options.prefetch !== undefined) {
      if (!Number.isSafeInteger(options.prefetch) || options.prefetch < 0) {
        throw new StompInvalidArgumentError('prefetch must be a non-negative integer');
      }
      extra.push(['prefetch-count', String(options.prefetch)]);
      extra.push(['activemq.prefetchSize', String(options.prefetch)]);
    }
    const headers: [string, string][] = [...headerPairs(options.headers), ...extra];
    const link = this.#readyLink() ?? (await this.#ready2(options));
    let sub: Subscription | undefined;
    try {
      await this.#perform(link, options, `SUBSCRIBE to ${destination}`, (receipt) => {
        const frame = this.#session.subscribe({
          destination,
          ack,
          headers,
          ...(options.id === undefined ? {} : { id: options.id }),
          ...(receipt === undefined ? {} : { receipt }),
        });
        const id = frame.header('id') ?? '';
        sub = new Subscription(this, id, destination, ack, buffer);
        this.#subscriptions.set(id, sub);
        return frame;
      });
    } catch (err) {
      // The broker may hold the subscription (e.g. a receipt timed out): take it back.
      if (sub !== undefined) await sub.unsubscribe().catch(() => undefined);
      throw err;
    }
    const made = sub as unknown as Subscription;
    if (handler !== undefined) {
      made.run(handler, (error) => {
        this.#emit({ type: 'error', error: toError(error) });
      });
    }
    return made;
  }

  /** @internal Called by {@link Subscription.unsubscribe}. */
  async unsubscribe(sub: Subscription, options: OperationOptions): Promise<void> {
    if (this.#subscriptions.get(sub.id) !== sub) return;
    this.#subscriptions.delete(sub.id);
    if (this.#session.subscription(sub.id) === undefined) return;
    const link = this.#link;
    if (
      link?.connected !== true ||
      link.dead ||
      this.#session.state !== SessionState.CONNECTED ||
      this.#state === ClientState.CLOSING
    ) {
      // Nothing to tell a broker now; the subscription is not replayed on the next connection.
      this.#forget.add(sub.id);
      return;
    }
    await this.#perform(link, options, `UNSUBSCRIBE ${sub.id}`, (receipt) =>
      this.#session.unsubscribe(sub.id, receipt === undefined ? {} : { receipt }),
    );
  }

  /** @internal Called by {@link Message.ack} and {@link Message.nack}. */
  acknowledge(command: 'ACK' | 'NACK', message: Message, options: AckOptions): Promise<void> {
    const link = this.#link;
    if (link?.generation !== message.generation || !link.connected || link.dead) {
      return Promise.reject(
        new StompConnectionError(
          ErrorCode.STALE_MESSAGE,
          `cannot ${command} message ${message.messageId}: it came over an earlier connection ` +
            '(the broker redelivers unacknowledged messages)',
          { frame: message.frame },
        ),
      );
    }
    if (command === 'NACK' && link.version === '1.0') {
      return Promise.reject(
        new StompError(ErrorCode.UNSUPPORTED_VERSION, 'NACK does not exist in STOMP 1.0', {
          frame: message.frame,
        }),
      );
    }
    const transaction =
      typeof options.transaction === 'string' ? options.transaction : options.transaction?.id;
    // The label is built only if needed (a wait that fails): it decodes a header.
    const what = (): string => `${command} ${message.messageId}`;
    if (
      options.receipt !== true &&
      options.signal === undefined &&
      this.#session.state === SessionState.CONNECTED
    ) {
      // The fast path of #perform, inlined (no frame-building closure, no options spread).
      const frameOptions = transaction === undefined ? NO_OPTIONS : { transaction };
      let pending: Promise<void> | undefined;
      try {
        const frame =
          command === 'ACK'
            ? this.#session.ack(message.frame, frameOptions)
            : this.#session.nack(message.frame, frameOptions);
        pending = link.writeNow(frame, what, {
          timeout: options.timeout ?? this.options.writeTimeout,
        });
      } catch (err) {
        return Promise.reject(toError(err));
      }
      return pending ?? Promise.resolve();
    }
    return this.#perform(link, options, what, (receipt) => {
      const frameOptions = {
        ...(transaction === undefined ? {} : { transaction }),
        ...(receipt === undefined ? {} : { receipt }),
      };
      return command === 'ACK'
        ? this.#session.ack(message.frame, frameOptions)
        : this.#session.nack(message.frame, frameOptions);
    });
  }

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
  async begin(options: OperationOptions & { readonly id?: string } = {}): Promise<Transaction> {
    const link = this.#readyLink() ?? (await this.#ready2(options));
    let tx: Transaction | undefined;
    try {
      await this.#perform(link, options, 'BEGIN', (receipt) => {
        const frame = this.#session.begin(options.id, receipt === undefined ? {} : { receipt });
        const id = frame.header('transaction') ?? '';
        tx = new Transaction(this, id, link.generation);
        this.#transactions.set(id, tx);
        return frame;
      });
    } catch (err) {
      if (tx !== undefined) {
        this.#transactions.delete(tx.id);
        tx.lose(toError(err));
      }
      throw err;
    }
    return tx as unknown as Transaction;
  }

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
  async transaction<T>(
    work: (tx: Transaction) => Promise<T> | T,
    options: OperationOptions = {},
  ): Promise<T> {
    const tx = await this.begin(options);
    let result: T;
    try {
      result = await work(tx);
    } catch (err) {
      if (tx.state === 'open') await tx.abort().catch(() => undefined);
      throw err;
    }
    await tx.commit(options);
    return result;
  }

  #txLink(tx: Transaction): Link {
    const link = this.#link;
    if (link?.generation !== tx.generation || link.dead) {
      tx.lose(undefined);
      throw lostError();
    }
    return link;
  }

  /** @internal Called by {@link Transaction.commit} and {@link Transaction.abort}. */
  async finishTransaction(
    tx: Transaction,
    command: 'COMMIT' | 'ABORT',
    options: OperationOptions,
  ): Promise<void> {
    this.#transactions.delete(tx.id);
    const link = this.#txLink(tx);
    await this.#perform(link, options, `${command} ${tx.id}`, (receipt) => {
      const frameOptions = receipt === undefined ? {} : { receipt };
      return command === 'COMMIT'
        ? this.#session.commit(tx.id, frameOptions)
        : this.#session.abort(tx.id, frameOptions);
    });
  }

  // ---- shutdown -----------------------------------------------------------------------------

  /**
   * Close gracefully: send DISCONNECT with a receipt, wait for it (up to `timeout`, default the
   * `closeTimeout` option), then close the transport. Frames written before are processed by the
   * broker first. Subscriptions end (their buffered messages stay readable); waiting operations
   * reject with `ERR_STOMP_CONNECTION_CLOSED`. Idempotent. Also `await using client = ...`
   * where the runtime has `Symbol.asyncDispose`.
   */
  close(options: WaitOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: WaitOptions): Promise<void> {
    if (this.#state === ClientState.CLOSED) return;
    const link = this.#link;
    const connected = this.#state === ClientState.CONNECTED;
    this.#state = ClientState.CLOSING;
    this.#lifetime.abort();
    this.#ready.reject(closedError());
    if (connected && link?.connected === true && !link.dead) {
      const timeout = options.timeout ?? this.options.closeTimeout;
      try {
        await this.#perform(
          link,
          { receipt: true, timeout, signal: options.signal },
          'DISCONNECT',
          (receipt) => this.#session.disconnect(receipt === undefined ? {} : { receipt }),
        );
        link.dead = true;
        await waitFor(link.transport.close(), 'closing the transport', {
          timeout,
          signal: options.signal,
        });
      } catch {
        // The broker did not confirm in time: close anyway.
      }
    }
    this.#finish(undefined);
  }

  /** Close at once without DISCONNECT; pending operations reject with `error` (or closed). */
  destroy(error?: Error): void {
    this.#finish(error);
  }

  #finish(error: Error | undefined): void {
    if (this.#state === ClientState.CLOSED) return;
    this.#state = ClientState.CLOSED;
    this.#lifetime.abort();
    const link = this.#link;
    this.#link = undefined;
    if (link !== undefined) {
      link.kill(error);
      link.handshake.reject(error ?? closedError());
    }
    this.#session.close();
    this.#forget.clear();
    const failure = error ?? closedError();
    this.#ready.reject(failure);
    for (const waiter of this.#receipts.values()) waiter.reject(failure);
    this.#receipts.clear();
    for (const tx of this.#transactions.values()) tx.lose(error);
    this.#transactions.clear();
    for (const sub of this.#subscriptions.values()) sub.end(error);
    this.#subscriptions.clear();
    if (link?.connected === true) {
      this.#emit({ type: 'disconnected', broker: link.broker, error });
    }
    this.#emit({ type: 'closed', error });
    for (const queue of this.#statusQueues) queue.end();
    this.#statusQueues.clear();
    this.#closed.resolve(error);
  }
}

defineAsyncDispose(Client.prototype, function (this: Client) {
  return this.close();
});

function headerPairs(init: SendOptions['headers']): [string, string][] {
  if (init === undefined) return [];
  if (Symbol.iterator in init) {
    return [...(init as Iterable<readonly [string, string]>)].map(([k, v]) => [k, v]);
  }
  const out: [string, string][] = [];
  const record = init;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value !== undefined) out.push([name, String(value)]);
  }
  return out;
}

function hasHeader(init: SendOptions['headers'], name: string): boolean {
  return headerPairs(init).some(([k]) => k === name);
}

/**
 * Connect with `defaultTransport` unless the options name a transport. Shared by the entry points.
 * @internal
 */
export async function connectWith(
  target: string | ConnectOptions,
  options: ConnectOptions,
  defaultTransport: DefaultTransport,
): Promise<Client> {
  const merged: ConnectOptions = typeof target === 'string' ? { ...options, url: target } : target;
  const client = new Client(merged, defaultTransport);
  await client.start(merged.signal);
  return client;
}
