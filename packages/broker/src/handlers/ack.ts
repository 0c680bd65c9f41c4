// ACK (and the shared ACK/NACK logic): find the delivery by its ack key, settle it now or at
// COMMIT. `client` mode is cumulative, `client-individual` is not.
import { ErrorCode, type Frame, StompProtocolError, interpretAck } from '@stompede/core';
import type { Connection } from '../connection.js';
import type { MaybePromise } from '../engine.js';

/** ACK or NACK `frame`. */
export function settle(conn: Connection, frame: Frame, nack: boolean): MaybePromise<void> {
  const request = interpretAck(frame, conn.version);
  const key = request.id ?? request.messageId!;
  const sub = conn.findUnacked(key);
  if (
    sub === undefined ||
    (request.subscription !== undefined && request.subscription !== sub.id)
  ) {
    const header = conn.version === '1.2' ? 'id' : 'message-id';
    throw new StompProtocolError(
      ErrorCode.INVALID_HEADER_VALUE,
      `${frame.command} of ${JSON.stringify(key.slice(0, 200))}: no such unacknowledged message on this connection`,
      { frame, header },
    );
  }
  const requeue = frame.header('requeue') !== 'false';
  if (request.transaction !== undefined) {
    conn.addToTransaction(request.transaction, frame, () =>
      conn.subscriptions.get(sub.id) === sub ? sub.settle(key, nack, requeue, false) : undefined,
    );
    return;
  }
  // As for SEND: only a RECEIPT waits for the acknowledgement to be durable.
  return sub.settle(key, nack, requeue, frame.header('receipt') !== undefined);
}

export function handleAck(conn: Connection, frame: Frame): MaybePromise<void> {
  return settle(conn, frame, false);
}
