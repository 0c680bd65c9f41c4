// COMMIT: hand the transaction's SENDs, ACKs and NACKs to the engine as data, in order; the
// engine applies them as one commit (or refuses it).
import type { Frame } from '@stompede/core';
import type { MaybePromise, TxOp } from '../engine.js';
import type { Session } from '../session/session.js';

export function handleCommit(session: Session, frame: Frame): MaybePromise<void> {
  const state = session.state;
  const ops: TxOp[] = [];
  let published = 0;
  for (const op of state.commit(frame).ops) {
    if (op.kind === 'publish') {
      ops.push(op);
      published++;
    }
    // An ACK of a subscription that has since gone settles nothing: its deliveries were requeued.
    else if (state.subscriptions.get(op.sub.id) === op.sub) {
      for (const o of op.sub.commitOps(op.key, op.kind === 'nack', op.requeue)) ops.push(o);
    }
  }
  session.countPublished(published);
  // The RECEIPT promises the whole transaction is durable: one journal sync covers every op.
  return session.engine.commit(
    session.vhost,
    session.id,
    ops,
    frame.header('receipt') !== undefined,
  );
}
