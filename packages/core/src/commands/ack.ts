// ACK and NACK: the builders a client uses (and ackHeaders, which reads what to acknowledge from a
// MESSAGE), and the rule a server reads them by. The header naming the message differs by
// version: [1.2 ACK] `id` (the MESSAGE's `ack`); [1.1 ACK] `message-id` and `subscription`;
// [1.0 ACK] `message-id`. NACK exists from 1.1 on.
import { EMPTY_BYTES } from '../bytes.js';
import { Frame, ServerCommand } from '../frame.js';
import type { StompVersion } from '../version.js';
import {
  type FrameOptions,
  assembleRaw,
  expectCommand,
  missingHeader,
  rejectBody,
  requireHeader,
  unexpectedFrame,
} from './common.js';

/**
 * The headers that name a message in an ACK or NACK, as {@link ackHeaders} returns them: `id`
 * in 1.2; `message-id` and `subscription` in 1.1; `message-id` in 1.0.
 */
export interface AckHeaders {
  readonly id?: string;
  readonly 'message-id'?: string;
  readonly subscription?: string;
}

/** Options of {@link ackFrame} and {@link nackFrame}. */
export interface AckFrameOptions extends FrameOptions {
  /** The transaction the acknowledgment belongs to (`transaction`). */
  readonly transaction?: string;
}

/**
 * Build an ACK frame, e.g. `ackFrame(version, ackHeaders(message, version))`.
 *
 * @throws StompProtocolError `ERR_STOMP_MISSING_HEADER` when `ack` lacks what `version` needs
 */
export function ackFrame(
  version: StompVersion,
  ack: AckHeaders,
  options: AckFrameOptions = {},
): Frame {
  return acknowledgment('ACK', version, ack, options);
}

/** Build a NACK frame (1.1+); see {@link ackFrame}. Throws `ERR_STOMP_UNEXPECTED_FRAME` in 1.0. */
export function nackFrame(
  version: StompVersion,
  ack: AckHeaders,
  options: AckFrameOptions = {},
): Frame {
  return acknowledgment('NACK', version, ack, options);
}

function acknowledgment(
  command: 'ACK' | 'NACK',
  version: StompVersion,
  ack: AckHeaders,
  options: AckFrameOptions,
): Frame {
  const frame = Frame.fromRaw(
    command,
    assembleRaw(
      [
        // Only the headers the version defines, so a 1.2 ACK never carries a stale message-id.
        'id',
        version === '1.2' ? ack.id : undefined,
        'message-id',
        version === '1.2' ? undefined : ack['message-id'],
        'subscription',
        version === '1.1' ? ack.subscription : undefined,
        'transaction',
        options.transaction,
        'receipt',
        options.receipt,
      ],
      options.headers,
    ),
    EMPTY_BYTES,
  );
  readAcknowledgment(frame, version, command);
  return frame;
}

/**
 * The headers an ACK or NACK of `message` needs in `version`: its `ack` header as `id` in 1.2;
 * its `message-id` and `subscription` in 1.1; its `message-id` in 1.0.
 *
 * @throws StompProtocolError `ERR_STOMP_MISSING_HEADER` when the message lacks one; in 1.2 a
 * MESSAGE without `ack` comes from an `auto` subscription and cannot be acknowledged
 */
export function ackHeaders(message: Frame, version: StompVersion): AckHeaders {
  if (message.command !== ServerCommand.MESSAGE) {
    throw unexpectedFrame(message, 'only MESSAGE frames can be acknowledged');
  }
  switch (version) {
    case '1.2':
      return {
        id: requireHeader(
          message,
          'ack',
          version,
          'only messages of client-ack subscriptions have one',
        ),
      };
    case '1.1':
      return {
        'message-id': requireHeader(message, 'message-id', version),
        subscription: requireHeader(message, 'subscription', version),
      };
    case '1.0':
      return { 'message-id': requireHeader(message, 'message-id', version) };
  }
}

/** What an ACK or NACK frame names (see {@link interpretAck}). */
export interface AckRequest {
  /** `ACK` or `NACK`. */
  readonly command: 'ACK' | 'NACK';
  /** The value naming the message in this version: `id` in 1.2, `message-id` before. */
  readonly key: string;
  /** The header `key` comes from (`id` or `message-id`), to name in an error. */
  readonly keyHeader: 'id' | 'message-id';
  /** 1.2: the `id` header, which matches the MESSAGE's `ack` header. */
  readonly id: string | undefined;
  /** 1.0 and 1.1: the `message-id` header. */
  readonly messageId: string | undefined;
  /** 1.1: the `subscription` header. */
  readonly subscription: string | undefined;
  /** The transaction it belongs to (`transaction`), if any. */
  readonly transaction: string | undefined;
  /** The receipt asked for (`receipt`), if any. */
  readonly receipt: string | undefined;
}

/**
 * Check an ACK frame against the rules of `version` and read what it acknowledges, in one pass
 * over its headers.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_BODY_NOT_ALLOWED` for a body (1.1+), `ERR_STOMP_MISSING_HEADER` without the headers
 * naming the message in `version`
 */
export function interpretAck(frame: Frame, version: StompVersion): AckRequest {
  return readAcknowledgment(frame, version, 'ACK');
}

/** {@link interpretAck} for NACK, which 1.0 does not have (`ERR_STOMP_UNEXPECTED_FRAME`). */
export function interpretNack(frame: Frame, version: StompVersion): AckRequest {
  return readAcknowledgment(frame, version, 'NACK');
}

/** The rule of {@link interpretAck} and {@link interpretNack}. */
export function readAcknowledgment(
  frame: Frame,
  version: StompVersion,
  command: 'ACK' | 'NACK',
): AckRequest {
  expectCommand(frame, command);
  if (command === 'NACK' && version === '1.0') {
    throw unexpectedFrame(frame, 'NACK exists from STOMP 1.1 on, not in 1.0');
  }
  rejectBody(frame, version);
  let id: string | undefined;
  let messageId: string | undefined;
  let subscription: string | undefined;
  let transaction: string | undefined;
  let receipt: string | undefined;
  const raw = frame.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'id') id ??= raw[i + 1];
    else if (name === 'message-id') messageId ??= raw[i + 1];
    else if (name === 'subscription') subscription ??= raw[i + 1];
    else if (name === 'transaction') transaction ??= raw[i + 1];
    else if (name === 'receipt') receipt ??= raw[i + 1];
  }
  if (version === '1.2') {
    if (id === undefined) {
      throw missingHeader(frame, 'id', version, "it must match the MESSAGE's ack header");
    }
    return {
      command,
      key: id,
      keyHeader: 'id',
      id,
      messageId: undefined,
      subscription: undefined,
      transaction,
      receipt,
    };
  }
  if (messageId === undefined) {
    throw missingHeader(frame, 'message-id', version, 'it names the message acknowledged');
  }
  if (version === '1.1' && subscription === undefined) {
    throw missingHeader(frame, 'subscription', version, "it must match the subscription's id");
  }
  return {
    command,
    key: messageId,
    keyHeader: 'message-id',
    id: undefined,
    messageId,
    subscription: version === '1.1' ? subscription : undefined,
    transaction,
    receipt,
  };
}
