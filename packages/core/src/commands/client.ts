// Client side of the stateless commands: builders for every client frame, and interpreters of
// what a server sends. Each builder checks its frame with validateClientFrame, so a builder never
// produces a frame a conforming server must reject.
import {
  ErrorCode,
  StompInvalidArgumentError,
  StompProtocolError,
  StompServerError,
} from '../errors.js';
import { EMPTY_BYTES } from '../bytes.js';
import { type BodyInit, bodyBytes, Frame, type HeadersInit, ServerCommand } from '../frame.js';
import {
  type HeartBeat,
  NO_HEART_BEAT,
  formatAcceptVersion,
  formatHeartBeat,
  parseHeartBeat,
} from '../negotiate.js';
import { SUPPORTED_VERSIONS, type StompVersion, isStompVersion } from '../version.js';
import {
  type AckMode,
  assembleHeaders,
  assembleRaw,
  invalidHeader,
  missingHeader,
  requireHeader,
  unexpectedFrame,
} from './common.js';
import { validateClientFrame } from './server.js';

/** Options every client frame but CONNECT takes. */
export interface FrameOptions {
  /** Ask the server for a RECEIPT with this `receipt-id`. */
  readonly receipt?: string;
  /** Extra headers; they cannot override the headers the builder sets. */
  readonly headers?: HeadersInit;
}

/** Options of {@link connectFrame}. */
export interface ConnectFrameOptions {
  /** Versions offered (`accept-version`). Default every version this library speaks. */
  readonly versions?: readonly StompVersion[];
  /**
   * The virtual host (`host`). Required when offering 1.1 or later; usually the host name the
   * socket connects to.
   */
  readonly host?: string;
  /** User name (`login`). */
  readonly login?: string;
  /** Password (`passcode`). */
  readonly passcode?: string;
  /** What this client can send and wants to receive, in ms (`heart-beat`; not written for 1.0). */
  readonly heartBeat?: HeartBeat;
  /** Extra headers; they cannot override the ones above. */
  readonly headers?: HeadersInit;
  /**
   * Send `STOMP` instead of `CONNECT` (1.1+ servers only; lets protocol sniffers tell STOMP
   * from HTTP). Default `false`, as the spec recommends.
   */
  readonly useStompCommand?: boolean;
}

/**
 * Build the CONNECT (or STOMP) frame opening a session. Offering only 1.0 writes a plain 1.0
 * CONNECT: no `accept-version`, `host` or `heart-beat`.
 *
 * @throws StompInvalidArgumentError for no or unknown versions, or `useStompCommand` with only 1.0
 * @throws StompProtocolError `ERR_STOMP_MISSING_HEADER` without `host` when offering 1.1+;
 * `ERR_STOMP_INVALID_HEARTBEAT` for a negative or fractional heart-beat
 */
export function connectFrame(options: ConnectFrameOptions = {}): Frame {
  const versions = options.versions ?? SUPPORTED_VERSIONS;
  if (versions.length === 0) throw new StompInvalidArgumentError('versions must not be empty');
  for (const version of versions) {
    if (!isStompVersion(version)) {
      throw new StompInvalidArgumentError(
        `unknown STOMP version ${JSON.stringify(version)} in versions`,
      );
    }
  }
  const modern = versions.some((v) => v !== '1.0');
  const command = options.useStompCommand === true ? 'STOMP' : 'CONNECT';
  if (command === 'STOMP' && !modern) {
    throw new StompInvalidArgumentError('the STOMP command needs STOMP 1.1 or later in versions');
  }
  const frame = new Frame(
    command,
    assembleHeaders(
      [
        ['accept-version', modern ? formatAcceptVersion(versions) : undefined],
        ['host', modern ? options.host : undefined],
        ['login', options.login],
        ['passcode', options.passcode],
        [
          'heart-beat',
          modern && options.heartBeat !== undefined
            ? formatHeartBeat(options.heartBeat)
            : undefined,
        ],
      ],
      options.headers,
    ),
  );
  const highest = modern ? (versions.includes('1.2') ? '1.2' : '1.1') : '1.0';
  if (modern && !frame.has('host')) {
    throw missingHeader(frame, 'host', highest, 'clients must name the virtual host from 1.1 on');
  }
  validateClientFrame(frame, highest);
  return frame;
}

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

/** Build a SEND frame. `content-length` is written by the serializer. */
export function sendFrame(version: StompVersion, options: SendFrameOptions): Frame {
  return checked(
    Frame.fromRaw(
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
    ),
    version,
  );
}

/** Options of {@link subscribeFrame}. */
export interface SubscribeFrameOptions extends FrameOptions {
  /** What to subscribe to (`destination`). */
  readonly destination: string;
  /** The subscription's identifier (`id`): required from 1.1 on, optional in 1.0. */
  readonly id?: string;
  /** The ack mode (`ack`); the server's default is `auto`. `client-individual` is 1.1+. */
  readonly ack?: AckMode;
}

/** Build a SUBSCRIBE frame. Throws `ERR_STOMP_MISSING_HEADER` for a missing `id` in 1.1+. */
export function subscribeFrame(version: StompVersion, options: SubscribeFrameOptions): Frame {
  return checked(
    new Frame(
      'SUBSCRIBE',
      assembleHeaders(
        [
          ['id', options.id],
          ['destination', options.destination],
          ['ack', options.ack],
          ['receipt', options.receipt],
        ],
        options.headers,
      ),
    ),
    version,
  );
}

/** Options of {@link unsubscribeFrame}. */
export interface UnsubscribeFrameOptions extends FrameOptions {
  /** The subscription's identifier (`id`); required from 1.1 on. */
  readonly id?: string;
  /** 1.0 only: unsubscribe by `destination` when the subscription had no id. */
  readonly destination?: string;
}

/** Build an UNSUBSCRIBE frame: by `id` (1.1+), or by `id` or `destination` (1.0). */
export function unsubscribeFrame(version: StompVersion, options: UnsubscribeFrameOptions): Frame {
  return checked(
    new Frame(
      'UNSUBSCRIBE',
      assembleHeaders(
        [
          ['id', options.id],
          ['destination', version === '1.0' ? options.destination : undefined],
          ['receipt', options.receipt],
        ],
        options.headers,
      ),
    ),
    version,
  );
}

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
  return checked(
    Frame.fromRaw(
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
    ),
    version,
  );
}

/** Build a BEGIN frame starting `transaction`. */
export function beginFrame(
  version: StompVersion,
  transaction: string,
  options: FrameOptions = {},
): Frame {
  return transactionFrame('BEGIN', version, transaction, options);
}

/** Build a COMMIT frame for `transaction`. */
export function commitFrame(
  version: StompVersion,
  transaction: string,
  options: FrameOptions = {},
): Frame {
  return transactionFrame('COMMIT', version, transaction, options);
}

/** Build an ABORT frame for `transaction`. */
export function abortFrame(
  version: StompVersion,
  transaction: string,
  options: FrameOptions = {},
): Frame {
  return transactionFrame('ABORT', version, transaction, options);
}

function transactionFrame(
  command: 'BEGIN' | 'COMMIT' | 'ABORT',
  version: StompVersion,
  transaction: string,
  options: FrameOptions,
): Frame {
  return checked(
    new Frame(
      command,
      assembleHeaders(
        [
          ['transaction', transaction],
          ['receipt', options.receipt],
        ],
        options.headers,
      ),
    ),
    version,
  );
}

/**
 * Build a DISCONNECT frame. For a graceful shutdown give it a `receipt` and close the socket once
 * the RECEIPT arrives.
 */
export function disconnectFrame(version: StompVersion, options: FrameOptions = {}): Frame {
  return checked(
    new Frame('DISCONNECT', assembleHeaders([['receipt', options.receipt]], options.headers)),
    version,
  );
}

function checked(frame: Frame, version: StompVersion): Frame {
  validateClientFrame(frame, version);
  return frame;
}

/** What a CONNECTED frame says (see {@link interpretConnected}). */
export interface ConnectedInfo {
  /** The session's version; `1.0` when the frame has no `version` header. */
  readonly version: StompVersion;
  /** The server's `heart-beat` (`[0, 0]` when missing or in 1.0). */
  readonly heartBeat: HeartBeat;
  /** The `session` header. */
  readonly session: string | undefined;
  /** The `server` header. */
  readonly server: string | undefined;
  /** Every header (first of repeats wins). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Read the server's answer to CONNECT.
 *
 * @param offered - the versions the CONNECT offered; a version outside them is an error
 * @throws StompServerError `ERR_STOMP_CONNECTION_REFUSED` when the answer is an ERROR frame
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for any other frame,
 * `ERR_STOMP_UNSUPPORTED_VERSION` for a version not offered or unknown,
 * `ERR_STOMP_INVALID_HEARTBEAT` for a malformed `heart-beat`
 */
export function interpretConnected(
  frame: Frame,
  offered: readonly StompVersion[] = SUPPORTED_VERSIONS,
): ConnectedInfo {
  if (frame.command === ServerCommand.ERROR) {
    throw new StompServerError(frame, ErrorCode.CONNECTION_REFUSED);
  }
  if (frame.command !== ServerCommand.CONNECTED) {
    throw unexpectedFrame(frame, 'expected CONNECTED in answer to CONNECT');
  }
  const header = frame.header('version');
  const version = header ?? '1.0';
  if (!isStompVersion(version) || !offered.includes(version)) {
    throw new StompProtocolError(
      ErrorCode.UNSUPPORTED_VERSION,
      `the server chose STOMP ${JSON.stringify(version)}, which was not offered ` +
        `(${offered.join(', ')})`,
      { frame, header: 'version' },
    );
  }
  return {
    version,
    heartBeat: version === '1.0' ? NO_HEART_BEAT : parseHeartBeat(frame.header('heart-beat')),
    session: frame.header('session'),
    server: frame.header('server'),
    headers: frame.headerObject(),
  };
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
 * `destination` and `message-id` always, `subscription` from 1.1 on.
 */
export function interpretMessage(frame: Frame, version: StompVersion): MessageInfo {
  if (frame.command !== ServerCommand.MESSAGE) throw unexpectedFrame(frame, 'expected MESSAGE');
  return {
    destination: requireHeader(frame, 'destination', version),
    messageId: requireHeader(frame, 'message-id', version),
    subscription:
      version === '1.0'
        ? frame.header('subscription')
        : requireHeader(frame, 'subscription', version),
    ack: frame.header('ack'),
  };
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

/**
 * The `receipt-id` of a RECEIPT frame.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_MISSING_HEADER` without `receipt-id`
 */
export function interpretReceipt(frame: Frame): string {
  if (frame.command !== ServerCommand.RECEIPT) throw unexpectedFrame(frame, 'expected RECEIPT');
  const receiptId = frame.header('receipt-id');
  if (receiptId === undefined) throw missingHeader(frame, 'receipt-id');
  if (receiptId.length === 0) throw invalidHeader(frame, 'receipt-id', 'it is empty');
  return receiptId;
}

/**
 * The error an ERROR frame reports, to reject or throw: a {@link StompServerError} whose message
 * is the frame's `message` header (or its text body) and whose `frame` is the ERROR frame; its
 * `receipt-id` header, if any, names the failed frame.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame
 */
export function interpretError(frame: Frame): StompServerError {
  if (frame.command !== ServerCommand.ERROR) throw unexpectedFrame(frame, 'expected ERROR');
  return new StompServerError(frame);
}
