// SEND: the builder a client uses, and the rule a server reads it by ([1.2 SEND]: a non-empty
// `destination`; the only client frame that may carry a body).
import { type BodyInit, bodyBytes, Frame } from '../frame.js';
import type { StompVersion } from '../version.js';
import {
  type FrameOptions,
  assembleRaw,
  expectCommand,
  missingHeader,
  nonEmptyHeader,
} from './common.js';

/** Options of {@link sendFrame}. */
export interface SendFrameOptions extends FrameOptions {
  /** Where to send the message (`destination`). */
  readonly destination: string;
  /** The message body. */
  readonly body?: BodyInit;
  /** The body's MIME type (`content-type`), e.g. `text/plain;charset=utf-8`. */
  readonly contentType?: string;
  /** The transaction the send belongs to (`transaction`). */
  readonly transaction?: string;
}

/**
 * Build a SEND frame. `content-length` is written by the serializer.
 *
 * @throws StompProtocolError as {@link interpretSend} for an empty destination
 */
export function sendFrame(version: StompVersion, options: SendFrameOptions): Frame {
  const frame = Frame.fromRaw(
    'SEND',
    assembleRaw(
      [
        'destination',
        options.destination,
        'content-type',
        options.contentType,
        'transaction',
        options.transaction,
        'receipt',
        options.receipt,
      ],
      options.headers,
    ),
    bodyBytes(options.body),
  );
  interpretSend(frame, version);
  return frame;
}

/** What a SEND frame asks for (see {@link interpretSend}). */
export interface SendRequest {
  /** Where the message goes: the `destination` header, never empty. */
  readonly destination: string;
  /** The transaction it belongs to (`transaction`), if any. */
  readonly transaction: string | undefined;
  /** The receipt asked for (`receipt`), if any. */
  readonly receipt: string | undefined;
}

/**
 * Check a SEND frame against the rules of `version` and read it, in one pass over its headers
 * (the first of repeated headers wins).
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_MISSING_HEADER` without `destination`, `ERR_STOMP_INVALID_HEADER_VALUE` for an empty
 * one
 */
export function interpretSend(frame: Frame, version: StompVersion): SendRequest {
  expectCommand(frame, 'SEND');
  let destination: string | undefined;
  let transaction: string | undefined;
  let receipt: string | undefined;
  const raw = frame.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'destination') destination ??= raw[i + 1];
    else if (name === 'transaction') transaction ??= raw[i + 1];
    else if (name === 'receipt') receipt ??= raw[i + 1];
  }
  if (destination === undefined) throw missingHeader(frame, 'destination', version);
  nonEmptyHeader(frame, 'destination', destination, version);
  return { destination, transaction, receipt };
}
