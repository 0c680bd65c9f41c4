// The error path of the handlers that check their frame themselves (SEND, ACK, NACK: see
// session/connection.ts): validateClientFrame throws the error the frame deserves.
import { ErrorCode, type Frame, StompProtocolError, validateClientFrame } from '@stompede/core';
import type { Session } from '../session/session.js';

/** Throw the error validateClientFrame gives `frame`, which a handler found invalid. */
export function rejectFrame(session: Session, frame: Frame): never {
  validateClientFrame(frame, session.version);
  // Not reached: the handler's checks are a subset of validateClientFrame's.
  throw new StompProtocolError(ErrorCode.INVALID_STATE, `invalid ${frame.command} frame`, {
    frame,
  });
}
