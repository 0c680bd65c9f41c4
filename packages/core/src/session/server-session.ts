// Per-connection bookkeeping for a server: the subscriptions and transactions a client opened,
// with the errors the spec implies for duplicates and unknown ids. No I/O, no delivery.
import { type SubscribeRequest, interpretSubscribe } from '../commands/subscribe.js';
import { interpretUnsubscribe } from '../commands/unsubscribe.js';
import { readTransaction } from '../commands/transaction.js';
import { ErrorCode, StompProtocolError } from '../errors.js';
import type { Frame } from '../frame.js';
import type { StompVersion } from '../version.js';

/** Options of {@link ServerSession}. */
export interface ServerSessionOptions {
  /** Most subscriptions open at once (`ERR_STOMP_LIMIT_EXCEEDED` beyond). Default unlimited. */
  readonly maxSubscriptions?: number;
  /** Most transactions open at once (`ERR_STOMP_LIMIT_EXCEEDED` beyond). Default unlimited. */
  readonly maxTransactions?: number;
  /** Most operations one transaction holds (`ERR_STOMP_LIMIT_EXCEEDED` beyond). Default unlimited. */
  readonly maxTransactionOps?: number;
}

/** What a connection leaves behind when it ends (see {@link ServerSession.close}). */
export interface ServerSessionLeftovers<S = SubscribeRequest> {
  /** Subscriptions still open, to remove from the destinations. */
  readonly subscriptions: readonly S[];
  /** Transactions still open, to abort implicitly as the spec requires. */
  readonly transactions: readonly string[];
}

/** A transaction closed by COMMIT (see {@link ServerSession.commit}). */
export interface CommittedTransaction<Op> {
  /** The transaction. */
  readonly transaction: string;
  /** What it holds, in the order it was enlisted. */
  readonly ops: readonly Op[];
}

/** Ids are quoted in errors up to this many characters. */
const SHOWN = 200;

/**
 * One client connection's subscriptions and transactions, as a server tracks them after
 * CONNECTED, with the rules the spec implies: subscription and transaction ids are unique among
 * the open ones, and naming one that is not open is an error. Each method reads its frame with
 * the command's interpreter (which applies the rules of the session's version), then applies it.
 *
 * It holds what the server wants per subscription (`S`: by default the {@link SubscribeRequest})
 * and per enlisted operation (`Op`: by default the frame), so a server keeps its bookkeeping here
 * rather than in a copy.
 *
 * A finished transaction's id is forgotten, so a client may reuse it later; only ids of open
 * transactions are checked for duplicates (remembering every id ever used would let a client
 * grow the server's memory without bound).
 */
export class ServerSession<S = SubscribeRequest, Op = Frame> {
  /** The version the connection speaks. */
  readonly version: StompVersion;
  readonly #maxSubscriptions: number;
  readonly #maxTransactions: number;
  readonly #maxTransactionOps: number;
  readonly #subscriptions = new Map<string, S>();
  // Made by the first BEGIN: most connections never open a transaction, and an idle connection's
  // memory is counted in bytes (an empty Map is ~180).
  #transactions: Map<string, Op[]> | undefined;

  constructor(version: StompVersion, options: ServerSessionOptions = {}) {
    this.version = version;
    this.#maxSubscriptions = options.maxSubscriptions ?? Infinity;
    this.#maxTransactions = options.maxTransactions ?? Infinity;
    this.#maxTransactionOps = options.maxTransactionOps ?? Infinity;
  }

  /** The open subscriptions by id, oldest first. */
  get subscriptions(): ReadonlyMap<string, S> {
    return this.#subscriptions;
  }

  /** The open transactions, oldest first. */
  get transactions(): string[] {
    return this.#transactions === undefined ? [] : [...this.#transactions.keys()];
  }

  /** True when `transaction` is open. */
  hasTransaction(transaction: string): boolean {
    return this.#transactions?.has(transaction) ?? false;
  }

  /**
   * Apply a SUBSCRIBE frame and return the new subscription: the request itself, or what
   * `create` makes of it (nothing is opened when `create` throws).
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_SUBSCRIPTION` for an id already open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxSubscriptions`, or a validation error
   */
  subscribe(this: ServerSession<SubscribeRequest, Op>, frame: Frame): SubscribeRequest;
  subscribe(frame: Frame, create: (request: SubscribeRequest) => S): S;
  subscribe(frame: Frame, create?: (request: SubscribeRequest) => S): S | SubscribeRequest {
    const request = interpretSubscribe(frame, this.version);
    if (this.#subscriptions.has(request.id)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_SUBSCRIPTION,
        `subscription id ${quote(request.id)} is already in use on this connection`,
        { frame, header: request.explicitId ? 'id' : 'destination' },
      );
    }
    if (this.#subscriptions.size >= this.#maxSubscriptions) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `more than ${String(this.#maxSubscriptions)} subscriptions on one connection`,
        { frame },
      );
    }
    const sub = create === undefined ? (request as S) : create(request);
    this.#subscriptions.set(request.id, sub);
    return sub;
  }

  /**
   * Apply an UNSUBSCRIBE frame and return the subscription it removed.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_SUBSCRIPTION` for an id not open
   */
  unsubscribe(frame: Frame): S {
    const id = interpretUnsubscribe(frame, this.version);
    const sub = this.#subscriptions.get(id);
    if (sub === undefined) throw ServerSession.unknownSubscription(frame, id);
    this.#subscriptions.delete(id);
    return sub;
  }

  /** Forget subscription `id` without a frame (it could not be set up); true when it was open. */
  remove(id: string): boolean {
    return this.#subscriptions.delete(id);
  }

  /**
   * The error for an UNSUBSCRIBE naming subscription `id`, which is not open on the connection
   * (for a server that first looks elsewhere, e.g. for a durable subscription of that name).
   */
  static unknownSubscription(frame: Frame, id: string): StompProtocolError {
    return new StompProtocolError(
      ErrorCode.UNKNOWN_SUBSCRIPTION,
      `no subscription ${quote(id)} on this connection`,
      { frame, header: frame.has('id') ? 'id' : 'destination' },
    );
  }

  /**
   * Apply a BEGIN frame; returns the transaction id.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_TRANSACTION` for an id already open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxTransactions`
   */
  begin(frame: Frame): string {
    const transaction = readTransaction(frame, this.version, 'BEGIN').transaction;
    const open = (this.#transactions ??= new Map());
    if (open.has(transaction)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_TRANSACTION,
        `transaction ${quote(transaction)} is already open on this connection`,
        { frame, header: 'transaction' },
      );
    }
    if (open.size >= this.#maxTransactions) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `more than ${String(this.#maxTransactions)} open transactions on this connection`,
        { frame, header: 'transaction' },
      );
    }
    open.set(transaction, []);
    return transaction;
  }

  /**
   * Add `op` to `transaction`, which the SEND, ACK or NACK `frame` names (as its interpreter
   * read it), to apply at COMMIT.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_TRANSACTION` for a transaction not open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxTransactionOps`
   */
  enlist(frame: Frame, transaction: string, op: Op): void {
    const ops = this.#open(frame, transaction);
    if (ops.length >= this.#maxTransactionOps) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `transaction ${quote(transaction)} holds more than ${String(this.#maxTransactionOps)} frames`,
        { frame, header: 'transaction' },
      );
    }
    ops.push(op);
  }

  /**
   * Apply a COMMIT frame: the transaction closes, and what it held is returned to apply.
   * Throws `ERR_STOMP_UNKNOWN_TRANSACTION`.
   */
  commit(frame: Frame): CommittedTransaction<Op> {
    const transaction = readTransaction(frame, this.version, 'COMMIT').transaction;
    const ops = this.#open(frame, transaction);
    this.#transactions?.delete(transaction);
    return { transaction, ops };
  }

  /** Apply an ABORT frame; returns the transaction id. Throws `ERR_STOMP_UNKNOWN_TRANSACTION`. */
  abort(frame: Frame): string {
    const transaction = readTransaction(frame, this.version, 'ABORT').transaction;
    this.#open(frame, transaction);
    this.#transactions?.delete(transaction);
    return transaction;
  }

  /**
   * The connection ended: return what was still open (abort the transactions, remove the
   * subscriptions) and forget it.
   */
  close(): ServerSessionLeftovers<S> {
    const leftovers = {
      subscriptions: [...this.#subscriptions.values()],
      transactions: this.transactions,
    };
    this.#subscriptions.clear();
    this.#transactions = undefined;
    return leftovers;
  }

  #open(frame: Frame, transaction: string): Op[] {
    const ops = this.#transactions?.get(transaction);
    if (ops === undefined) {
      throw new StompProtocolError(
        ErrorCode.UNKNOWN_TRANSACTION,
        `${frame.command} names transaction ${quote(transaction)}, which is not open on this connection`,
        { frame, header: 'transaction' },
      );
    }
    return ops;
  }
}

function quote(id: string): string {
  return JSON.stringify(id.length > SHOWN ? `${id.slice(0, SHOWN)}…` : id);
}
