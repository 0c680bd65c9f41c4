// ACK (and the shared ACK/NACK logic): find the delivery by its ack key, settle it now or at
// COMMIT. `client` mode is cumulative, `client-individual` is not.
import {
  ErrorCode,
  type Frame,
  StompProtocolError,
  interpretAck,
  interpretNack,
} from '@stompede/core';
import { isFalseHeader } from '../boolean-header.js';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';

/** ACK or NACK `frame`. */
export function settle(session: Session, frame: Frame, nack: boolean): MaybePromise<void> {
  // Core's rule per version: 1.2 names the delivery by `id`, 1.1 by `message-id` and
  // `subscription`, 1.0 by `message-id`; NACK is 1.1+, and from 1.1 on the frame has no body.
  const version = session.version;
  const request = nack ? interpretNack(frame, version) : interpretAck(frame, version);
  const state = session.state;
  const found = state.acks.find(request.key);
  const subscription = request.subscription;
  if (found === undefined || (subscription !== undefined && subscription !== found.sub.id)) {
    throw new StompProtocolError(
      ErrorCode.INVALID_HEADER_VALUE,
      `${frame.command} of ${JSON.stringify(request.key.slice(0, 200))}: no such unacknowledged message on this connection`,
      { frame, header: request.keyHeader },
    );
  }
  const requeue = !nack || !isFalseHeader(frame.header('requeue'));
  const { sub, key } = found;
  const transaction = request.transaction;
  if (transaction !== undefined) {
    state.enlist(frame, transaction, { kind: nack ? 'nack' : 'ack', sub, key, requeue });
    return;
  }
  // As for SEND: only a RECEIPT waits for the acknowledgement to be durable.
  return sub.settle(key, nack, requeue, request.receipt !== undefined);
}

export function handleAck(session: Session, frame: Frame): MaybePromise<void> {
  return settle(session, frame, false);
}
