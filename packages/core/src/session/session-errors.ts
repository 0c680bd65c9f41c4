// The errors a ClientSession raises about its own state and bookkeeping.
import { ErrorCode, StompProtocolError } from '../errors.js';
import type { Frame } from '../frame.js';
import type { SessionState } from './client-session-types.js';

export function invalidState(
  operation: string,
  state: SessionState,
  needed?: SessionState,
): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.INVALID_STATE,
    `cannot ${operation} while ${state}` + (needed === undefined ? '' : ` (needs ${needed})`),
  );
}

export function unknownReceipt(receiptId: string, frame?: Frame): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.UNKNOWN_RECEIPT,
    `RECEIPT for ${JSON.stringify(receiptId)}, which no frame asked for or was already received`,
    frame === undefined ? { header: 'receipt-id' } : { frame, header: 'receipt-id' },
  );
}

export function unknownSubscription(id: string, frame?: Frame): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.UNKNOWN_SUBSCRIPTION,
    `no subscription ${JSON.stringify(id)} on this connection`,
    frame === undefined ? { header: 'id' } : { frame, header: 'subscription' },
  );
}
