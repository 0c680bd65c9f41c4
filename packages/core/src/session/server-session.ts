// Per-connection bookkeeping for a server: the subscriptions and transactions a client opened,
// with the errors the spec implies for duplicates and unknown ids. No I/O, no delivery.
import { type SubscribeRequest, interpretSubscribe } from '../commands/subscribe.js';
import { interpretUnsubscribe } from '../commands/unsubscribe.js';
import { type TransactionCommand, readTransaction } from '../commands/transaction.js';
import { ErrorCode, StompProtocolError } from '../errors.js';
import type { Frame } from '../frame.js';
import type { StompVersion } from '../version.js';

/** Options of {@link ServerSession}. */
export interface ServerSessionOptions {
  /** Most subscriptions open at once (`ERR_STOMP_LIMIT_EXCEEDED` beyond). Default unlimited. */
  readonly maxSubscriptions?: number;
  /** Most transactions open at once (`ERR_STOMP_LIMIT_EXCEEDED` beyond). Default unlimited. */
  readonly maxTransactions?: number;
}

/** What a connection leaves behind when it ends (see {@link ServerSession.close}). */
export interface ServerSessionLeftovers {
  /** Subscriptions still open, to remove from the destinations. */
  readonly subscriptions: readonly SubscribeRequest[];
  /** Transactions still open, to abort implicitly as the spec requires. */
  readonly transactions: readonly string[];
}

/**
 * One client connection's subscriptions and transactions, as a broker tracks them after
 * CONNECTED. Each method reads the frame with its command's interpreter (which applies the
 * rules of the session's version), then applies it.
 *
 * A finished transaction's id is forgotten, so a client may reuse it later; only ids of open
 * transactions are checked for duplicates (remembering every id ever used would let a client
 * grow the server's memory without bound).
 */
export class ServerSession {
  /** The version the connection speaks. */
  readonly version: StompVersion;
  readonly #maxSubscriptions: number;
  readonly #maxTransactions: number;
  readonly #subscriptions = new Map<string, SubscribeRequest>();
  readonly #transactions = new Set<string>();

  constructor(version: StompVersion, options: ServerSessionOptions = {}) {
    this.version = version;
    this.#maxSubscriptions = options.maxSubscriptions ?? Infinity;
    this.#maxTransactions = options.maxTransactions ?? Infinity;
  }

  /** The open subscriptions, oldest first. */
  get subscriptions(): SubscribeRequest[] {
    return [...this.#subscriptions.values()];
  }

  /** The open subscription with this id (for 1.0 subscriptions without id: the destination). */
  subscription(id: string): SubscribeRequest | undefined {
    return this.#subscriptions.get(id);
  }

  /** The open transactions, oldest first. */
  get transactions(): string[] {
    return [...this.#transactions];
  }

  /** True when `transaction` is open. */
  hasTransaction(transaction: string): boolean {
    return this.#transactions.has(transaction);
  }

  /**
   * Apply a SUBSCRIBE frame and return the new subscription.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_SUBSCRIPTION` for an id already open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxSubscriptions`, or a validation error
   */
  subscribe(frame: Frame): SubscribeRequest {
    const request = interpretSubscribe(frame, this.version);
    if (this.#subscriptions.has(request.id)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_SUBSCRIPTION,
        `subscription id ${JSON.stringify(request.id)} is already in use on this connection`,
        { frame, header: request.explicitId ? 'id' : 'destination' },
      );
    }
    if (this.#subscriptions.size >= this.#maxSubscriptions) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `too many subscriptions on this connection (at most ${this.#maxSubscriptions})`,
        { frame },
      );
    }
    this.#subscriptions.set(request.id, request);
    return request;
  }

  /**
   * Apply an UNSUBSCRIBE frame and return the subscription it removed.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_SUBSCRIPTION` for an id not open
   */
  unsubscribe(frame: Frame): SubscribeRequest {
    const id = interpretUnsubscribe(frame, this.version);
    const request = this.#subscriptions.get(id);
    if (request === undefined) {
      throw new StompProtocolError(
        ErrorCode.UNKNOWN_SUBSCRIPTION,
        `no subscription ${JSON.stringify(id)} on this connection`,
        { frame, header: frame.has('id') ? 'id' : 'destination' },
      );
    }
    this.#subscriptions.delete(id);
    return request;
  }

  /**
   * Apply a BEGIN frame; returns the transaction id.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_TRANSACTION` for an id already open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxTransactions`
   */
  begin(frame: Frame): string {
    const transaction = this.#transactionOf(frame, 'BEGIN');
    if (this.#transactions.has(transaction)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_TRANSACTION,
        `transaction ${JSON.stringify(transaction)} is already open on this connection`,
        { frame, header: 'transaction' },
      );
    }
    if (this.#transactions.size >= this.#maxTransactions) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `too many open transactions on this connection (at most ${this.#maxTransactions})`,
        { frame },
      );
    }
    this.#transactions.add(transaction);
    return transaction;
  }

  /** Apply a COMMIT frame; returns the transaction id. Throws `ERR_STOMP_UNKNOWN_TRANSACTION`. */
  commit(frame: Frame): string {
    return this.#finish(frame, 'COMMIT');
  }

  /** Apply an ABORT frame; returns the transaction id. Throws `ERR_STOMP_UNKNOWN_TRANSACTION`. */
  abort(frame: Frame): string {
    return this.#finish(frame, 'ABORT');
  }

  /**
   * The transaction a SEND, ACK or NACK belongs to (`undefined` when none), checked to be open.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_TRANSACTION` for a transaction not open
   */
  transactionOf(frame: Frame): string | undefined {
    const transaction = frame.header('transaction');
    if (transaction !== undefined) this.#requireOpen(frame, transaction);
    return transaction;
  }

  /**
   * The connection ended: return what was still open (abort the transactions, remove the
   * subscriptions) and forget it.
   */
  close(): ServerSessionLeftovers {
    const leftovers = { subscriptions: this.subscriptions, transactions: this.transactions };
    this.#subscriptions.clear();
    this.#transactions.clear();
    return leftovers;
  }

  #transactionOf(frame: Frame, command: TransactionCommand): string {
    return readTransaction(frame, this.version, command).transaction;
  }

  #finish(frame: Frame, command: TransactionCommand): string {
    const transaction = this.#transactionOf(frame, command);
    this.#requireOpen(frame, transaction);
    this.#transactions.delete(transaction);
    return transaction;
  }

  #requireOpen(frame: Frame, transaction: string): void {
    if (!this.#transactions.has(transaction)) {
      throw new StompProtocolError(
        ErrorCode.UNKNOWN_TRANSACTION,
        `transaction ${JSON.stringify(transaction)} is not open on this connection`,
        { frame, header: 'transaction' },
      );
    }
  }
}
