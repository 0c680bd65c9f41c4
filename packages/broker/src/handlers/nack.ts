// NACK (1.1+): the message goes back to its queue, redelivered ahead of newer ones, or with
// `requeue:false` straight to the dead-letter queue.
import type { Frame } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';
import { settle } from './ack.js';

export function handleNack(session: Session, frame: Frame): MaybePromise<void> {
  return settle(session, frame, true);
}
