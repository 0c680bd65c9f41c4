// DISCONNECT: everything before it is processed (frames are handled in order); its RECEIPT is
// written, then the connection ends and unacknowledged messages are requeued.
import { type Frame, validateClientFrame } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';

export function handleDisconnect(session: Session, frame: Frame): MaybePromise<void> {
  validateClientFrame(frame, session.version);
  session.endAfterFrame();
  // Its RECEIPT also vouches for the persistent messages and acks sent before without receipts.
  if (frame.header('receipt') !== undefined) return session.engine.flush?.();
  return undefined;
}
