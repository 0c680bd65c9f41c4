// Streams that carry messages rather than bytes (a WebSocket): the outbox (session/outbox.ts)
// hands them each frame, and each heart-beat EOL, as one message, so a peer never sees a frame
// split between messages or two frames in one. Many WebSocket clients read one frame per message
// and lose the rest (Gozirra's, old stomp.js builds); RabbitMQ Web-STOMP and Artemis send one
// frame per message.
import type { Duplex } from 'node:stream';

/** A stream whose every `write()`, and every {@link MessageStream.writeMessage}, is one message. */
export interface MessageStream extends Duplex {
  /**
   * Write `parts` as one message: their bytes in order, none copied (a frame whose body is
   * written by reference). Returns what `write()` returns; `parts` may be reused afterwards.
   */
  writeMessage(parts: readonly Uint8Array[]): boolean;
}

/** True when `stream` sends what it is written as messages. */
export function isMessageStream(stream: Duplex): stream is MessageStream {
  return typeof (stream as Partial<MessageStream>).writeMessage === 'function';
}
