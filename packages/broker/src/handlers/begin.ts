// BEGIN: open a transaction; an id already open on this connection is an error.
import { ErrorCode, type Frame, StompProtocolError } from '@stompede/core';
import type { Connection } from '../connection.js';

export function handleBegin(conn: Connection, frame: Frame): void {
  const tx = frame.header('transaction')!;
  if (conn.transactions.has(tx)) {
    throw new StompProtocolError(
      ErrorCode.DUPLICATE_TRANSACTION,
      `transaction ${JSON.stringify(tx.slice(0, 200))} is already open`,
      { frame, header: 'transaction' },
    );
  }
  if (conn.transactions.size >= conn.options.maxTransactions) {
    throw new StompProtocolError(
      ErrorCode.LIMIT_EXCEEDED,
      `more than ${String(conn.options.maxTransactions)} open transactions`,
      { frame, header: 'transaction' },
    );
  }
  conn.transactions.set(tx, []);
}
