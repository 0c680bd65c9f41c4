// RECEIPT: the builder a server uses, and the rule a client reads it by ([1.2 RECEIPT]: a
// non-empty `receipt-id`, the `receipt` of the frame it answers).
import { Frame, ServerCommand } from '../frame.js';
import { invalidHeader, missingHeader, unexpectedFrame } from './common.js';

/** Build the RECEIPT frame answering a frame whose `receipt` header was `receiptId`. */
export function receiptFrame(receiptId: string): Frame {
  return new Frame('RECEIPT', [['receipt-id', receiptId]]);
}

/**
 * The `receipt-id` of a RECEIPT frame.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_MISSING_HEADER` without `receipt-id`
 */
export function interpretReceipt(frame: Frame): string {
  if (frame.command !== ServerCommand.RECEIPT) throw unexpectedFrame(frame, 'expected RECEIPT');
  const receiptId = frame.header('receipt-id');
  if (receiptId === undefined) throw missingHeader(frame, 'receipt-id');
  if (receiptId.length === 0) throw invalidHeader(frame, 'receipt-id', 'it is empty');
  return receiptId;
}
