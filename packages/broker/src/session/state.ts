// What one session holds between frames: its subscriptions and open transactions, kept by core's
// ServerSession (the one home of their rules: duplicate and unknown ids, limits), and the index of
// the subscriptions' unacknowledged deliveries.
import { ServerSession, type StompVersion } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Message } from '../message.js';
import { AckIndex, type AckKey } from './ack-index.js';
import type { Subscription } from './subscription.js';

/**
 * One operation of an open transaction, kept until COMMIT: a SEND's message, or an ACK or NACK
 * of the delivery `key` of `sub` (in `client` mode, of every earlier one too).
 */
export type PendingTxOp =
  | { readonly kind: 'publish'; readonly message: Message }
  | {
      readonly kind: 'ack' | 'nack';
      readonly sub: Subscription;
      readonly key: AckKey;
      readonly requeue: boolean;
    };

/** The limits a session's state enforces. */
export interface StateLimits {
  /** Subscriptions open at once. */
  readonly maxSubscriptions: number;
  /** Transactions open at once. */
  readonly maxTransactions: number;
  /** Operations one transaction may hold. */
  readonly maxTransactionFrames: number;
}

/** The subscriptions, transactions and unacknowledged deliveries of one session. */
export class SessionState extends ServerSession<Subscription, PendingTxOp> {
  /** The unacknowledged deliveries of every subscription. */
  readonly acks: AckIndex<Subscription>;

  constructor(version: StompVersion, limits: StateLimits) {
    super(version, {
      maxSubscriptions: limits.maxSubscriptions,
      maxTransactions: limits.maxTransactions,
      maxTransactionOps: limits.maxTransactionFrames,
    });
    this.acks = new AckIndex(this.subscriptions);
  }

  /** Remove a subscription, requeueing its unacknowledged deliveries. */
  detach(sub: Subscription): MaybePromise<void> {
    if (this.subscriptions.get(sub.id) === sub) this.remove(sub.id);
    return sub.close();
  }

  /**
   * The session ended: detach every subscription (their unacknowledged deliveries are requeued)
   * and drop open transactions (aborted, as the spec requires). `onError` gets what a detach
   * threw or rejected with.
   */
  release(onError: (err: unknown) => void): void {
    for (const sub of this.close().subscriptions) {
      try {
        const r = sub.close();
        if (r instanceof Promise) r.catch(onError);
      } catch (err) {
        onError(err);
      }
    }
    this.acks.clear();
  }
}
