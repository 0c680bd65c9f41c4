// SEND: build the message (user headers kept, reply-to to a temp queue rewritten) and publish
// it now, or at COMMIT when it names a transaction.
import type { Frame } from '@stompede/core';
import type { Connection } from '../connection.js';
import { DestinationKind, parseDestination } from '../destination.js';
import type { MaybePromise } from '../engine.js';
import { Message } from '../message.js';
import { rejectFrame } from './invalid.js';

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

export function handleSend(conn: Connection, frame: Frame): MaybePromise<void> {
  // Validated here rather than by validateClientFrame (see Connection.process): a SEND needs
  // only a non-empty destination; without one, validateClientFrame throws the usual error.
  const destination = frame.header('destination');
  if (destination === undefined || destination.length === 0) rejectFrame(conn, frame);
  parseDestination(destination);
  conn.options.security.authorize(conn, 'write', destination, frame);
  const raw = frame.rawHeaders;
  // Kept for every queued message: an array of exactly the copied headers (a growing one holds
  // room for 17), and the transaction and receipt found on the way.
  let copied = 0;
  let tx: string | undefined;
  let receipt = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (!NOT_COPIED.has(name)) copied += 2;
    else if (name === 'transaction') tx ??= raw[i + 1];
    else if (name === 'receipt') receipt = true;
  }
  const headers = new Array<string>(copied);
  let k = 0;
  for (let i = 0; i < raw.length && k < copied; i += 2) {
    const name = raw[i]!;
    if (NOT_COPIED.has(name)) continue;
    let value = raw[i + 1]!;
    if (name === 'reply-to' && value.startsWith('/temp-queue/')) {
      const reply = parseDestination(value, 'reply-to');
      if (reply.kind === DestinationKind.TEMP_QUEUE) {
        value = conn.engine.replyAddress(conn.vhost, conn.id, reply.name);
      }
    }
    headers[k++] = name;
    headers[k++] = value;
  }
  // The body may be a view into the socket chunk: the engine copies it (Message.own) only if it
  // keeps the message, so one delivered at once is never copied.
  const message = new Message(destination, headers, frame.body);
  if (tx !== undefined) {
    message.own();
    // Durable by the COMMIT's RECEIPT (the engine syncs once for the whole transaction).
    conn.addToTransaction(tx, frame, { kind: 'publish', message });
    return;
  }
  // Only a RECEIPT needs the message on disk first; without one, waiting for each fsync would
  // cap a producer at one message per disk sync. Later receipts cover it: the journal is a log.
  return conn.publish(message, receipt);
}
