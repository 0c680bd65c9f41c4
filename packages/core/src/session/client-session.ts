// The client's session state, with no I/O: which state the connection is in, the negotiated
// version and heart-beats, the subscriptions to replay after a reconnect, the open transactions
// and the receipts still awaited. Each operation returns the frame to write; the caller owns the
// socket and the timers.
import {
  type AckFrameOptions,
  type ConnectFrameOptions,
  type FrameOptions,
  type SendFrameOptions,
  type SubscribeFrameOptions,
  abortFrame,
  ackFrame,
  ackHeaders,
  beginFrame,
  commitFrame,
  connectFrame,
  disconnectFrame,
  interpretConnected,
  interpretReceipt,
  nackFrame,
  sendFrame,
  subscribeFrame,
  unsubscribeFrame,
} from '../commands/index.js';
import { type AckMode, missingHeader, unexpectedFrame } from '../commands/common.js';
import { validateClientFrame } from '../commands/validate.js';
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '../errors.js';
import { Frame, type HeaderEntry, ServerCommand } from '../frame.js';
import { type NegotiatedHeartBeat, NO_HEART_BEAT, negotiateHeartBeat } from '../negotiate.js';
import { SUPPORTED_VERSIONS, type StompVersion } from '../version.js';

/** Where a {@link ClientSession} is in its life. */
export const SessionState = {
  /** No connection, or the previous one ended. */
  DISCONNECTED: 'disconnected',
  /** CONNECT was sent; waiting for CONNECTED. */
  CONNECTING: 'connecting',
  /** CONNECTED was received: frames may be sent. */
  CONNECTED: 'connected',
  /** DISCONNECT was sent: waiting for its receipt or the socket to close. */
  DISCONNECTING: 'disconnecting',
} as const;
/** A {@link SessionState} value. */
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** A subscription the session remembers (and replays after a reconnect). */
export interface SessionSubscription {
  /** Its `id`. */
  readonly id: string;
  /** Its `destination`. */
  readonly destination: string;
  /** Its `ack` mode (`auto` when none was given). */
  readonly ack: AckMode;
  /** Every header of its SUBSCRIBE frame but `receipt`, in order: what {@link ClientSession.replay} sends. */
  readonly headers: readonly HeaderEntry[];
}

/** A receipt asked for and not yet received. */
export interface PendingReceipt {
  /** The `receipt` header sent, which the RECEIPT's `receipt-id` will match. */
  readonly receiptId: string;
  /** The command of the frame that asked for it, e.g. `SEND` or `DISCONNECT`. */
  readonly command: string;
}

/** What will never complete once a connection ends, so that a client can fail it. */
export interface PendingWork {
  /** Transactions still open (the server aborts them implicitly). */
  readonly transactions: readonly string[];
  /** Receipts still awaited. */
  readonly receipts: readonly PendingReceipt[];
}

/** What a successful CONNECTED established (see {@link ClientSession.connected}). */
export interface SessionInfo {
  /** The negotiated version. */
  readonly version: StompVersion;
  /** The heart-beat periods this client keeps (`send`) and checks (`receive`), in ms. */
  readonly heartBeat: NegotiatedHeartBeat;
  /** The server's `session` header. */
  readonly session: string | undefined;
  /** The server's `server` header. */
  readonly server: string | undefined;
}

/** Options of {@link ClientSession.subscribe}: {@link SubscribeFrameOptions} with an optional id. */
export type SessionSubscribeOptions = SubscribeFrameOptions;

const NO_BEATS: NegotiatedHeartBeat = Object.freeze({ send: 0, receive: 0 });

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
 */
export class ClientSession {
  #state: SessionState = SessionState.DISCONNECTED;
  #version: StompVersion | undefined;
  #heartBeat: NegotiatedHeartBeat = NO_BEATS;
  #server: string | undefined;
  #sessionId: string | undefined;
  #offered: readonly StompVersion[] = SUPPORTED_VERSIONS;
  #localHeartBeat = NO_HEART_BEAT;
  #nextSubscription = 0;
  #nextTransaction = 0;
  readonly #subscriptions = new Map<string, SessionSubscription>();
  readonly #transactions = new Set<string>();
  readonly #receipts = new Map<string, PendingReceipt>();

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
  get subscriptions(): SessionSubscription[] {
    return [...this.#subscriptions.values()];
  }

  /** The subscription with this id, if any. */
  subscription(id: string): SessionSubscription | undefined {
    return this.#subscriptions.get(id);
  }

  /** The open transactions, in the order they began. */
  get transactions(): string[] {
    return [...this.#transactions];
  }

  /** The receipts awaited, in the order they were asked for. */
  get pendingReceipts(): PendingReceipt[] {
    return [...this.#receipts.values()];
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
    return frame;
  }

  /**
   * Take the server's answer to CONNECT. State: connecting → connected; on any error (an ERROR
   * frame is thrown as a `StompServerError` with `ERR_STOMP_CONNECTION_REFUSED`) → disconnected.
   * Subscriptions from an earlier connection are kept: call {@link replay} next.
   */
  connected(frame: Frame): SessionInfo {
    this.#expect('connected', SessionState.CONNECTING);
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
   * when not given) and remembers the subscription.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_SUBSCRIPTION` for an id already in use
   */
  subscribe(options: SessionSubscribeOptions): Frame {
    const version = this.#connected('subscribe');
    let id = options.id;
    if (id === undefined) {
      do id = String(this.#nextSubscription++);
      while (this.#subscriptions.has(id));
    } else if (this.#subscriptions.has(id)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_SUBSCRIPTION,
        `subscription id ${JSON.stringify(id)} is already in use on this connection`,
        { header: 'id' },
      );
    }
    const frame = this.#track(subscribeFrame(version, { ...options, id }));
    this.#subscriptions.set(id, {
      id,
      destination: options.destination,
      ack: options.ack ?? 'auto',
      headers: frame.headers.filter(([name]) => name !== 'receipt'),
    });
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
    this.#subscriptions.delete(id);
    return frame;
  }

  /**
   * The subscription a received MESSAGE belongs to (by its `subscription` header; for a 1.0
   * server that omits it, the subscription to its destination). Messages may still arrive for
   * a subscription just removed: the caller decides whether to drop them.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_SUBSCRIPTION` when no subscription matches,
   * `ERR_STOMP_MISSING_HEADER` for a MESSAGE without what the version requires
   */
  message(frame: Frame): SessionSubscription {
    const version = this.#connected('message');
    // The checks of interpretMessage, decoding only the header used (per message, the others
    // are unique strings nobody asked for yet).
    if (frame.command !== ServerCommand.MESSAGE) throw unexpectedFrame(frame, 'expected MESSAGE');
    if (!frame.has('destination')) throw missingHeader(frame, 'destination', version);
    if (!frame.has('message-id')) throw missingHeader(frame, 'message-id', version);
    const subscription = frame.header('subscription');
    let sub: SessionSubscription | undefined;
    if (subscription !== undefined) {
      sub = this.#subscriptions.get(subscription);
    } else {
      if (version !== '1.0') throw missingHeader(frame, 'subscription', version);
      const destination = frame.header('destination');
      for (const candidate of this.#subscriptions.values()) {
        if (candidate.destination === destination) {
          sub = candidate;
          break;
        }
      }
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
  received(frame: Frame): PendingReceipt {
    if (this.#state !== SessionState.CONNECTED && this.#state !== SessionState.DISCONNECTING) {
      throw invalidState('received', this.#state);
    }
    const receiptId = interpretReceipt(frame);
    const pending = this.#receipts.get(receiptId);
    if (pending === undefined) {
      throw new StompProtocolError(
        ErrorCode.UNKNOWN_RECEIPT,
        `RECEIPT for ${JSON.stringify(receiptId)}, which no frame asked for or was already received`,
        { frame, header: 'receipt-id' },
      );
    }
    this.#receipts.delete(receiptId);
    return pending;
  }

  /**
   * The connection ended on purpose (after DISCONNECT, or by the caller): report what will never
   * complete, then forget it and the subscriptions. State → disconnected. Safe in any state.
   */
  close(): PendingWork {
    const pending = this.lost();
    this.#subscriptions.clear();
    return pending;
  }

  /**
   * The connection was lost: report the open transactions and awaited receipts (they will never
   * complete) and forget them, but keep the subscriptions for {@link replay} after the next
   * {@link connect}. State → disconnected. Safe in any state.
   */
  lost(): PendingWork {
    const pending: PendingWork = {
      transactions: this.transactions,
      receipts: this.pendingReceipts,
    };
    this.#transactions.clear();
    this.#receipts.clear();
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

function invalidState(
  operation: string,
  state: SessionState,
  needed?: SessionState,
): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.INVALID_STATE,
    `cannot ${operation} while ${state}` + (needed === undefined ? '' : ` (needs ${needed})`),
  );
}

function unknownSubscription(id: string, frame?: Frame): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.UNKNOWN_SUBSCRIPTION,
    `no subscription ${JSON.stringify(id)} on this connection`,
    frame === undefined ? { header: 'id' } : { frame, header: 'subscription' },
  );
}
