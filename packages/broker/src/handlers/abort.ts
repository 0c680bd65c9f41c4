// ABORT: discard the transaction's frames. Messages it ACKed stay unacknowledged.
import type { Frame } from '@stompede/core';
import type { Connection } from '../connection.js';
import { unknownTransaction } from './commit.js';

export function handleAbort(conn: Connection, frame: Frame): void {
  const tx = frame.header('transaction')!;
  if (!conn.transactions.delete(tx)) throw unknownTransaction(frame, tx);
}
