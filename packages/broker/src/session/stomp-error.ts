// Any error, as the StompError the session answers with, and the ERROR frame that carries it.
import { ErrorCode, type Frame, StompError, StompProtocolError, errorFrame } from '@stompede/core';

/** `err` itself when it is a StompError; otherwise (a bug, or an engine failure) a generic one. */
export function toStompError(err: unknown): StompError {
  if (err instanceof StompError) return err;
  return new StompProtocolError(ErrorCode.INVALID_STATE, 'internal error', { cause: err });
}

/**
 * The ERROR frame for `e`, raised while processing `frame` (if any): its `receipt-id` when the
 * frame asked for a receipt (a frame too malformed to be processed may still have had its receipt
 * header read), its code, and a body that names the frame.
 */
export function errorFrameFor(e: StompError, frame?: Frame): Frame {
  const receiptId = frame?.header('receipt') ?? e.receipt;
  return errorFrame({
    message: e.message.slice(0, 1024),
    code: e.code,
    ...(receiptId === undefined ? {} : { receiptId }),
    body:
      `${e.code}: ${e.message}` +
      (frame === undefined ? '' : `\n\nwhile processing a ${frame.command} frame`),
  });
}
