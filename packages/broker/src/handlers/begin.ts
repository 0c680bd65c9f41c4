// BEGIN: open a transaction; an id already open on this connection is an error.
import type { Frame } from '@stompede/core';
import type { Session } from '../session/session.js';

export function handleBegin(session: Session, frame: Frame): void {
  session.state.begin(frame);
}
