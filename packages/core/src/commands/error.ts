// ERROR: the builders a server uses (unsupportedVersionFrame answers a CONNECT that shares no
// version), and how a client reads one ([1.2 ERROR]: `message` sums it up, `receipt-id` names the
// frame that failed when it asked for a receipt). The error's code travels in a `code` header
// (stompede's own; other brokers send text only, read by serverErrorCode).
import { ErrorCode, StompServerError } from '../errors.js';
import { type BodyInit, Frame, type HeadersInit, ServerCommand } from '../frame.js';
import { formatAcceptVersion } from '../negotiate.js';
import { SUPPORTED_VERSIONS, type StompVersion } from '../version.js';
import { assembleHeaders, oneLine, unexpectedFrame } from './common.js';

/** Options of {@link errorFrame}. */
export interface ErrorFrameOptions {
  /** A short description (`message`); line breaks become spaces so every version can carry it. */
  readonly message: string;
  /** The `receipt` header of the frame that caused the error, if it had one (`receipt-id`). */
  readonly receiptId?: string;
  /** Details. A text body gets `content-type:text/plain;charset=utf-8` unless headers set one. */
  readonly body?: BodyInit;
  /** The error's code, sent as the `code` header for clients to read (see {@link serverErrorCode}). */
  readonly code?: ErrorCode;
  /** Extra headers; they cannot override `message`, `receipt-id` or `code`. */
  readonly headers?: HeadersInit;
}

/** Build an ERROR frame (the server closes the connection after sending it). */
export function errorFrame(options: ErrorFrameOptions): Frame {
  const headers = assembleHeaders(
    [
      ['message', oneLine(options.message)],
      ['receipt-id', options.receiptId],
      ['code', options.code],
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
    code: ErrorCode.UNSUPPORTED_VERSION,
    headers: [['version', list]],
    body: `Supported protocol versions are ${list.split(',').join(' ')}`,
  });
}

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The first word of stompede's ERROR bodies (`ERR_STOMP_FORBIDDEN: user "x" may not …`). */
const BODY_CODE = /^(ERR_STOMP_[A-Z_]+):/;

/** How much of an ERROR body is searched (ActiveMQ's carry a Java stack trace). */
const SCAN_CHARS = 4096;

/** The text other brokers send when they refuse a login or deny an operation. */
const KNOWN_TEXTS: readonly (readonly [RegExp, ErrorCode])[] = [
  // RabbitMQ: message "Bad CONNECT", body "Access refused for user 'name'".
  [/Access refused for user '/, ErrorCode.AUTHENTICATION_FAILED],
  // RabbitMQ: "Virtual host '/x' access denied"; a user restricted to loopback connections.
  [/Virtual host '.*' access denied|non-loopback access denied/, ErrorCode.FORBIDDEN],
  // ActiveMQ Classic (simple and JAAS authentication): "User name [name] or password is invalid."
  [/User name \[.*\] or password is invalid/, ErrorCode.AUTHENTICATION_FAILED],
  // ActiveMQ Classic authorization: "User name is not authorized to write to: queue://x".
  [/User .* is not authorized to /, ErrorCode.FORBIDDEN],
  // ActiveMQ Artemis: AMQ229031 "Unable to validate user …", AMQ229032 "… does not have permission".
  [/\bAMQ229031\b|Unable to validate user/, ErrorCode.AUTHENTICATION_FAILED],
  [/\bAMQ229032\b|does not have permission=/, ErrorCode.FORBIDDEN],
  // Open Message Queue's STOMP bridge: "CONNECT: [C4060]: Login failed:  user=name, broker=…".
  [/\[C4060\]: Login failed/, ErrorCode.AUTHENTICATION_FAILED],
  // Vert.x STOMP server: message "Authentication failed", body "The connection frame does not
  // contain valid credentials."
  [/connection frame does not contain valid credentials/, ErrorCode.AUTHENTICATION_FAILED],
];

/**
 * The code an ERROR frame reports: the `code` header or the body's leading `ERR_STOMP_…:` when
 * it names a known code (stompede's broker), else `ERR_STOMP_AUTHENTICATION_FAILED` or
 * `ERR_STOMP_FORBIDDEN` for the refusals RabbitMQ, ActiveMQ (Classic and Artemis), Open MQ and
 * Vert.x are known to send, else `ERR_STOMP_SERVER_ERROR`.
 */
export function serverErrorCode(frame: Frame): ErrorCode {
  const header = frame.header('code');
  if (header !== undefined && CODES.has(header)) return header as ErrorCode;
  const body = frame.body.length > 0 ? frame.text.slice(0, SCAN_CHARS) : '';
  const named = BODY_CODE.exec(body)?.[1];
  if (named !== undefined && CODES.has(named)) return named as ErrorCode;
  const text = `${frame.header('message') ?? ''}\n${body}`;
  for (const [pattern, code] of KNOWN_TEXTS) {
    if (pattern.test(text)) return code;
  }
  return ErrorCode.SERVER_ERROR;
}

/**
 * The error an ERROR frame reports, to reject or throw: a {@link StompServerError} whose code is
 * {@link serverErrorCode}'s, whose message is the frame's `message` header (or its text body) and
 * whose `frame` is the ERROR frame; its `receipt-id` header, if any, names the failed frame.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame
 */
export function interpretError(frame: Frame): StompServerError {
  if (frame.command !== ServerCommand.ERROR) throw unexpectedFrame(frame, 'expected ERROR');
  return new StompServerError(frame, serverErrorCode(frame));
}
