// ERROR: the builders a server uses (unsupportedVersionFrame answers a CONNECT that shares no
// version), and how a client reads one ([1.2 ERROR]: `message` sums it up, `receipt-id` names the
// frame that failed when it asked for a receipt).
import { StompServerError } from '../errors.js';
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
