// Which code an ERROR frame from a broker reports. stompede's broker names its code (a `code`
// header, and the body's first word); RabbitMQ and ActiveMQ send text only, so their refusals of
// a login and their permission denials are recognised by the text they are known to send.
// Anything else is ERR_STOMP_SERVER_ERROR. Read once per ERROR frame, never on a hot path.
import { ErrorCode, StompServerError } from '../errors.js';
import type { Frame } from '../frame.js';

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
];

/**
 * The code an ERROR frame reports: the `code` header or the body's leading `ERR_STOMP_…:` when
 * it names a known code (stompede's broker), else `ERR_STOMP_AUTHENTICATION_FAILED` or
 * `ERR_STOMP_FORBIDDEN` for the refusals RabbitMQ and ActiveMQ (Classic and Artemis) are known to
 * send, else `ERR_STOMP_SERVER_ERROR`.
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

/** The error an ERROR frame reports, with the code {@link serverErrorCode} finds. */
export function serverError(frame: Frame): StompServerError {
  return new StompServerError(frame, serverErrorCode(frame));
}
