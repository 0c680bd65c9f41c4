// validateClientFrame: any client frame checked against its command's rule. Each rule lives in its
// command's file, beside the builder that obeys it and the interpreter that reads by it.
import { ClientCommand, type Frame, isClientCommand, isServerCommand } from '../frame.js';
import type { StompVersion } from '../version.js';
import { readAcknowledgment } from './ack.js';
import { unexpectedFrame } from './common.js';
import { checkConnect } from './connect.js';
import { checkDisconnect } from './disconnect.js';
import { interpretSend } from './send.js';
import { checkSubscribe } from './subscribe.js';
import { readTransaction } from './transaction.js';
import { interpretUnsubscribe } from './unsubscribe.js';

/**
 * Check a frame received from a client against the rules of `version`, and throw a
 * {@link StompProtocolError} naming the offending header for the first rule it breaks:
 *
 * - a command that is not a client command (a server command, or an unknown one):
 *   `ERR_STOMP_UNEXPECTED_FRAME`; so is `STOMP` or `NACK` in 1.0.
 * - a body on any frame but SEND, from 1.1 on: `ERR_STOMP_BODY_NOT_ALLOWED`. (1.0 only says such
 *   bodies are ignored, so they pass in 1.0.)
 * - a missing required header: `ERR_STOMP_MISSING_HEADER`. SEND and SUBSCRIBE need
 *   `destination`; SUBSCRIBE needs `id` and UNSUBSCRIBE `id` from 1.1 on (UNSUBSCRIBE needs `id`
 *   or `destination` in 1.0); ACK and NACK need `id` in 1.2, `message-id` and `subscription` in
 *   1.1, `message-id` in 1.0; BEGIN, COMMIT and ABORT need `transaction`; CONNECT and STOMP need
 *   `accept-version` from 1.1 on.
 * - an invalid value: `ERR_STOMP_INVALID_HEADER_VALUE` for an empty `destination` or an unknown
 *   `ack` mode (`client-individual` is 1.1+); `ERR_STOMP_INVALID_HEARTBEAT` for a malformed
 *   CONNECT `heart-beat` (1.1+).
 *
 * Deliberately accepted: a CONNECT without `host` (the spec requires it from 1.1 on, but many
 * real clients omit it; a server with virtual hosts picks its default), and unknown extra headers.
 *
 * The interpreters (`interpretSend`, `interpretAck`, ...) apply the same rules while reading the
 * frame; a server that interprets a frame need not validate it first.
 *
 * @param version - the version the session speaks; for CONNECT, the negotiated version
 */
export function validateClientFrame(frame: Frame, version: StompVersion): void {
  const command = frame.command;
  if (!isClientCommand(command)) {
    throw unexpectedFrame(
      frame,
      isServerCommand(command)
        ? 'it is a server frame, which a client must not send'
        : 'it is not a STOMP client command',
    );
  }
  switch (command) {
    case ClientCommand.STOMP:
    case ClientCommand.CONNECT:
      checkConnect(frame, version, frame.header('accept-version'), frame.header('heart-beat'));
      return;
    case ClientCommand.SEND:
      interpretSend(frame, version);
      return;
    case ClientCommand.SUBSCRIBE:
      checkSubscribe(frame, version);
      return;
    case ClientCommand.UNSUBSCRIBE:
      interpretUnsubscribe(frame, version);
      return;
    case ClientCommand.ACK:
    case ClientCommand.NACK:
      readAcknowledgment(frame, version, command);
      return;
    case ClientCommand.BEGIN:
    case ClientCommand.COMMIT:
    case ClientCommand.ABORT:
      readTransaction(frame, version, command);
      return;
    case ClientCommand.DISCONNECT:
      checkDisconnect(frame, version);
      return;
  }
}
