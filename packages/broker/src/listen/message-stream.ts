// Streams that carry messages rather than bytes (a WebSocket): each write() becomes one message,
// so the outbox (session/outbox.ts) must write exactly one frame, or one heart-beat EOL, per
// write. Many WebSocket clients read one frame per message and lose the rest (Gozirra's, old
// stomp.js builds), and RabbitMQ Web-STOMP sends one frame per message.
import type { Duplex } from 'node:stream';

/** A stream whose every `write()` is delivered to the peer as one message. */
export interface MessageStream extends Duplex {
  readonly messagePerWrite: true;
}

/** True when `stream` turns each `write()` into one message. */
export function isMessageStream(stream: Duplex): stream is MessageStream {
  return (stream as Partial<MessageStream>).messagePerWrite === true;
}
