// What one session holds between frames: its subscriptions, the index of their unacknowledged
// deliveries, and its open transactions with the operations deferred to COMMIT. The rules on
// them (duplicate and unknown ids, limits) are checked here, once.
import { ErrorCode, type Frame, StompProtocolError } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import { AckIndex } from './ack-index.js';
import type { Subscription } from './subscription.js';

/** An operation a transaction defers to COMMIT. */
export type TxOp = () => MaybePromise<void>;

/** The limits a session's state enforces. */
export interface StateLimits {
  /** Subscriptions open at once. */
  readonly maxSubscriptions: number;
  /** Transactions open at once. */
  readonly maxTransactions: number;
  /** Operations one transaction may hold. */
  readonly maxTransactionFrames: number;
}

/** The subscriptions and transactions of one session. */
export class SessionState {
  private readonly subs = new Map<string, Subscription>();
  private readonly transactions = new Map<string, TxOp[]>();
  /** The unacknowledged deliveries of every subscription. */
  readonly acks = new AckIndex<Subscription>(this.subs);

  constructor(private readonly limits: StateLimits) {}

  /** The open subscriptions by id. */
  get subscriptions(): ReadonlyMap<string, Subscription> {
    return this.subs;
  }

  /**
   * Check that SUBSCRIBE `frame` may open subscription `id`, then open the one `create` makes.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_SUBSCRIPTION` for an id already open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxSubscriptions`, or what `create` throws
   */
  subscribe(frame: Frame, id: string, create: () => Subscription): Subscription {
    if (this.subs.has(id)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_SUBSCRIPTION,
        `subscription id ${JSON.stringify(id)} is already in use on this connection`,
        { frame, header: 'id' },
      );
    }
    if (this.subs.size >= this.limits.maxSubscriptions) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `more than ${String(this.limits.maxSubscriptions)} subscriptions on one connection`,
        { frame },
      );
    }
    const sub = create();
    this.subs.set(id, sub);
    return sub;
  }

  /** Forget subscription `sub` (it could not attach). */
  forget(sub: Subscription): void {
    if (this.subs.get(sub.id) === sub) this.subs.delete(sub.id);
  }

  /** Remove a subscription, requeueing its unacknowledged deliveries. */
  unsubscribe(sub: Subscription): MaybePromise<void> {
    this.subs.delete(sub.id);
    return sub.close();
  }

  /**
   * Open transaction `tx`.
   *
   * @throws StompProtocolError `ERR_STOMP_DUPLICATE_TRANSACTION` for an id already open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxTransactions`
   */
  begin(frame: Frame, tx: string): void {
    if (this.transactions.has(tx)) {
      throw new StompProtocolError(
        ErrorCode.DUPLICATE_TRANSACTION,
        `transaction ${JSON.stringify(tx.slice(0, 200))} is already open`,
        { frame, header: 'transaction' },
      );
    }
    if (this.transactions.size >= this.limits.maxTransactions) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `more than ${String(this.limits.maxTransactions)} open transactions`,
        { frame, header: 'transaction' },
      );
    }
    this.transactions.set(tx, []);
  }

  /**
   * Defer `op` to the COMMIT of transaction `tx`.
   *
   * @throws StompProtocolError `ERR_STOMP_UNKNOWN_TRANSACTION` when `tx` is not open,
   * `ERR_STOMP_LIMIT_EXCEEDED` beyond `maxTransactionFrames`
   */
  enlist(frame: Frame, tx: string, op: TxOp): void {
    const ops = this.open(frame, tx);
    if (ops.length >= this.limits.maxTransactionFrames) {
      throw new StompProtocolError(
        ErrorCode.LIMIT_EXCEEDED,
        `transaction ${JSON.stringify(tx.slice(0, 200))} holds more than ${String(this.limits.maxTransactionFrames)} frames`,
        { frame, header: 'transaction' },
      );
    }
    ops.push(op);
  }

  /** Close transaction `tx` and return its operations, in order. Throws when it is not open. */
  commit(frame: Frame, tx: string): readonly TxOp[] {
    const ops = this.open(frame, tx);
    this.transactions.delete(tx);
    return ops;
  }

  /** Close transaction `tx`, discarding its operations. Throws when it is not open. */
  abort(frame: Frame, tx: string): void {
    this.open(frame, tx);
    this.transactions.delete(tx);
  }

  /**
   * The session ended: detach every subscription (their unacknowledged deliveries are requeued)
   * and drop open transactions. `onError` gets what a detach threw or rejected with.
   */
  close(onError: (err: unknown) => void): void {
    this.transactions.clear();
    for (const sub of this.subs.values()) {
      try {
        const r = sub.close();
        if (r instanceof Promise) r.catch(onError);
      } catch (err) {
        onError(err);
      }
    }
    this.subs.clear();
    this.acks.clear();
  }

  private open(frame: Frame, tx: string): TxOp[] {
    const ops = this.transactions.get(tx);
    if (ops === undefined) {
      throw new StompProtocolError(
        ErrorCode.UNKNOWN_TRANSACTION,
        `${frame.command} names transaction ${JSON.stringify(tx.slice(0, 200))}, which is not open`,
        { frame, header: 'transaction' },
      );
    }
    return ops;
  }
}
