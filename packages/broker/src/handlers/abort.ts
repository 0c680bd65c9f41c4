// ABORT: discard the transaction's frames. Messages it ACKed stay unacknowledged.
import type { Frame } from '@stompede/core';
import type { Session } from '../session/session.js';

export function handleAbort(session: Session, frame: Frame): void {
  session.state.abort(frame);
}
