// Any error, as the StompError the session answers with.
import { ErrorCode, StompError, StompProtocolError } from '@stompede/core';

/** `err` itself when it is a StompError; otherwise (a bug, or an engine failure) a generic one. */
export function toStompError(err: unknown): StompError {
  if (err instanceof StompError) return err;
  return new StompProtocolError(ErrorCode.INVALID_STATE, 'internal error', { cause: err });
}
