// The client behind the `Client` interface: drives one core ClientSession over a succession of
// links (one per connection, opened by the connector), with heart-beats, failover and
// subscription replay. The session holds the protocol state and the client's handles in it (each
// subscription's consumer, each awaited receipt's waiter); the link owns the socket, the parser
// and the heart-beats; operations.ts owns the operations and their one write path; this file
// owns the connection's life: connecting, reading, losing it, closing.
import {
  type BodyInit,
  type BrokerAddress,
  ClientSession,
  ErrorCode,
  FailoverSchedule,
  type FailoverUri,
  type Frame,
  parseFailoverUri,
  SessionState,
  type StompVersion,
  StompConnectionError,
  StompInvalidArgumentError,
  StompProtocolError,
} from '@stompede/core';
import type { Client } from './client.js';
import { Connector, type ConnectorHost } from './connector.js';
import { ClientState, type StatusEvent, type StatusEventType, StatusEvents } from './events.js';
import { closedError, Link, type LinkReader, lostError } from './link.js';
import { MessageImpl } from './message.js';
import { Operations, type OperationsHost } from './operations.js';
import {
  type ConnectOptions,
  type OperationOptions,
  type ResolvedOptions,
  resolveOptions,
  type SendOptions,
  type SubscribeOptions,
} from './options.js';
import type { MessageHandler, Subscription, SubscriptionImpl } from './subscription.js';
import type { Transaction } from './transaction.js';
import type { TransportFactory } from './transport.js';
import {
  type Deferred,
  deferred,
  defineAsyncDispose,
  waitFor,
  type WaitOptions,
  toError,
} from './util.js';

/** How an entry point opens transports when the options name no factory. */
export type DefaultTransport = () => TransportFactory;

/** The client's {@link Client}. */
export class ClientImpl implements Client, ConnectorHost, OperationsHost {
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  readonly options: ResolvedOptions;
  readonly #connector: Connector;
  readonly #reconnect: boolean;
  /** The protocol state, with each subscription's consumer and each awaited receipt's waiter. */
  readonly #session = new ClientSession<SubscriptionImpl, Deferred<undefined>>();
  readonly #ops = new Operations(this, this.#session);
  readonly #events = new StatusEvents();
  #state: ClientState = ClientState.CONNECTING;
  #link: Link | undefined;
  #generation = 0;
  #ready: Deferred<undefined> = deferred<undefined>();
  readonly #lifetime = new AbortController();
  readonly #closed = deferred<Error | undefined>();
  #closing: Promise<void> | undefined;
  readonly #reader: LinkReader = {
    message: (link, frame) => this.#deliver(link, frame),
    frame: (link, frame) => {
      this.#onFrame(link, frame);
    },
    ended: (link, error) => {
      this.#lost(link, error);
    },
  };

  constructor(options: ConnectOptions, defaultTransport: DefaultTransport) {
    if (options.url === undefined) {
      throw new StompInvalidArgumentError('url is required (a broker or failover URI)');
    }
    this.options = resolveOptions(options);
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
    const schedule = new FailoverSchedule(uri, options.random ? { random: options.random } : {});
    const factory = options.transport ?? defaultTransport();
    this.#connector = new Connector(factory, schedule, this.options, this.#lifetime.signal);
  }

  get state(): ClientState {
    return this.#state;
  }

  get version(): StompVersion | undefined {
    return this.#link?.version;
  }

  get broker(): BrokerAddress | undefined {
    return this.#link?.connected === true ? this.#link.broker : undefined;
  }

  get server(): string | undefined {
    return this.#session.server;
  }

  get queuedBytes(): number {
    return this.#ops.queuedBytes;
  }

  /** The current link, if any. */
  get link(): Link | undefined {
    return this.#link;
  }

  /** Resolves once the session is usable (connected, subscriptions replayed). */
  get ready(): Promise<undefined> {
    return this.#ready.promise;
  }

  get closed(): Promise<Error | undefined> {
    return this.#closed.promise;
  }

  on<T extends StatusEventType>(
    type: T,
    listener: (event: Extract<StatusEvent, { type: T }>) => void,
  ): () => void {
    return this.#events.on(type, listener);
  }

  status(capacity = 64): AsyncIterable<StatusEvent> {
    return this.#events.status(capacity);
  }

  emit(event: StatusEvent): void {
    this.#events.emit(event);
  }

  // ---- connecting ---------------------------------------------------------------------------

  /** Connect for the first time (used by `connect()`). */
  async start(signal: AbortSignal | undefined): Promise<void> {
    try {
      const link = await this.#connector.connect(this, signal, false);
      this.#established(link, false);
    } catch (err) {
      const error = toError(err);
      this.#finish(error);
      throw error;
    }
  }

  /** Open the STOMP connection on a new transport: the link, reading, CONNECT on its way. */
  attach(broker: Link['broker'], transport: Link['transport']): Link {
    const link = new Link(++this.#generation, broker, transport, this.options.limits);
    this.#link = link;
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
    void link.read(this.#reader);
    link.write(connect, 'CONNECT', {}).catch((err: unknown) => {
      link.handshake.reject(err);
    });
    return link;
  }

  /** A connect attempt on `link` failed. */
  detach(link: Link, error: Error): void {
    link.kill(lostError(error));
    if (this.#link === link) {
      this.#link = undefined;
      this.#resetSession();
    }
  }

  /** Forget the previous connection's state in the session (subscriptions stay for replay). */
  #resetSession(): void {
    if (this.#session.state !== SessionState.DISCONNECTED) this.#session.lost();
  }

  /** The session is usable: release waiting operations. */
  #established(link: Link, reconnected: boolean): void {
    this.#state = ClientState.CONNECTED;
    this.#ready.resolve(undefined);
    this.#events.emit({
      type: 'connected',
      broker: link.broker,
      version: link.version,
      server: this.#session.server,
      session: this.#session.sessionId,
      reconnected,
    });
  }

  async #reconnectLoop(): Promise<void> {
    let link: Link;
    try {
      link = await this.#connector.connect(this, undefined, true);
    } catch (err) {
      this.#finish(toError(err));
      return;
    }
    // Replay the subscriptions, same ids and headers, before anything queued goes out. They are
    // queued together, so that a later UNSUBSCRIBE cannot overtake its SUBSCRIBE.
    try {
      const wait = { timeout: this.options.connectTimeout };
      await Promise.all(
        this.#session.replay().map((frame) => link.write(frame, 'replaying SUBSCRIBE', wait)),
      );
    } catch (err) {
      this.#lost(link, toError(err));
      return;
    }
    if (this.#link !== link || link.isDead()) return;
    this.#established(link, true);
  }

  // ---- reading ------------------------------------------------------------------------------

  /**
   * Hand a MESSAGE to its subscription, waiting (without reading the connection) while the
   * subscription's buffer is full, so a buffer never holds more than its capacity.
   */
  #deliver(link: Link, frame: Frame): Promise<void> | undefined {
    let sub: SubscriptionImpl | undefined;
    try {
      // undefined: in flight when the application unsubscribed, dropped on purpose.
      sub = this.#session.message(frame)?.data;
    } catch (err) {
      // Before CONNECTED the broker breaks the protocol: the attempt fails, saying why. After,
      // a subscription never made or a header missing is reported, and the client goes on.
      if (!link.handshake.settled) link.handshake.reject(err);
      else this.#events.emit({ type: 'error', error: toError(err) });
      return undefined;
    }
    if (sub === undefined || !sub.active) return undefined;
    if (sub.queue.full) return this.#deliverWhenRoom(link, frame, sub);
    sub.queue.push(new MessageImpl(this.#ops, frame, sub.id, sub.ack, link.generation));
    return undefined;
  }

  /** {@link #deliver} to a full subscription: hold the read until it has room. */
  async #deliverWhenRoom(link: Link, frame: Frame, sub: SubscriptionImpl): Promise<void> {
    link.blocked = true;
    await sub.queue.whenNotFull();
    link.blocked = false;
    link.lastRead = Date.now();
    if (link.isDead()) return; // an ended subscription ignores the push
    sub.queue.push(new MessageImpl(this.#ops, frame, sub.id, sub.ack, link.generation));
  }

  #onFrame(link: Link, frame: Frame): void {
    switch (frame.command) {
      case 'CONNECTED':
        if (!link.handshake.settled) this.#onConnected(link, frame);
        else this.#unexpected(frame, 'a second CONNECTED');
        return;
      case 'RECEIPT': {
        if (this.#link !== link) return;
        try {
          this.#session.received(frame).data?.resolve(undefined);
        } catch {
          // A receipt nobody waits for any more (its wait gave up) or a duplicate: no news.
        }
        return;
      }
      case 'ERROR':
        this.#onError(link, frame);
        return;
      default:
        this.#unexpected(frame, `${frame.command} from a broker`);
    }
  }

  #unexpected(frame: Frame, what: string): void {
    const error = new StompProtocolError(ErrorCode.UNEXPECTED_FRAME, `unexpected frame: ${what}`, {
      frame,
    });
    this.#events.emit({ type: 'error', error });
  }

  #onConnected(link: Link, frame: Frame): void {
    try {
      const info = this.#session.connected(frame);
      link.transport.onConnected?.({
        version: info.version,
        server: info.server,
        session: info.session,
      });
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
    // The broker's code where it names one (a refused login, a denied destination, ...).
    const error = this.#session.error(frame);
    if (!link.handshake.settled) {
      link.handshake.reject(error);
      return;
    }
    this.#session.failedReceipt(frame)?.data?.reject(error);
    this.#events.emit({ type: 'error', error });
    // The spec has the server close the connection after an ERROR frame.
    this.#lost(link, error);
  }

  /** A link died: fail what depended on it, then reconnect or close. */
  #lost(link: Link, error: Error): void {
    if (link.isDead()) return;
    const lost = lostError(error);
    link.kill(lost, error);
    link.handshake.reject(error);
    if (this.#link !== link) return;
    this.#link = undefined;
    if (!link.connected) return; // a failed attempt: the connector handles it
    for (const { data } of this.#session.lost().receipts) data?.reject(lost);
    if (this.#state === ClientState.CLOSING || this.#state === ClientState.CLOSED) return;
    this.#events.emit({ type: 'disconnected', broker: link.broker, error });
    if (this.#ready.settled) this.#ready = deferred<undefined>();
    if (!this.#reconnect) {
      this.#finish(lost);
      return;
    }
    this.#state = ClientState.RECONNECTING;
    void this.#reconnectLoop();
  }

  // ---- operations (operations.ts) -----------------------------------------------------------

  send(destination: string, body: BodyInit, options?: SendOptions): Promise<void> {
    return this.#ops.send(destination, body, options);
  }

  subscribe(
    destination: string,
    options?: SubscribeOptions,
    handler?: MessageHandler,
  ): Promise<Subscription> {
    return this.#ops.subscribe(destination, options, handler);
  }

  begin(options?: OperationOptions & { readonly id?: string }): Promise<Transaction> {
    return this.#ops.begin(options);
  }

  transaction<T>(
    work: (tx: Transaction) => Promise<T> | T,
    options?: OperationOptions,
  ): Promise<T> {
    return this.#ops.transaction(work, options);
  }

  // ---- shutdown -----------------------------------------------------------------------------

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
    if (connected && link?.connected === true && !link.isDead()) {
      const timeout = options.timeout ?? this.options.closeTimeout;
      const wait = { receipt: true, timeout, signal: options.signal };
      try {
        await this.#ops.disconnect(link, wait);
        link.retire(closedError());
        await waitFor(link.transport.close(), 'closing the transport', wait);
      } catch {
        // The broker did not confirm in time: close anyway.
      }
    }
    this.#finish(undefined);
  }

  destroy(error?: Error): void {
    this.#finish(error);
  }

  /** Closed for good: everything pending fails with `error`, or as closed on request. */
  #finish(error: Error | undefined): void {
    if (this.#state === ClientState.CLOSED) return;
    this.#state = ClientState.CLOSED;
    this.#lifetime.abort();
    const death = error ?? closedError();
    const link = this.#link;
    this.#link = undefined;
    if (link !== undefined) {
      link.kill(death, error);
      link.handshake.reject(death);
    }
    const subscriptions = this.#session.subscriptions;
    for (const { data } of this.#session.close().receipts) data?.reject(death);
    this.#ready.reject(death);
    for (const { data } of subscriptions) data?.end(error);
    if (link?.connected === true) {
      this.#events.emit({ type: 'disconnected', broker: link.broker, error });
    }
    this.#events.emit({ type: 'closed', error });
    this.#events.end();
    this.#closed.resolve(error);
  }
}

defineAsyncDispose(ClientImpl.prototype, function (this: ClientImpl) {
  return this.close();
});

/** Connect with `defaultTransport` unless the options name a transport (the entry points' connect). */
export async function connectWith(
  target: string | ConnectOptions,
  options: ConnectOptions,
  defaultTransport: DefaultTransport,
): Promise<Client> {
  const merged: ConnectOptions = typeof target === 'string' ? { ...options, url: target } : target;
  const client = new ClientImpl(merged, defaultTransport);
  await client.start(merged.signal);
  return client;
}
