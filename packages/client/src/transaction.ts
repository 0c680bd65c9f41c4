// STOMP transactions: BEGIN, then SEND/ACK/NACK inside, then COMMIT or ABORT.
import { type BodyInit, ErrorCode, StompConnectionError, StompError } from '@stompede/core';
import type { Link } from './link.js';
import type { AckOptions, Message } from './message.js';
import type { OperationOptions, SendOptions } from './options.js';
import { defineAsyncDispose } from './util.js';

/** Where a transaction stands. */
export const TransactionState = {
  /** BEGIN was sent; frames may be added. */
  OPEN: 'open',
  /** COMMIT was sent. */
  COMMITTED: 'committed',
  /** ABORT was sent. */
  ABORTED: 'aborted',
  /** The connection was lost (or the client closed) while it was open: the broker discarded it. */
  LOST: 'lost',
} as const;
/** One of the {@link TransactionState} values. */
export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState];

/**
 * An open transaction. Frames sent through it carry its `transaction` header. Disposing it
 * (`await using tx = await client.begin()`, where the runtime has `Symbol.asyncDispose`) aborts
 * it unless it was committed.
 *
 * If the connection is lost while the transaction is open the broker discards it: the
 * transaction becomes `lost` and every later operation on it rejects with
 * `ERR_STOMP_CONNECTION_LOST`.
 */
export interface Transaction {
  /** Aborts the transaction unless it was committed or aborted (for `await using`; defined only where the runtime has `Symbol.asyncDispose`). */
  readonly [Symbol.asyncDispose]: () => Promise<void>;
  /** The transaction id. */
  readonly id: string;
  /** The current state. */
  readonly state: TransactionState;
  /** Send a message inside the transaction (delivered on commit). */
  send(destination: string, body: BodyInit, options?: SendOptions): Promise<void>;
  /** Acknowledge `message` inside the transaction. */
  ack(message: Message, options?: AckOptions): Promise<void>;
  /** Reject `message` inside the transaction (1.1+). */
  nack(message: Message, options?: AckOptions): Promise<void>;
  /** COMMIT. Pass `{ receipt: true }` to wait until the broker confirms it. */
  commit(options?: OperationOptions): Promise<void>;
  /** ABORT. A no-op once the transaction was lost with its connection. */
  abort(options?: OperationOptions): Promise<void>;
}

/** What a transaction needs from its client. */
export interface TransactionOwner {
  send(
    destination: string,
    body: BodyInit,
    options: SendOptions,
    tx?: TransactionImpl,
  ): Promise<void>;
  finishTransaction(
    tx: TransactionImpl,
    command: 'COMMIT' | 'ABORT',
    options: OperationOptions,
  ): Promise<void>;
}

/** The client's {@link Transaction}: lost as soon as its connection is. */
export class TransactionImpl implements Transaction {
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  readonly id: string;
  /** The connection the transaction lives on (the broker discards it when that one ends). */
  readonly link: Link;
  readonly #owner: TransactionOwner;
  #state: TransactionState = TransactionState.OPEN;

  constructor(owner: TransactionOwner, id: string, link: Link) {
    this.#owner = owner;
    this.id = id;
    this.link = link;
  }

  get state(): TransactionState {
    if (this.#state === TransactionState.OPEN && this.link.isDead()) return TransactionState.LOST;
    return this.#state;
  }

  send(destination: string, body: BodyInit, options: SendOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    return this.#owner.send(destination, body, options, this);
  }

  ack(message: Message, options: AckOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    return message.ack({ ...options, transaction: this.id });
  }

  nack(message: Message, options: AckOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    return message.nack({ ...options, transaction: this.id });
  }

  commit(options: OperationOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    this.#state = TransactionState.COMMITTED;
    return this.#owner.finishTransaction(this, 'COMMIT', options);
  }

  abort(options: OperationOptions = {}): Promise<void> {
    if (this.state === TransactionState.LOST) return Promise.resolve();
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    this.#state = TransactionState.ABORTED;
    return this.#owner.finishTransaction(this, 'ABORT', options);
  }

  /** Why the transaction cannot be used, if it cannot. */
  #check(): StompError | undefined {
    const state = this.state;
    if (state === TransactionState.OPEN) return undefined;
    if (state === TransactionState.LOST) {
      const cause = this.link.death;
      return new StompConnectionError(
        ErrorCode.CONNECTION_LOST,
        `transaction ${this.id} was lost with its connection; the broker discarded it`,
        cause === undefined ? {} : { cause },
      );
    }
    return new StompError(ErrorCode.INVALID_STATE, `transaction ${this.id} is ${state}`);
  }
}

defineAsyncDispose(TransactionImpl.prototype, async function (this: TransactionImpl) {
  if (this.state === TransactionState.OPEN) await this.abort().catch(() => undefined);
});
