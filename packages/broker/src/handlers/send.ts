// SEND: build the message (user headers kept, reply-to to a temp queue rewritten) and publish
// it now, or at COMMIT when it names a transaction. A header that some subscriber's version could
// not be given is refused here, with the SEND, rather than dropped from a MESSAGE later.
import { type Frame, encodeHeaderToken, interpretSend } from '@stompede/core';
import { DestinationKind, parseDestination } from '../destination.js';
import type { MaybePromise } from '../engine.js';
import { Message } from '../message.js';
import type { Session } from '../session/session.js';

/** Headers the broker sets on MESSAGE frames, or that only mean something on SEND. */
export const NOT_COPIED: ReadonlySet<string> = new Set([
  'destination',
  'transaction',
  'receipt',
  'content-length',
  'message-id',
  'subscription',
  'ack',
  'redelivered',
  'delivery-count',
]);

export function handleSend(session: Session, frame: Frame): MaybePromise<void> {
  const request = interpretSend(frame, session.version);
  const destination = request.destination;
  parseDestination(destination);
  // Every MESSAGE of this message carries these headers, in the version of its subscriber: each
  // must be writable in the strictest version the broker speaks (core's rule for writing one).
  const strictest = session.options.strictestVersion;
  writable(frame, destination, 'destination', strictest, false);
  session.authorize('write', destination, frame);
  const raw = frame.rawHeaders;
  // Kept for every queued message: an array of exactly the copied headers (a growing one holds
  // room for 17).
  let copied = 0;
  for (let i = 0; i < raw.length; i += 2) if (!NOT_COPIED.has(raw[i]!)) copied += 2;
  const headers = new Array<string>(copied);
  let k = 0;
  for (let i = 0; i < raw.length && k < copied; i += 2) {
    const name = raw[i]!;
    if (NOT_COPIED.has(name)) continue;
    let value = raw[i + 1]!;
    if (name === 'reply-to' && value.startsWith('/temp-queue/')) {
      const reply = parseDestination(value, 'reply-to');
      if (reply.kind === DestinationKind.TEMP_QUEUE) {
        value = session.engine.replyAddress(session.vhost, session.id, reply.name);
      }
    }
    writable(frame, name, name, strictest, true);
    writable(frame, value, name, strictest, false);
    headers[k++] = name;
    headers[k++] = value;
  }
  // The body may be a view into the socket chunk: the engine copies it (Message.own) only if it
  // keeps the message, so one delivered at once is never copied.
  const message = new Message(
    destination,
    headers,
    frame.pieceList ?? frame.body,
    undefined,
    session.clock.now(),
  );
  const tx = request.transaction;
  if (tx !== undefined) {
    message.own();
    // Durable by the COMMIT's RECEIPT (the engine syncs once for the whole transaction).
    session.state.enlist(frame, tx, { kind: 'publish', message });
    return;
  }
  // Only a RECEIPT needs the message on disk first; without one, waiting for each fsync would
  // cap a producer at one message per disk sync. Later receipts cover it: the journal is a log.
  return session.publish(message, request.receipt !== undefined);
}

const NAME = Object.freeze({ name: true });
const VALUE = Object.freeze({ name: false });

/** Throw the coded error when `text` cannot be written in a MESSAGE in `version`. */
function writable(
  frame: Frame,
  text: string,
  header: string,
  version: Session['version'],
  name: boolean,
): void {
  // Asked without the frame first, so the common case builds no options object.
  if (typeof encodeHeaderToken(text, version, name ? NAME : VALUE) === 'string') return;
  const r = encodeHeaderToken(text, version, { name, header, frame });
  if (typeof r !== 'string') throw r;
}
