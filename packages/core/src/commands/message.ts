// MESSAGE: the builder a server uses, and the rule a client reads it by ([1.2 MESSAGE]:
// `destination` and `message-id` always, `subscription` from 1.1 on; `ack` for client-ack
// subscriptions in 1.2). How a server writes MESSAGE headers it cannot escape: encodeHeaderToken.
import { StompInvalidArgumentError } from '../errors.js';
import { type BodyInit, Frame, type HeadersInit, ServerCommand } from '../frame.js';
import type { StompVersion } from '../version.js';
import { assembleHeaders, missingHeader, unexpectedFrame } from './common.js';

/** Options of {@link messageFrame}. */
export interface MessageFrameOptions {
  /** Where the message was sent (`destination`). */
  readonly destination: string;
  /** The message's unique identifier (`message-id`). */
  readonly messageId: string;
  /** The identifier of the subscription receiving it (`subscription`). */
  readonly subscription: string;
  /** The value a 1.2 client ACKs with (`ack`); set it for `client` and `client-individual`. */
  readonly ack?: string;
  /**
   * The message's other headers, e.g. the SEND frame's user headers and `content-type`. They
   * cannot override the ones above; drop SEND-only headers such as `receipt` and `transaction`.
   */
  readonly headers?: HeadersInit;
  /** The body. */
  readonly body?: BodyInit;
}

/** Build a MESSAGE frame. Throws `ERR_STOMP_INVALID_ARGUMENT` for an empty destination or id. */
export function messageFrame(options: MessageFrameOptions): Frame {
  nonEmpty(options.destination, 'destination');
  nonEmpty(options.messageId, 'messageId');
  return new Frame(
    'MESSAGE',
    assembleHeaders(
      [
        ['destination', options.destination],
        ['message-id', options.messageId],
        ['subscription', options.subscription],
        ['ack', options.ack],
      ],
      options.headers,
    ),
    options.body,
  );
}

function nonEmpty(value: string, name: string): void {
  if (value.length === 0) {
    throw new StompInvalidArgumentError(`${name} must not be empty`);
  }
}

/** What identifies a MESSAGE frame (see {@link interpretMessage}). */
export interface MessageInfo {
  /** The `destination` header. */
  readonly destination: string;
  /** The `message-id` header. */
  readonly messageId: string;
  /** The `subscription` header (optional in 1.0). */
  readonly subscription: string | undefined;
  /** The `ack` header (1.2, for `client` and `client-individual` subscriptions). */
  readonly ack: string | undefined;
}

/**
 * Read a MESSAGE frame's identifying headers, checking the ones `version` requires:
 * `destination` and `message-id` always, `subscription` from 1.1 on. (Headers are looked up one
 * by one, not decoded together: a received MESSAGE decodes only the values asked for.)
 */
export function interpretMessage(frame: Frame, version: StompVersion): MessageInfo {
  const subscription = checkMessage(frame, version);
  return {
    destination: frame.header('destination')!,
    messageId: frame.header('message-id')!,
    subscription,
    ack: frame.header('ack'),
  };
}

/**
 * The rule of {@link interpretMessage} alone, decoding only the `subscription` header, which it
 * returns (a client's session reads each MESSAGE this way: the other values are unique strings
 * nobody asked for yet).
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_MISSING_HEADER` without what `version` requires
 */
export function checkMessage(frame: Frame, version: StompVersion): string | undefined {
  if (frame.command !== ServerCommand.MESSAGE) throw unexpectedFrame(frame, 'expected MESSAGE');
  if (!frame.has('destination')) throw missingHeader(frame, 'destination', version);
  if (!frame.has('message-id')) throw missingHeader(frame, 'message-id', version);
  const subscription = frame.header('subscription');
  if (subscription === undefined && version !== '1.0') {
    throw missingHeader(frame, 'subscription', version);
  }
  return subscription;
}
