// Client command → handler. One file per command.
import type { Frame } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';
import { handleAbort } from './abort.js';
import { handleAck } from './ack.js';
import { handleBegin } from './begin.js';
import { handleCommit } from './commit.js';
import { handleDisconnect } from './disconnect.js';
import { handleNack } from './nack.js';
import { handleSend } from './send.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

export { handleConnect } from './connect.js';

/**
 * A handler for one client command on a connected session. The frame is already validated, except
 * for SEND, ACK and NACK, whose handlers validate it themselves (see session/connection.ts).
 */
export type Handler = (session: Session, frame: Frame) => MaybePromise<void>;

/** Handlers of every command a connected session may send. */
export const HANDLERS: Readonly<Record<string, Handler>> = Object.freeze({
  SEND: handleSend,
  SUBSCRIBE: handleSubscribe,
  UNSUBSCRIBE: handleUnsubscribe,
  ACK: handleAck,
  NACK: handleNack,
  BEGIN: handleBegin,
  COMMIT: handleCommit,
  ABORT: handleAbort,
  DISCONNECT: handleDisconnect,
});
