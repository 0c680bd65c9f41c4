// DISCONNECT: everything before it is processed (frames are handled in order); its RECEIPT is
// written, then the connection ends and unacknowledged messages are requeued.
import type { Frame } from '@stompede/core';
import type { Connection } from '../connection.js';

export function handleDisconnect(conn: Connection, _frame: Frame): void {
  conn.disconnectRequested = true;
}
