// NACK (1.1+): the message goes back to its queue, redelivered ahead of newer ones, or with
// `requeue:false` straight to the dead-letter queue.
import type { Frame } from '@stompede/core';
import type { Connection } from '../connection.js';
import type { MaybePromise } from '../engine.js';
import { settle } from './ack.js';

export function handleNack(conn: Connection, frame: Frame): MaybePromise<void> {
  return settle(conn, frame, true);
}
