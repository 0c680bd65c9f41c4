// COMMIT: hand the transaction's SENDs, ACKs and NACKs to the engine as data, in order; the
// engine applies them as one commit (or refuses it).
import { ErrorCode, type Frame, StompProtocolError } from '@stompede/core';
import type { Connection } from '../connection.js';
import type { MaybePromise, TxOp } from '../engine.js';

export function handleCommit(conn: Connection, frame: Frame): MaybePromise<void> {
  const tx = frame.header('transaction')!;
  const pending = conn.transactions.get(tx);
  if (pending === undefined) throw unknownTransaction(frame, tx);
  conn.transactions.delete(tx);
  const ops: TxOp[] = [];
  for (const op of pending) {
    if (op.kind === 'publish') {
      ops.push(op);
      conn.metrics.messagesPublished++;
      conn.traffic.messagesIn++;
    }
    // An ACK of a subscription that has since gone settles nothing: its deliveries were requeued.
    else if (conn.subscriptions.get(op.sub.id) === op.sub) {
      for (const o of op.sub.commitOps(op.key, op.kind === 'nack', op.requeue)) ops.push(o);
    }
  }
  // The RECEIPT promises the whole transaction is durable: one journal sync covers every op.
  return conn.engine.commit(conn.vhost, conn.id, ops, frame.header('receipt') !== undefined);
}

export function unknownTransaction(frame: Frame, tx: string): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.UNKNOWN_TRANSACTION,
    `${frame.command} of transaction ${JSON.stringify(tx.slice(0, 200))}, which is not open`,
    { frame, header: 'transaction' },
  );
}
