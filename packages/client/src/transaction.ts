// STOMP transactions: BEGIN, then SEND/ACK/NACK inside, then COMMIT or ABORT.
import { type BodyInit, ErrorCode, StompConnectionError, StompError } from '@stompede/core';
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
  /** The connection was lost while it was open: the broker discarded it. */
  LOST: 'lost',
} as const;
/** One of the {@link TransactionState} values. */
export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState];

/** @internal What a transaction needs from its client. */
export interface TransactionOwner {
  send(destination: string, body: BodyInit, options: SendOptions, tx?: Transaction): Promise<void>;
  finishTransaction(
    tx: Transaction,
    command: 'COMMIT' | 'ABORT',
    options: OperationOptions,
  ): Promise<void>;
}

/**
 * An open transaction. Frames sent through it carry its `transaction` header. Disposing it
 * (`await using tx = await client.begin()`, where the runtime has `Symbol.asyncDispose`) aborts
 * it unless it was committed.
 *
 * If the connection is lost while the transaction is open the broker discards it: the
 * transaction becomes `lost` and every later operation on it rejects with
 * `ERR_STOMP_CONNECTION_LOST`.
 */
export class Transaction {
  /** Aborts the transaction unless it was committed or aborted (for `await using`; defined only where the runtime has `Symbol.asyncDispose`). */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  /** The transaction id. */
  readonly id: string;
  /** @internal The connection the transaction lives on. */
  readonly generation: number;
  readonly #owner: TransactionOwner;
  #state: TransactionState = TransactionState.OPEN;
  #lostError: StompError | undefined;

  /** @internal */
  constructor(owner: TransactionOwner, id: string, generation: number) {
    this.#owner = owner;
    this.id = id;
    this.generation = generation;
  }

  /** The current state. */
  get state(): TransactionState {
    return this.#state;
  }

  /** Send a message inside the transaction (delivered on commit). */
  send(destination: string, body: BodyInit, options: SendOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    return this.#owner.send(destination, body, options, this);
  }

  /** Acknowledge `message` inside the transaction. */
  ack(message: Message, options: AckOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    return message.ack({ ...options, transaction: this.id });
  }

  /** Reject `message` inside the transaction (1.1+). */
  nack(message: Message, options: AckOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    return message.nack({ ...options, transaction: this.id });
  }

  /** COMMIT. Pass `{ receipt: true }` to wait until the broker confirms it. */
  commit(options: OperationOptions = {}): Promise<void> {
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    this.#state = TransactionState.COMMITTED;
    return this.#owner.finishTransaction(this, 'COMMIT', options);
  }

  /** ABORT. A no-op once the transaction was lost with its connection. */
  abort(options: OperationOptions = {}): Promise<void> {
    if (this.#state === TransactionState.LOST) return Promise.resolve();
    const err = this.#check();
    if (err !== undefined) return Promise.reject(err);
    this.#state = TransactionState.ABORTED;
    return this.#owner.finishTransaction(this, 'ABORT', options);
  }

  /** @internal The connection was lost. */
  lose(cause: Error | undefined): void {
    if (this.#state !== TransactionState.OPEN) return;
    this.#state = TransactionState.LOST;
    this.#lostError = new StompConnectionError(
      ErrorCode.CONNECTION_LOST,
      `transaction ${this.id} was lost with its connection; the broker discarded it`,
      cause === undefined ? {} : { cause },
    );
  }

  #check(): StompError | undefined {
    if (this.#state === TransactionState.OPEN) return undefined;
    if (this.#state === TransactionState.LOST) return this.#lostError;
    return new StompError(ErrorCode.INVALID_STATE, `transaction ${this.id} is ${this.#state}`);
  }
}

defineAsyncDispose(Transaction.prototype, async function (this: Transaction) {
  if (this.state === TransactionState.OPEN) await this.abort().catch(() => undefined);
});
