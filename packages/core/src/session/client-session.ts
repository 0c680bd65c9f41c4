// The client's session state, with no I/O: which state the connection is in, the negotiated
// version and heart-beats, the subscriptions to replay after a reconnect, the open transactions
// and the receipts still awaited. Each operation returns the frame to write; the caller owns the
// socket and the timers. A caller keeps its own handle of a subscription or a receipt here (the
// `data` of each), so that the state is held once.
import {
  type AckFrameOptions,
  type ConnectFrameOptions,
  type FrameOptions,
  type SendFrameOptions,
  abortFrame,
  ackFrame,
  ackHeaders,
  beginFrame,
  commitFrame,
  connectFrame,
  disconnectFrame,
  interpretConnected,
  interpretError,
  interpretReceipt,
  nackFrame,
  sendFrame,
  subscribeFrame,
  unsubscribeFrame,
} from '../commands/index.js';
import { unexpectedFrame } from '../commands/common.js';
import { checkMessage } from '../commands/message.js';
import { validateClientFrame } from '../commands/validate.js';
import {
  ErrorCode,
  StompInvalidArgumentError,
  StompProtocolError,
  type StompServerError,
} from '../errors.js';
import { Frame, ServerCommand } from '../frame.js';
import { type NegotiatedHeartBeat, NO_HEART_BEAT, negotiateHeartBeat } from '../negotiate.js';
import { SUPPORTED_VERSIONS, type StompVersion } from '../version.js';
import {
  type PendingReceipt,
  type PendingWork,
  type SessionInfo,
  type SessionSubscribeOptions,
  SessionState,
  type SessionSubscription,
} from './client-session-types.js';
import { invalidState, unknownReceipt, unknownSubscription } from './session-errors.js';

export { SessionState } from './client-session-types.js';
export type {
  PendingReceipt,
  PendingWork,
  SessionInfo,
  SessionSubscribeOptions,
  SessionSubscription,
} from './client-session-types.js';

const NO_BEATS: NegotiatedHeartBeat = Object.freeze({ send: 0, receive: 0 });

/**
 * How many unsubscribed ids a connection remembers, so that a MESSAGE still in flight when its
 * UNSUBSCRIBE was sent is told apart from one for a subscription never made (the oldest go first).
 */
const ENDED_IDS = 1024;

/**
 * The client side of a STOMP session as a state machine without I/O (after stompest's
 * StompSession). Every method that sends something returns the frame to write; every frame
 * received goes to {@link connected}, {@link received} or {@link message}.
 *
 * ```ts
 * const session = new ClientSession();
 * write(session.connect({ host: 'broker.example', heartBeat: [10000, 10000] }));
 * const { version, heartBeat } = session.connected(await nextFrame());
 * const sub = session.subscribe({ destination: '/queue/a', ack: 'client-individual' });
 * write(sub); // sub.header('id') is the generated subscription id
 * // ... on reconnect: session.lost(); connect again; then write each of session.replay()
 * ```
 *
 * Subscription ids are generated (`0`, `1`, ...) when not given, in every version, so that a
 * subscription can be replayed and unsubscribed whatever version the next connection speaks.
 * Receipts are tracked from the `receipt` header of every frame built here, wherever it was set.
 *
 * `S` and `R` are what a caller keeps with a subscription and with an awaited receipt (the
 * `data` of {@link SessionSubscription} and {@link PendingReceipt}): a client keeps its consumer
 * and its waiter there instead of in maps of its own.
 */
export class ClientSession<S = unknown, R = unknown> {
  #state: SessionState = SessionState.DISCONNECTED;
  #version: StompVersion | undefined;
  #heartBeat: NegotiatedHeartBeat = NO_BEATS;
  #server: string | undefined;
  #sessionId: string | undefined;
  #offered: readonly StompVersion[] = SUPPORTED_VERSIONS;
  #localHeartBeat = NO_HEART_BEAT;
  #nextSubscription = 0;
  #nextTransaction = 0;
  readonly #subscriptions = new Map<string, SessionSubscription<S>>();
  /** Ids unsubscribed on this connection, with their destinations, oldest first (bounded). */
  readonly #ended = new Map<string, string>();
  readonly #transactions = new Set<string>();
  readonly #receipts = new Map<string, PendingReceipt<R>>();

  /** The current state. */
  get state(): SessionState {
    return this.#state;
  }

  /** The negotiated version while connected or disconnecting, else `undefined`. */
  get version(): StompVersion | undefined {
    return this.#version;
  }

  /** The heart-beat periods negotiated by the last CONNECTED (`{ send: 0, receive: 0 }` before). */
  get heartBeat(): NegotiatedHeartBeat {
    return this.#heartBeat;
  }

  /** The server's `session` header from the last CONNECTED. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The server's `server` header from the last CONNECTED. */
  get server(): string | undefined {
    return this.#server;
  }

  /** The subscriptions in the order they were made. */
  get subscriptions(): SessionSubscription<S>[] {
    return [...this.#subscriptions.values()];
  }

  /** The subscription with this id, if any. */
  subscription(id: string): SessionSubscription<S> | undefined {
    return this.#subscriptions.get(id);
  }

  /** A subscription id not in use (`0`, `1`, ...): what {@link subscribe} generates. */
  nextSubscriptionId(): string {
    let id: string;
    do id = String(this.#nextSubscription++);
    while (this.#subscriptions.has(id));
    return id;
  }

  /** The open transactions, in the order they began. */
  get transactions(): string[] {
    return [...this.#transactions];
  }

  /** The receipts awaited, in the order they were asked for. */
  get pendingReceipts(): PendingReceipt<R>[] {
    return [...this.#receipts.values()];
  }

  /**
   * Attach `data` (e.g. whoever waits) to a receipt that a frame built here asked for; {@link
   * received}, {@link lost} and {@link close} hand it back with the receipt.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_RECEIPT` for a receipt not awaited
   */
  expectReceipt(receiptId: string, data: R): void {
    const pending = this.#receipts.get(receiptId);
    if (pending === undefined) throw unknownReceipt(receiptId);
    this.#receipts.set(receiptId, { receiptId, command: pending.command, data });
  }

  /**
   * Stop awaiting a receipt (the caller gave up waiting): a RECEIPT for it arriving later is
   * unknown to {@link received}. Returns whether it was awaited.
   */
  forgetReceipt(receiptId: string): boolean {
    return this.#receipts.delete(receiptId);
  }

  /**
   * Start connecting: returns the CONNECT (or STOMP) frame. State: disconnected → connecting.
   * The options are those of {@link connectFrame}; `versions` is remembered to check the answer.
   */
  connect(options: ConnectFrameOptions = {}): Frame {
    this.#expect('connect', SessionState.DISCONNECTED);
    const frame = connectFrame(options);
    this.#offered = options.versions ?? SUPPORTED_VERSIONS;
    this.#localHeartBeat = options.heartBeat ?? NO_HEART_BEAT;
    this.#state = SessionState.CONNECTING;
    this.#ended.clear();
    return frame;
  }

  /**
   * Take the server's answer to CONNECT. State: connecting → connected; on any error →
   * disconnected (an ERROR frame is thrown as {@link error} makes it: a `StompServerError` with
   * `ERR_STOMP_AUTHENTICATION_FAILED` for a refused login, ...). Subscriptions from an earlier
   * connection are kept: call {@link replay} next.
   */
  connected(frame: Frame): SessionInfo {
    this.#expect('connected', SessionState.CONNECTING);
    if (frame.command === ServerCommand.ERROR) {
      this.#state = SessionState.DISCONNECTED;
      throw this.error(frame);
    }
    let info;
    try {
      info = interpretConnected(frame, this.#offered);
    } catch (err) {
      this.#state = SessionState.DISCONNECTED;
      throw err;
    }
    this.#state = SessionState.CONNECTED;
    this.#version = info.version;
    this.#heartBeat = negotiateHeartBeat(this.#localHeartBeat, info.heartBeat);
    this.#sessionId = info.session;
    this.#server = info.server;
    return {
      version: info.version,
      heartBeat: this.#heartBeat,
      session: info.session,
      server: info.server,
    };
  }

  /**
   * The SUBSCRIBE frames that restore every remembered subscription on a new connection: same
   * ids, same headers (no `receipt`), in the order they were made. Needs the connected state.
   */
  replay(): Frame[] {
    const version = this.#connected('replay');
    return this.subscriptions.map((sub) => {
      const frame = new Frame('SUBSCRIBE', sub.headers);
      validateClientFrame(frame, version);
      return frame;
    });
  }

  /** Build a SEND frame. A `transaction` must be open (`ERR_STOMP_UNKNOWN_TRANSACTION`). */
  send(options: SendFrameOptions): Frame {
    return this.#track(sendFrame(this.#connected('send'), options));
  }

  /**
   * Subscribe: returns the SUBSCRIBE frame (its `id` header is the subscription's id, generated
   * when not given) and remembers the subscription, with `data` when given.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_SUBSCRIPTION` for an id already in use
   */
  subscribe(options: SessionSubscribeOptions, data?: S): Frame {
    const version = this.#connected('subscribe');
    let id = options.id;
    if (id === undefined) {
      id = this.nextSubscriptionId();
    } else if (this.#subscriptions.has(id)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_SUBSCRIPTION,
        `subscription id ${JSON.stringify(id)} is already in use on this connection`,
        { header: 'id' },
      );
    }
    const frame = this.#track(subscribeFrame(version, { ...options, id }));
    const sub: SessionSubscription<S> = {
      id,
      destination: options.destination,
      ack: options.ack ?? 'auto',
      headers: frame.headers.filter(([name]) => name !== 'receipt'),
    };
    this.#subscriptions.set(id, data === undefined ? sub : { ...sub, data });
    this.#ended.delete(id);
    return frame;
  }

  /**
   * Unsubscribe and forget the subscription.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_SUBSCRIPTION` for an id not subscribed
   */
  unsubscribe(id: string, options: FrameOptions = {}): Frame {
    const version = this.#connected('unsubscribe');
    if (!this.#subscriptions.has(id)) throw unknownSubscription(id);
    const frame = this.#track(unsubscribeFrame(version, { ...options, id }));
    const { destination } = this.#subscriptions.get(id)!;
    this.#subscriptions.delete(id);
    this.#ended.set(id, destination);
    if (this.#ended.size > ENDED_IDS) this.#ended.delete(this.#ended.keys().next().value!);
    return frame;
  }

  /**
   * Forget a subscription without an UNSUBSCRIBE, in any state: the connection that carried it
   * is gone (the broker dropped it with the connection), so it must not be replayed. Returns
   * whether it was remembered.
   */
  forget(id: string): boolean {
    return this.#subscriptions.delete(id);
  }

  /**
   * The subscription a received MESSAGE belongs to (by its `subscription` header; for a 1.0
   * server that omits it, the subscription to its destination), or `undefined` for one that was
   * unsubscribed on this connection: messages already on their way when the UNSUBSCRIBE was sent
   * still arrive, and are dropped. Messages also arrive while disconnecting, until the receipt.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_SUBSCRIPTION` when no subscription matches
   * (none was ever made with that id on this connection), `ERR_STOMP_UNEXPECTED_FRAME` before
   * CONNECTED, `ERR_STOMP_MISSING_HEADER` for a MESSAGE without what the version requires
   */
  message(frame: Frame): SessionSubscription<S> | undefined {
    if (this.#state !== SessionState.CONNECTED && this.#state !== SessionState.DISCONNECTING) {
      throw unexpectedFrame(frame, `MESSAGE while ${this.#state}`);
    }
    const subscription = checkMessage(frame, this.#version!);
    let sub: SessionSubscription<S> | undefined;
    if (subscription !== undefined) {
      sub = this.#subscriptions.get(subscription);
      if (sub === undefined && this.#ended.has(subscription)) return undefined;
    } else {
      // 1.0: a server may omit it; the subscription to the destination is meant.
      const destination = frame.header('destination');
      for (const candidate of this.#subscriptions.values()) {
        if (candidate.destination === destination) {
          sub = candidate;
          break;
        }
      }
      if (sub === undefined && [...this.#ended.values()].includes(destination!)) return undefined;
    }
    if (sub === undefined) {
      throw unknownSubscription(subscription ?? frame.header('destination') ?? '', frame);
    }
    return sub;
  }

  /** Build the ACK for a received MESSAGE (see `ackHeaders`). */
  ack(message: Frame, options: AckFrameOptions = {}): Frame {
    const version = this.#connected('ack');
    return this.#track(ackFrame(version, ackHeaders(message, version), options));
  }

  /** Build the NACK for a received MESSAGE (1.1+). */
  nack(message: Frame, options: AckFrameOptions = {}): Frame {
    const version = this.#connected('nack');
    return this.#track(nackFrame(version, ackHeaders(message, version), options));
  }

  /**
   * Begin a transaction (its id is generated as `tx-0`, `tx-1`, ... when not given); the frame's
   * `transaction` header holds the id.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_TRANSACTION` for an id already open
   */
  begin(transaction?: string, options: FrameOptions = {}): Frame {
    const version = this.#connected('begin');
    let id = transaction;
    if (id === undefined) {
      do id = `tx-${String(this.#nextTransaction++)}`;
      while (this.#transactions.has(id));
    } else if (this.#transactions.has(id)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_TRANSACTION,
        `transaction ${JSON.stringify(id)} is already open on this connection`,
        { header: 'transaction' },
      );
    }
    const frame = this.#track(beginFrame(version, id, options), false);
    this.#transactions.add(id);
    return frame;
  }

  /** Commit an open transaction. Throws `ERR_STOMP_UNKNOWN_TRANSACTION` for another id. */
  commit(transaction: string, options: FrameOptions = {}): Frame {
    const frame = this.#track(commitFrame(this.#connected('commit'), transaction, options));
    this.#transactions.delete(transaction);
    return frame;
  }

  /** Abort an open transaction. Throws `ERR_STOMP_UNKNOWN_TRANSACTION` for another id. */
  abort(transaction: string, options: FrameOptions = {}): Frame {
    const frame = this.#track(abortFrame(this.#connected('abort'), transaction, options));
    this.#transactions.delete(transaction);
    return frame;
  }

  /**
   * Start a graceful disconnect: returns the DISCONNECT frame. State: connected →
   * disconnecting. With a `receipt`, wait for it ({@link received} reports `DISCONNECT`), then
   * close the socket and call {@link close}.
   */
  disconnect(options: FrameOptions = {}): Frame {
    const frame = this.#track(disconnectFrame(this.#connected('disconnect'), options));
    this.#state = SessionState.DISCONNECTING;
    return frame;
  }

  /**
   * Take a RECEIPT frame: returns the receipt it completes (its `command` says what it was for).
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_RECEIPT` for a receipt not awaited
   */
  received(frame: Frame): PendingReceipt<R> {
    if (this.#state !== SessionState.CONNECTED && this.#state !== SessionState.DISCONNECTING) {
      throw invalidState('received', this.#state);
    }
    const receiptId = interpretReceipt(frame);
    const pending = this.#receipts.get(receiptId);
    if (pending === undefined) throw unknownReceipt(receiptId, frame);
    this.#receipts.delete(receiptId);
    return pending;
  }

  /**
   * Take an ERROR frame: returns the error it reports, a `StompServerError` whose code is the
   * broker's (`ERR_STOMP_AUTHENTICATION_FAILED`, `ERR_STOMP_FORBIDDEN`, ... when the frame names
   * or is known to mean one; see `serverErrorCode`), else `ERR_STOMP_SERVER_ERROR`. The receipt
   * it answers (`receipt-id`), if awaited, is the caller's to fail: see {@link received}. The
   * server closes the connection after an ERROR: call {@link lost} once it is gone.
   */
  error(frame: Frame): StompServerError {
    return interpretError(frame);
  }

  /**
   * The receipt an ERROR frame answers (its `receipt-id`), if it is awaited: no longer awaited
   * from now on. Returns `undefined` for an ERROR about no awaited receipt.
   */
  failedReceipt(frame: Frame): PendingReceipt<R> | undefined {
    const receiptId = frame.header('receipt-id');
    if (receiptId === undefined) return undefined;
    const pending = this.#receipts.get(receiptId);
    this.#receipts.delete(receiptId);
    return pending;
  }

  /**
   * The connection ended on purpose (after DISCONNECT, or by the caller): report what will never
   * complete, then forget it and the subscriptions. State → disconnected. Safe in any state.
   */
  close(): PendingWork<R> {
    const pending = this.lost();
    this.#subscriptions.clear();
    return pending;
  }

  /**
   * The connection was lost: report the open transactions and awaited receipts (they will never
   * complete) and forget them, but keep the subscriptions for {@link replay} after the next
   * {@link connect}. State → disconnected. Safe in any state.
   */
  lost(): PendingWork<R> {
    const pending: PendingWork<R> = {
      transactions: this.transactions,
      receipts: this.pendingReceipts,
    };
    this.#transactions.clear();
    this.#receipts.clear();
    this.#ended.clear();
    this.#state = SessionState.DISCONNECTED;
    this.#version = undefined;
    this.#heartBeat = NO_BEATS;
    return pending;
  }

  #expect(operation: string, state: SessionState): void {
    if (this.#state !== state) throw invalidState(operation, this.#state, state);
  }

  #connected(operation: string): StompVersion {
    this.#expect(operation, SessionState.CONNECTED);
    return this.#version!;
  }

  // Check the frame's transaction is open and its receipt not yet awaited, then await the
  // receipt. Callers change their own state only after this returned, so a throw changes nothing.
  #track(frame: Frame, checkTransaction = true): Frame {
    const transaction = frame.header('transaction');
    if (checkTransaction && transaction !== undefined && !this.#transactions.has(transaction)) {
      throw new StompProtocolError(
        ErrorCode.UNKNOWN_TRANSACTION,
        `transaction ${JSON.stringify(transaction)} is not open on this connection`,
        { frame, header: 'transaction' },
      );
    }
    const receiptId = frame.header('receipt');
    if (receiptId === undefined) return frame;
    if (this.#receipts.has(receiptId)) {
      throw new StompInvalidArgumentError(
        `receipt ${JSON.stringify(receiptId)} is already awaited; receipt ids must be unique`,
        { frame, header: 'receipt' },
      );
    }
    this.#receipts.set(receiptId, { receiptId, command: frame.command });
    return frame;
  }
}
