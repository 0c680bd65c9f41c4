// ACK (and the shared ACK/NACK logic): find the delivery by its ack key, settle it now or at
// COMMIT. `client` mode is cumulative, `client-individual` is not.
import {
  ErrorCode,
  type Frame,
  StompProtocolError,
  interpretAck,
  interpretNack,
} from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';

/** ACK or NACK `frame`. */
export function settle(session: Session, frame: Frame, nack: boolean): MaybePromise<void> {
  // Core's rule per version: 1.2 names the delivery by `id`, 1.1 by `message-id` and
  // `subscription`, 1.0 by `message-id`; NACK is 1.1+, and from 1.1 on the frame has no body.
  const request = nack
    ? interpretNack(frame, session.version)
    : interpretAck(frame, session.version);
  const state = session.state;
  const key = request.key;
  const ackKey = state.acks.keyOf(key);
  const sub = state.acks.find(ackKey);
  const subscription = request.subscription;
  if (sub === undefined || (subscription !== undefined && subscription !== sub.id)) {
    throw new StompProtocolError(
      ErrorCode.INVALID_HEADER_VALUE,
      `${frame.command} of ${JSON.stringify(key.slice(0, 200))}: no such unacknowledged message on this connection`,
      { frame, header: request.keyHeader },
    );
  }
  const requeue = !nack || frame.header('requeue') !== 'false';
  const transaction = request.transaction;
  if (transaction !== undefined) {
    state.enlist(frame, transaction, () =>
      state.subscriptions.get(sub.id) === sub
        ? sub.settle(ackKey, nack, requeue, false)
        : undefined,
    );
    return;
  }
  // As for SEND: only a RECEIPT waits for the acknowledgement to be durable.
  return sub.settle(ackKey, nack, requeue, request.receipt !== undefined);
}

export function handleAck(session: Session, frame: Frame): MaybePromise<void> {
  return settle(session, frame, false);
}
