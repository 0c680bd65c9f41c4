// Server side of the stateless commands: validating what clients send, reading CONNECT, and
// building CONNECTED, MESSAGE, RECEIPT and ERROR frames.
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '../errors.js';
import {
  type BodyInit,
  ClientCommand,
  Frame,
  type HeadersInit,
  isClientCommand,
  isServerCommand,
} from '../frame.js';
import {
  type HeartBeat,
  NO_HEART_BEAT,
  acceptedVersions,
  formatAcceptVersion,
  formatHeartBeat,
  negotiateVersion,
  parseHeartBeat,
} from '../negotiate.js';
import { SUPPORTED_VERSIONS, type StompVersion } from '../version.js';
import {
  AckMode,
  assembleHeaders,
  invalidHeader,
  isAckMode,
  missingHeader,
  oneLine,
  requireHeader,
  unexpectedFrame,
} from './common.js';

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
  if (version !== '1.0' && command !== ClientCommand.SEND && frame.body.length > 0) {
    throw new StompProtocolError(
      ErrorCode.BODY_NOT_ALLOWED,
      `${command} frame must not have a body (STOMP ${version}: only SEND, MESSAGE and ERROR may)`,
      { frame },
    );
  }
  switch (command) {
    case ClientCommand.STOMP:
    case ClientCommand.CONNECT:
      if (version === '1.0') {
        if (command === ClientCommand.STOMP) {
          throw unexpectedFrame(frame, 'the STOMP command exists from STOMP 1.1 on, not in 1.0');
        }
        return;
      }
      requireHeader(frame, 'accept-version', version, 'it lists the versions the client speaks');
      parseHeartBeat(frame.header('heart-beat'));
      return;
    case ClientCommand.SEND:
      requireDestination(frame, version);
      return;
    case ClientCommand.SUBSCRIBE: {
      requireDestination(frame, version);
      if (version !== '1.0') requireHeader(frame, 'id', version, 'it identifies the subscription');
      const ack = frame.header('ack');
      if (ack !== undefined && !isAckMode(ack, version)) {
        throw invalidHeader(
          frame,
          'ack',
          `${JSON.stringify(ack)} is not one of ` +
            (version === '1.0' ? 'auto, client' : 'auto, client, client-individual'),
          version,
        );
      }
      return;
    }
    case ClientCommand.UNSUBSCRIBE:
      if (version !== '1.0') {
        requireHeader(frame, 'id', version, 'it names the subscription to remove');
      } else if (!frame.has('id') && !frame.has('destination')) {
        throw missingHeader(frame, 'id', version, 'STOMP 1.0 needs an "id" or a "destination"');
      }
      return;
    case ClientCommand.NACK:
    case ClientCommand.ACK:
      if (command === ClientCommand.NACK && version === '1.0') {
        throw unexpectedFrame(frame, 'NACK exists from STOMP 1.1 on, not in 1.0');
      }
      if (version === '1.2') {
        requireHeader(frame, 'id', version, "it must match the MESSAGE's ack header");
      } else {
        requireHeader(frame, 'message-id', version, 'it names the message acknowledged');
        if (version === '1.1') {
          requireHeader(frame, 'subscription', version, "it must match the subscription's id");
        }
      }
      return;
    case ClientCommand.BEGIN:
    case ClientCommand.COMMIT:
    case ClientCommand.ABORT:
      requireHeader(frame, 'transaction', version, 'it names the transaction');
      return;
    case ClientCommand.DISCONNECT:
      return;
  }
}

function requireDestination(frame: Frame, version: StompVersion): string {
  const destination = requireHeader(frame, 'destination', version);
  if (destination.length === 0) throw invalidHeader(frame, 'destination', 'it is empty', version);
  return destination;
}

/** Options of {@link interpretConnect}. */
export interface InterpretConnectOptions {
  /** Versions the server speaks. Default every version this library speaks. */
  readonly supported?: readonly StompVersion[];
}

/** What a CONNECT (or STOMP) frame asks for. */
export interface ConnectRequest {
  /**
   * The version the session will speak: the highest version both sides share, or `undefined`
   * when there is none (answer with {@link unsupportedVersionFrame} and close).
   */
  readonly version: StompVersion | undefined;
  /** The known versions the client offered, highest first (`['1.0']` without `accept-version`). */
  readonly offered: readonly StompVersion[];
  /** The client's `heart-beat` header; `[0, 0]` when missing or when the session speaks 1.0. */
  readonly heartBeat: HeartBeat;
  /** The virtual host asked for; often missing, even from 1.1+ clients. */
  readonly host: string | undefined;
  /** The `login` header. */
  readonly login: string | undefined;
  /** The `passcode` header. */
  readonly passcode: string | undefined;
  /** Every header (first of repeats wins), for server-specific ones. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Read a CONNECT or STOMP frame: negotiate the version and, when there is one, check the frame
 * with {@link validateClientFrame} in it (so STOMP without `accept-version`, a body, or a
 * malformed `heart-beat` throw).
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for any other frame, or as above
 */
export function interpretConnect(
  frame: Frame,
  options: InterpretConnectOptions = {},
): ConnectRequest {
  if (frame.command !== ClientCommand.CONNECT && frame.command !== ClientCommand.STOMP) {
    throw unexpectedFrame(frame, 'a session must start with CONNECT or STOMP');
  }
  const acceptVersion = frame.header('accept-version');
  const version = negotiateVersion(acceptVersion, options.supported ?? SUPPORTED_VERSIONS);
  if (version !== undefined) validateClientFrame(frame, version);
  return {
    version,
    offered: acceptedVersions(acceptVersion),
    heartBeat:
      version === undefined || version === '1.0'
        ? NO_HEART_BEAT
        : parseHeartBeat(frame.header('heart-beat')),
    host: frame.header('host'),
    login: frame.header('login'),
    passcode: frame.header('passcode'),
    headers: frame.headerObject(),
  };
}

/** What a SUBSCRIBE frame asks for (see {@link interpretSubscribe}). */
export interface SubscribeRequest {
  /**
   * The subscription's identifier: the `id` header, or in 1.0 without one, the destination
   * (which is then how the client can UNSUBSCRIBE).
   */
  readonly id: string;
  /** Whether the client sent an `id` header (1.0 MESSAGE frames carry `subscription` only then). */
  readonly explicitId: boolean;
  /** The destination. */
  readonly destination: string;
  /** The ack mode; `auto` when the header is missing. */
  readonly ack: AckMode;
  /** Every header (first of repeats wins), e.g. `selector` or server-specific ones. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Validate a SUBSCRIBE frame in `version` and read it. */
export function interpretSubscribe(frame: Frame, version: StompVersion): SubscribeRequest {
  if (frame.command !== ClientCommand.SUBSCRIBE) throw unexpectedFrame(frame, 'expected SUBSCRIBE');
  validateClientFrame(frame, version);
  const destination = frame.header('destination')!;
  const id = frame.header('id');
  return {
    id: id ?? destination,
    explicitId: id !== undefined,
    destination,
    ack: (frame.header('ack') ?? AckMode.AUTO) as AckMode,
    headers: frame.headerObject(),
  };
}

/**
 * Validate an UNSUBSCRIBE frame in `version` and return the identifier of the subscription it
 * removes: `id`, or in 1.0 without one, `destination` (matching {@link SubscribeRequest.id}).
 */
export function interpretUnsubscribe(frame: Frame, version: StompVersion): string {
  if (frame.command !== ClientCommand.UNSUBSCRIBE) {
    throw unexpectedFrame(frame, 'expected UNSUBSCRIBE');
  }
  validateClientFrame(frame, version);
  return frame.header('id') ?? frame.header('destination')!;
}

/** What an ACK or NACK frame names (see {@link interpretAck}). */
export interface AckRequest {
  /** `ACK` or `NACK`. */
  readonly command: 'ACK' | 'NACK';
  /** 1.2: the `id` header, which matches the MESSAGE's `ack` header. */
  readonly id: string | undefined;
  /** 1.0 and 1.1: the `message-id` header. */
  readonly messageId: string | undefined;
  /** 1.1: the `subscription` header. */
  readonly subscription: string | undefined;
  /** The transaction it belongs to, if any. */
  readonly transaction: string | undefined;
}

/** Validate an ACK or NACK frame in `version` and read what it acknowledges. */
export function interpretAck(frame: Frame, version: StompVersion): AckRequest {
  const command = frame.command;
  if (command !== ClientCommand.ACK && command !== ClientCommand.NACK) {
    throw unexpectedFrame(frame, 'expected ACK or NACK');
  }
  validateClientFrame(frame, version);
  return {
    command,
    id: version === '1.2' ? frame.header('id') : undefined,
    messageId: version === '1.2' ? undefined : frame.header('message-id'),
    subscription: version === '1.1' ? frame.header('subscription') : undefined,
    transaction: frame.header('transaction'),
  };
}

/** Options of {@link connectedFrame}. */
export interface ConnectedFrameOptions {
  /** The negotiated version. Written as `version` from 1.1 on; 1.0 CONNECTED frames have none. */
  readonly version: StompVersion;
  /** A session identifier (`session`). */
  readonly session?: string;
  /** Server name and version, e.g. `stompede/0.1.0` (`server`). */
  readonly server?: string;
  /** The server's `heart-beat` (written from 1.1 on): what it can send, what it wants. */
  readonly heartBeat?: HeartBeat;
  /** Extra headers; they cannot override the ones above. */
  readonly headers?: HeadersInit;
}

/** Build the CONNECTED frame that accepts a session. */
export function connectedFrame(options: ConnectedFrameOptions): Frame {
  const modern = options.version !== '1.0';
  return new Frame(
    'CONNECTED',
    assembleHeaders(
      [
        ['version', modern ? options.version : undefined],
        [
          'heart-beat',
          modern && options.heartBeat !== undefined
            ? formatHeartBeat(options.heartBeat)
            : undefined,
        ],
        ['session', options.session],
        ['server', options.server],
      ],
      options.headers,
    ),
  );
}

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

/** Build the RECEIPT frame answering a frame whose `receipt` header was `receiptId`. */
export function receiptFrame(receiptId: string): Frame {
  return new Frame('RECEIPT', [['receipt-id', receiptId]]);
}

/** Options of {@link errorFrame}. */
export interface ErrorFrameOptions {
  /** A short description (`message`); line breaks become spaces so every version can carry it. */
  readonly message: string;
  /** The `receipt` header of the frame that caused the error, if it had one (`receipt-id`). */
  readonly receiptId?: string;
  /** Details. A text body gets `content-type:text/plain;charset=utf-8` unless headers set one. */
  readonly body?: BodyInit;
  /** Extra headers; they cannot override `message` or `receipt-id`. */
  readonly headers?: HeadersInit;
}

/** Build an ERROR frame (the server closes the connection after sending it). */
export function errorFrame(options: ErrorFrameOptions): Frame {
  const headers = assembleHeaders(
    [
      ['message', oneLine(options.message)],
      ['receipt-id', options.receiptId],
    ],
    options.headers,
  );
  if (typeof options.body === 'string' && !headers.some(([name]) => name === 'content-type')) {
    headers.push(['content-type', 'text/plain;charset=utf-8']);
  }
  return new Frame('ERROR', headers, options.body);
}

/**
 * The ERROR frame for a CONNECT that shares no version with the server: its `version` header
 * lists the versions the server speaks, as the spec's Protocol Negotiation section shows.
 */
export function unsupportedVersionFrame(
  supported: readonly StompVersion[] = SUPPORTED_VERSIONS,
): Frame {
  const list = formatAcceptVersion(supported);
  return errorFrame({
    message: 'Unsupported STOMP version',
    headers: [['version', list]],
    body: `Supported protocol versions are ${list.split(',').join(' ')}`,
  });
}

function nonEmpty(value: string, name: string): void {
  if (value.length === 0) {
    throw new StompInvalidArgumentError(`${name} must not be empty`);
  }
}
