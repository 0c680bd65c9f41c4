// The client: drives STOMP sessions over injected transports, with receipts, heart-beats,
// failover and subscription replay.
import {
  ackFrame,
  ackHeaders,
  abortFrame,
  beginFrame,
  type BodyInit,
  type BrokerAddress,
  commitFrame,
  connectFrame,
  disconnectFrame,
  encodeFrame,
  ErrorCode,
  FailoverSchedule,
  type FailoverUri,
  type Frame,
  FrameParser,
  HEARTBEAT_BYTES,
  isAckMode,
  interpretConnected,
  interpretError,
  nackFrame,
  negotiateHeartBeat,
  parseFailoverUri,
  sendFrame,
  type StompVersion,
  StompConnectionError,
  StompError,
  StompInvalidArgumentError,
  StompServerError,
  subscribeFrame,
  unsubscribeFrame,
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
import { Transaction, type TransactionOwner } from './transaction.js';
import type { Transport, TransportFactory } from './transport.js';
import { type Deferred, deferred, sleep, waitFor, type WaitOptions } from './util.js';

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

/** One transport and the STOMP session on it. */
class Link {
  readonly parser: FrameParser;
  readonly handshake: Deferred<Frame> = deferred<Frame>();
  version: StompVersion = '1.2';
  connected = false;
  dead = false;

  /** False once the link was killed (a getter, so checks after an await are not narrowed away). */
  get alive(): boolean {
    return !this.dead;
  }
  /** The read loop is waiting for a full subscription buffer (the socket is not read). */
  blocked = false;
  lastRead = Date.now();
  lastWrite = Date.now();
  writing = 0;
  private chain: Promise<void> = Promise.resolve();
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private receiveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly generation: number,
    readonly broker: BrokerAddress,
    readonly transport: Transport,
    onFrame: (frame: Frame) => void,
    options: ResolvedOptions,
  ) {
    this.parser = new FrameParser({ onFrame }, options.limits ? { limits: options.limits } : {});
  }

  /** Write a frame after the frames before it; resolves once the transport accepted it. */
  write(frame: Frame): Promise<void> {
    let chunks: Uint8Array[];
    try {
      chunks = encodeFrame(frame, { version: this.version });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.writeChunks(chunks);
  }

  private writeChunks(chunks: Uint8Array[]): Promise<void> {
    this.writing++;
    const result = this.chain.then(() => {
      if (this.dead) throw lostError();
      this.lastWrite = Date.now();
      return this.transport.write(chunks);
    });
    const settled = result.then(
      () => {
        this.writing--;
      },
      () => {
        this.writing--;
      },
    );
    this.chain = settled;
    return result.catch((err: unknown) => {
      throw err instanceof StompError
        ? err
        : new StompConnectionError(ErrorCode.CONNECTION_LOST, 'write failed', { cause: err });
    });
  }

  /** Start heart-beating: send every `send` ms of silence; expect data within `receive + grace`. */
  startHeartbeats(send: number, receive: number, grace: number, onSilent: () => void): void {
    if (send > 0) {
      const tick = (): void => {
        if (this.dead) return;
        const idle = Date.now() - this.lastWrite;
        if (idle >= send && this.writing === 0) {
          void this.writeChunks([HEARTBEAT_BYTES]).catch(() => undefined);
        }
        this.sendTimer = setTimeout(tick, Math.max(1, send - (Date.now() - this.lastWrite)));
      };
      this.sendTimer = setTimeout(tick, send);
    }
    if (receive > 0) {
      const limit = receive + grace;
      const check = (): void => {
        if (this.dead) return;
        const silent = Date.now() - this.lastRead;
        if (this.blocked) {
          this.receiveTimer = setTimeout(check, limit);
        } else if (silent >= limit) {
          onSilent();
        } else {
          this.receiveTimer = setTimeout(check, limit - silent);
        }
      };
      this.receiveTimer = setTimeout(check, limit);
    }
  }

  /** Stop the timers and drop the transport. */
  kill(error?: Error): void {
    this.dead = true;
    clearTimeout(this.sendTimer);
    clearTimeout(this.receiveTimer);
    this.transport.destroy(error);
  }
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

interface PendingReceipt {
  readonly link: Link;
  readonly done: Deferred<undefined>;
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
 */
export class Client implements MessageOwner, SubscriptionOwner, TransactionOwner, AsyncDisposable {
  /** The resolved options (read-only). */
  readonly options: ResolvedOptions;
  readonly #factory: TransportFactory;
  readonly #schedule: FailoverSchedule;
  readonly #reconnect: boolean;
  #state: ClientState = ClientState.CONNECTING;
  #link: Link | undefined;
  #generation = 0;
  #ready: Deferred<undefined> = deferred<undefined>();
  readonly #lifetime = new AbortController();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #transactions = new Set<Transaction>();
  readonly #receipts = new Map<string, PendingReceipt>();
  readonly #listeners = new Map<StatusEventType, Set<Listener>>();
  readonly #statusQueues = new Set<AsyncQueue<StatusEvent>>();
  readonly #closed = deferred<Error | undefined>();
  #closing: Promise<void> | undefined;
  #ids = 0;
  #connectedInfo: { server: string | undefined; session: string | undefined } = {
    server: undefined,
    session: undefined,
  };

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
    return this.#connectedInfo.server;
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
      const error = err instanceof Error ? err : new Error(String(err));
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
        if (signal?.aborted === true) throw this.#abortReason(signal);
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
        if (signal?.aborted === true) throw this.#abortReason(signal);
        lastError = err;
        this.#emit({ type: 'error', error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    throw new StompConnectionError(
      ErrorCode.CONNECTION_REFUSED,
      `could not connect to ${this.#schedule.brokers.map((b) => b.uri).join(', ')}`,
      lastError === undefined ? {} : { cause: lastError },
    );
  }

  #abortReason(signal: AbortSignal): StompError {
    return new StompError(ErrorCode.ABORTED, 'connect was aborted', { cause: signal.reason });
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
      const generation = ++this.#generation;
      const opened: Link = new Link(
        generation,
        broker,
        transport,
        (frame) => {
          this.#onFrame(opened, frame);
        },
        this.options,
      );
      link = opened;
      this.#link = opened;
      void this.#readLoop(opened);
      const o = this.options;
      await opened.write(
        connectFrame({
          versions: o.versions,
          host: o.host ?? broker.host,
          heartBeat: o.heartBeat,
          useStompCommand: o.stompCommand && !o.versions.includes('1.0'),
          ...((o.login ?? broker.login) !== undefined ? { login: (o.login ?? broker.login)! } : {}),
          ...((o.passcode ?? broker.passcode) !== undefined
            ? { passcode: (o.passcode ?? broker.passcode)! }
            : {}),
          ...(o.headers !== undefined ? { headers: o.headers } : {}),
        }),
      );
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
        if (this.#link === l) this.#link = undefined;
      }
      throw err;
    } finally {
      this.#lifetime.signal.removeEventListener('abort', abort);
    }
  }

  /** The handshake completed: start heart-beats, replay subscriptions, release waiting sends. */
  #established(link: Link, reconnected: boolean): void {
    this.#state = ClientState.CONNECTED;
    this.#ready.resolve(undefined);
    this.#emit({
      type: 'connected',
      broker: link.broker,
      version: link.version,
      server: this.#connectedInfo.server,
      session: this.#connectedInfo.session,
      reconnected,
    });
  }

  async #readLoop(link: Link): Promise<void> {
    let error: Error | undefined;
    try {
      for await (const chunk of link.transport) {
        if (link.dead) break;
        link.lastRead = Date.now();
        link.parser.push(chunk);
        // Backpressure: stop reading while a subscription's buffer is full.
        for (const sub of this.#subscriptions.values()) {
          if (sub.queue.full && link.alive) {
            link.blocked = true;
            await sub.queue.whenNotFull();
            link.blocked = false;
            link.lastRead = Date.now();
          }
        }
      }
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    this.#lost(link, error ?? lostError());
  }

  #onFrame(link: Link, frame: Frame): void {
    if (link.dead) return;
    switch (frame.command) {
      case 'CONNECTED':
        if (!link.handshake.settled) this.#onConnected(link, frame);
        return;
      case 'MESSAGE':
        this.#onMessage(link, frame);
        return;
      case 'RECEIPT': {
        const id = frame.header('receipt-id');
        const pending = id === undefined ? undefined : this.#receipts.get(id);
        if (id !== undefined && pending !== undefined && pending.link === link) {
          this.#receipts.delete(id);
          pending.done.resolve(undefined);
        }
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
      const info = interpretConnected(frame, this.options.versions);
      link.version = info.version;
      link.parser.setVersion(info.version);
      this.#connectedInfo = { server: info.server, session: info.session };
      const o = this.options;
      const beats = negotiateHeartBeat(o.heartBeat, info.heartBeat);
      const grace = o.heartBeatGrace ?? Math.max(1000, Math.floor(beats.receive / 2));
      link.connected = true;
      link.startHeartbeats(beats.send, beats.receive, grace, () => {
        this.#lost(
          link,
          new StompConnectionError(
            ErrorCode.HEARTBEAT_TIMEOUT,
            `no data from ${link.broker.uri} for ${beats.receive + grace} ms`,
          ),
        );
      });
      link.handshake.resolve(frame);
    } catch (err) {
      link.handshake.reject(err);
    }
  }

  #onMessage(link: Link, frame: Frame): void {
    const id = frame.header('subscription');
    let sub = id === undefined ? undefined : this.#subscriptions.get(id);
    if (sub === undefined && id === undefined) {
      // STOMP 1.0 brokers may omit `subscription`: route by destination.
      const destination = frame.header('destination');
      for (const s of this.#subscriptions.values()) {
        if (s.destination === destination) {
          sub = s;
          break;
        }
      }
    }
    if (sub === undefined || !sub.active) return;
    sub.queue.push(new Message(this, frame, sub.id, sub.ack, link.generation));
  }

  #onError(link: Link, frame: Frame): void {
    const error = interpretError(frame);
    if (!link.handshake.settled) {
      link.handshake.reject(new StompServerError(frame, ErrorCode.CONNECTION_REFUSED));
      return;
    }
    const receipt = frame.header('receipt-id');
    const pending = receipt === undefined ? undefined : this.#receipts.get(receipt);
    if (receipt !== undefined && pending !== undefined) {
      this.#receipts.delete(receipt);
      pending.done.reject(error);
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
    if (!link.connected) return; // a failed attempt: the connect loop handles it
    const lost = lostError(error);
    for (const [id, pending] of this.#receipts) {
      if (pending.link !== link) continue;
      this.#receipts.delete(id);
      pending.done.reject(lost);
    }
    for (const tx of this.#transactions) tx.lose(error);
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
      this.#finish(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // Replay the subscriptions, same ids and headers, before anything queued goes out.
    try {
      for (const sub of this.#subscriptions.values()) {
        if (!sub.active) continue;
        await link.write(
          subscribeFrame(link.version, {
            id: sub.id,
            destination: sub.destination,
            ack: sub.ack,
            headers: sub.headers,
          }),
        );
      }
    } catch (err) {
      this.#lost(link, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.#link !== link || link.dead) return;
    this.#established(link, true);
  }

  // ---- operations ---------------------------------------------------------------------------

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

  /** Write `build(receiptId)` on `link`, then wait for its RECEIPT when asked. */
  async #perform(
    link: Link,
    options: OperationOptions,
    what: string,
    build: (receipt: string | undefined) => Frame,
  ): Promise<void> {
    if (options.signal?.aborted === true) {
      throw new StompError(ErrorCode.ABORTED, `${what} was aborted`, {
        cause: options.signal.reason,
      });
    }
    const receipt = options.receipt === true ? `rcpt-${String(++this.#ids)}` : undefined;
    const frame = build(receipt);
    let pending: PendingReceipt | undefined;
    if (receipt !== undefined) {
      pending = { link, done: deferred<undefined>() };
      this.#receipts.set(receipt, pending);
    }
    try {
      await link.write(frame);
    } catch (err) {
      if (receipt !== undefined) this.#receipts.delete(receipt);
      throw err;
    }
    if (pending === undefined || receipt === undefined) return;
    await waitFor(
      pending.done.promise,
      `the RECEIPT for ${what}`,
      { timeout: options.timeout ?? this.options.receiptTimeout, signal: options.signal },
      () => this.#receipts.delete(receipt),
    );
  }

  /**
   * Send a message. Strings are sent as UTF-8 with `content-type: text/plain;charset=utf-8`
   * unless `contentType` or a `content-type` header says otherwise; bytes are sent as they are.
   * Resolves once the frame is written (the socket accepted it: awaiting sends is the
   * backpressure), or when the RECEIPT arrives with `{ receipt: true }`.
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
  async send(
    destination: string,
    body: BodyInit,
    options: SendOptions = {},
    tx?: Transaction,
  ): Promise<void> {
    const link = tx === undefined ? await this.#whenReady(options) : this.#txLink(tx);
    const contentType =
      options.contentType ?? (typeof body === 'string' ? 'text/plain;charset=utf-8' : undefined);
    await this.#perform(link, options, `SEND to ${destination}`, (receipt) =>
      sendFrame(link.version, {
        destination,
        body,
        ...(hasHeader(options.headers, 'content-type') || contentType === undefined
          ? {}
          : { contentType }),
        ...(tx === undefined ? {} : { transaction: tx.id }),
        ...(receipt === undefined ? {} : { receipt }),
        ...(options.headers === undefined ? {} : { headers: options.headers }),
      }),
    );
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
    const id = options.id ?? `sub-${String(++this.#ids)}`;
    if (this.#subscriptions.has(id)) {
      throw new StompInvalidArgumentError(`subscription id ${JSON.stringify(id)} is in use`);
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
    const link = await this.#whenReady(options);
    const sub = new Subscription(this, id, destination, ack, headers, buffer);
    this.#subscriptions.set(id, sub);
    try {
      await this.#perform(link, options, `SUBSCRIBE to ${destination}`, (receipt) =>
        subscribeFrame(link.version, {
          id,
          destination,
          ack,
          headers,
          ...(receipt === undefined ? {} : { receipt }),
        }),
      );
    } catch (err) {
      this.#subscriptions.delete(id);
      sub.end();
      throw err;
    }
    if (handler !== undefined) {
      sub.run(handler, (error) => {
        this.#emit({
          type: 'error',
          error: error instanceof Error ? error : new Error(String(error)),
        });
      });
    }
    return sub;
  }

  /** @internal Called by {@link Subscription.unsubscribe}. */
  async unsubscribe(sub: Subscription, options: OperationOptions): Promise<void> {
    if (this.#subscriptions.get(sub.id) !== sub) return;
    this.#subscriptions.delete(sub.id);
    const link = this.#link;
    // Without a session there is nothing to tell the broker: the subscription is not replayed.
    if (this.#state !== ClientState.CONNECTED || link === undefined || link.dead) return;
    await this.#perform(link, options, `UNSUBSCRIBE ${sub.id}`, (receipt) =>
      unsubscribeFrame(link.version, {
        id: sub.id,
        destination: sub.destination,
        ...(receipt === undefined ? {} : { receipt }),
      }),
    );
  }

  /** @internal Called by {@link Message.ack} and {@link Message.nack}. */
  async acknowledge(command: 'ACK' | 'NACK', message: Message, options: AckOptions): Promise<void> {
    const link = this.#link;
    if (link?.generation !== message.generation || !link.connected || link.dead) {
      throw new StompError(
        ErrorCode.STALE_MESSAGE,
        `cannot ${command} message ${message.messageId}: it came over an earlier connection ` +
          '(the broker redelivers unacknowledged messages)',
        { frame: message.frame },
      );
    }
    if (command === 'NACK' && link.version === '1.0') {
      throw new StompError(ErrorCode.UNSUPPORTED_VERSION, 'NACK does not exist in STOMP 1.0', {
        frame: message.frame,
      });
    }
    const transaction =
      typeof options.transaction === 'string' ? options.transaction : options.transaction?.id;
    const ids = ackHeaders(message.frame, link.version);
    await this.#perform(link, options, `${command} ${message.messageId}`, (receipt) => {
      const frameOptions = {
        ...(transaction === undefined ? {} : { transaction }),
        ...(receipt === undefined ? {} : { receipt }),
      };
      return command === 'ACK'
        ? ackFrame(link.version, ids, frameOptions)
        : nackFrame(link.version, ids, frameOptions);
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
    const link = await this.#whenReady(options);
    const id = options.id ?? `tx-${String(++this.#ids)}`;
    const tx = new Transaction(this, id, link.generation);
    this.#transactions.add(tx);
    try {
      await this.#perform(link, options, `BEGIN ${id}`, (receipt) =>
        beginFrame(link.version, id, receipt === undefined ? {} : { receipt }),
      );
    } catch (err) {
      this.#transactions.delete(tx);
      tx.lose(err instanceof Error ? err : undefined);
      throw err;
    }
    return tx;
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
    this.#transactions.delete(tx);
    const link = this.#txLink(tx);
    await this.#perform(link, options, `${command} ${tx.id}`, (receipt) => {
      const frameOptions = receipt === undefined ? {} : { receipt };
      return command === 'COMMIT'
        ? commitFrame(link.version, tx.id, frameOptions)
        : abortFrame(link.version, tx.id, frameOptions);
    });
  }

  // ---- shutdown -----------------------------------------------------------------------------

  /**
   * Close gracefully: send DISCONNECT with a receipt, wait for it (up to `timeout`, default the
   * `closeTimeout` option), then close the transport. Frames written before are processed by the
   * broker first. Subscriptions end (their buffered messages stay readable); waiting operations
   * reject with `ERR_STOMP_CONNECTION_CLOSED`. Idempotent.
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
          (receipt) => disconnectFrame(link.version, receipt === undefined ? {} : { receipt }),
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

  /** Same as {@link Client.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
    const failure = error ?? closedError();
    this.#ready.reject(failure);
    for (const pending of this.#receipts.values()) pending.done.reject(failure);
    this.#receipts.clear();
    for (const tx of this.#transactions) tx.lose(error);
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
