// Streams that carry messages rather than bytes (a WebSocket): each writeMessage() becomes one
// message, so the outbox (session/outbox.ts) hands over exactly one frame, or one heart-beat EOL,
// per call. Many WebSocket clients read one frame per message and lose the rest (Gozirra's, old
// stomp.js builds), and RabbitMQ Web-STOMP sends one frame per message.
import type { Duplex } from 'node:stream';

/** A stream that delivers each {@link MessageStream.writeMessage} to the peer as one message. */
export interface MessageStream extends Duplex {
  readonly messagePerWrite: true;
  /**
   * Send `parts`, in order, as one message, without copying them; false as `write()` returns
   * false (wait for 'drain'). A plain `write()` is a message of one part.
   */
  writeMessage(parts: readonly Uint8Array[]): boolean;
}

/** True when `stream` turns each `writeMessage()` into one message. */
export function isMessageStream(stream: Duplex): stream is MessageStream {
  return (stream as Partial<MessageStream>).messagePerWrite === true;
}
