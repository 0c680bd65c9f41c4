// COMMIT: apply the transaction's SENDs, ACKs and NACKs in order.
import type { Frame } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';
import type { TxOp } from '../session/state.js';

export function handleCommit(session: Session, frame: Frame): MaybePromise<void> {
  const { ops } = session.state.commit(frame);
  const applied = runInOrder(ops, 0);
  if (frame.header('receipt') === undefined) return applied;
  // The RECEIPT promises the whole transaction is durable: one journal sync covers every op.
  const flush = (): MaybePromise<void> => session.engine.flush?.();
  return applied instanceof Promise ? applied.then(flush) : flush();
}

// Run operations in order; synchronous until one returns a promise, then chained.
function runInOrder(ops: readonly TxOp[], from: number): MaybePromise<void> {
  for (let i = from; i < ops.length; i++) {
    const r = ops[i]!();
    if (r instanceof Promise) return r.then(() => runInOrder(ops, i + 1));
  }
  return undefined;
}
