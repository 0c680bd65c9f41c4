// DISCONNECT: everything before it is processed (frames are handled in order); its RECEIPT is
// written, then the connection ends and unacknowledged messages are requeued.
import type { Frame } from '@stompede/core';
import type { Connection } from '../connection.js';
import type { MaybePromise } from '../engine.js';

export function handleDisconnect(conn: Connection, frame: Frame): MaybePromise<void> {
  conn.disconnectRequested = true;
  // Its RECEIPT also vouches for the persistent messages and acks sent before without receipts.
  if (frame.header('receipt') !== undefined) return conn.engine.flush?.();
  return undefined;
}
