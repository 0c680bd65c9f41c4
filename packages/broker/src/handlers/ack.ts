// ACK (and the shared ACK/NACK logic): find the delivery by its ack key, settle it now or at
// COMMIT. `client` mode is cumulative, `client-individual` is not.
import { ErrorCode, type Frame, StompProtocolError } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';
import { rejectFrame } from './invalid.js';

/** ACK or NACK `frame`. */
export function settle(session: Session, frame: Frame, nack: boolean): MaybePromise<void> {
  // Validated here rather than by validateClientFrame (see session/connection.ts), reading each
  // header once: 1.2 names the delivery by `id`, 1.1 by `message-id` and `subscription`, 1.0
  // by `message-id`; NACK is 1.1+, and from 1.1 on the frame has no body.
  const version = session.version;
  let key: string | undefined;
  let subscription: string | undefined;
  if (version === '1.2') {
    key = frame.header('id');
  } else {
    key = frame.header('message-id');
    if (version === '1.1') {
      subscription = frame.header('subscription');
      if (subscription === undefined) rejectFrame(session, frame);
    } else if (nack) {
      rejectFrame(session, frame);
    }
  }
  if (key === undefined || (version !== '1.0' && frame.body.length > 0))
    rejectFrame(session, frame);
  const state = session.state;
  const ackKey = state.acks.keyOf(key);
  const sub = state.acks.find(ackKey);
  if (sub === undefined || (subscription !== undefined && subscription !== sub.id)) {
    const header = version === '1.2' ? 'id' : 'message-id';
    throw new StompProtocolError(
      ErrorCode.INVALID_HEADER_VALUE,
      `${frame.command} of ${JSON.stringify(key.slice(0, 200))}: no such unacknowledged message on this connection`,
      { frame, header },
    );
  }
  const requeue = !nack || frame.header('requeue') !== 'false';
  const transaction = frame.header('transaction');
  if (transaction !== undefined) {
    state.enlist(frame, transaction, () =>
      state.subscriptions.get(sub.id) === sub
        ? sub.settle(ackKey, nack, requeue, false)
        : undefined,
    );
    return;
  }
  // As for SEND: only a RECEIPT waits for the acknowledgement to be durable.
  return sub.settle(ackKey, nack, requeue, frame.header('receipt') !== undefined);
}

export function handleAck(session: Session, frame: Frame): MaybePromise<void> {
  return settle(session, frame, false);
}
