// ACK (and the shared ACK/NACK logic): find the delivery by its ack key, settle it now or at
// COMMIT. `client` mode is cumulative, `client-individual` is not.
import { ErrorCode, type Frame, StompProtocolError } from '@stompede/core';
import type { Connection } from '../connection.js';
import type { MaybePromise } from '../engine.js';
import { isFalseHeader } from '../boolean-header.js';
import { rejectFrame } from './invalid.js';

/** ACK or NACK `frame`. */
export function settle(conn: Connection, frame: Frame, nack: boolean): MaybePromise<void> {
  // Validated here rather than by validateClientFrame (see Connection.process), reading each
  // header once: 1.2 names the delivery by `id`, 1.1 by `message-id` and `subscription`, 1.0
  // by `message-id`; NACK is 1.1+, and from 1.1 on the frame has no body.
  const version = conn.version;
  let key: string | undefined;
  let subscription: string | undefined;
  if (version === '1.2') {
    key = frame.header('id');
  } else {
    key = frame.header('message-id');
    if (version === '1.1') {
      subscription = frame.header('subscription');
      if (subscription === undefined) rejectFrame(conn, frame);
    } else if (nack) {
      rejectFrame(conn, frame);
    }
  }
  if (key === undefined || (version !== '1.0' && frame.body.length > 0)) rejectFrame(conn, frame);
  const found = conn.findUnacked(key);
  if (found === undefined || (subscription !== undefined && subscription !== found.sub.id)) {
    const header = conn.version === '1.2' ? 'id' : 'message-id';
    throw new StompProtocolError(
      ErrorCode.INVALID_HEADER_VALUE,
      `${frame.command} of ${JSON.stringify(key.slice(0, 200))}: no such unacknowledged message on this connection`,
      { frame, header },
    );
  }
  const requeue = !nack || !isFalseHeader(frame.header('requeue'));
  const transaction = frame.header('transaction');
  const { sub, key: ackKey } = found;
  if (transaction !== undefined) {
    conn.addToTransaction(transaction, frame, {
      kind: nack ? 'nack' : 'ack',
      sub,
      key: ackKey,
      requeue,
    });
    return;
  }
  // As for SEND: only a RECEIPT waits for the acknowledgement to be durable.
  return sub.settle(ackKey, nack, requeue, frame.header('receipt') !== undefined);
}

export function handleAck(conn: Connection, frame: Frame): MaybePromise<void> {
  return settle(conn, frame, false);
}
