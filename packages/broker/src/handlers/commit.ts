// COMMIT: apply the transaction's SENDs, ACKs and NACKs in order.
import { ErrorCode, type Frame, StompProtocolError } from '@stompede/core';
import type { Connection } from '../connection.js';
import type { MaybePromise } from '../engine.js';

export function handleCommit(conn: Connection, frame: Frame): MaybePromise<void> {
  const tx = frame.header('transaction')!;
  const ops = conn.transactions.get(tx);
  if (ops === undefined) throw unknownTransaction(frame, tx);
  conn.transactions.delete(tx);
  const applied = runInOrder(ops, 0);
  if (frame.header('receipt') === undefined) return applied;
  // The RECEIPT promises the whole transaction is durable: one journal sync covers every op.
  const flush = (): MaybePromise<void> => conn.engine.flush?.();
  return applied instanceof Promise ? applied.then(flush) : flush();
}

// Run operations in order; synchronous until one returns a promise, then chained.
function runInOrder(ops: readonly (() => MaybePromise<void>)[], from: number): MaybePromise<void> {
  for (let i = from; i < ops.length; i++) {
    const r = ops[i]!();
    if (r instanceof Promise) return r.then(() => runInOrder(ops, i + 1));
  }
  return undefined;
}

export function unknownTransaction(frame: Frame, tx: string): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.UNKNOWN_TRANSACTION,
    `${frame.command} of transaction ${JSON.stringify(tx.slice(0, 200))}, which is not open`,
    { frame, header: 'transaction' },
  );
}
