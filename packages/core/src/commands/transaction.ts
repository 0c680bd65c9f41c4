// BEGIN, COMMIT and ABORT: the builders a client uses, and the rule a server reads them by
// ([1.2 BEGIN], [1.2 COMMIT], [1.2 ABORT]: each names its `transaction`). Which transactions are
// open is session state, kept by the server (see ServerSession).
import { Frame } from '../frame.js';
import type { StompVersion } from '../version.js';
import {
  type FrameOptions,
  assembleHeaders,
  expectCommand,
  missingHeader,
  rejectBody,
} from './common.js';

/** A transaction command. */
export type TransactionCommand = 'BEGIN' | 'COMMIT' | 'ABORT';

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
  command: TransactionCommand,
  version: StompVersion,
  transaction: string,
  options: FrameOptions,
): Frame {
  const frame = new Frame(
    command,
    assembleHeaders(
      [
        ['transaction', transaction],
        ['receipt', options.receipt],
      ],
      options.headers,
    ),
  );
  readTransaction(frame, version, command);
  return frame;
}

/** What a BEGIN, COMMIT or ABORT frame names (see {@link interpretBegin}). */
export interface TransactionRequest {
  /** The command. */
  readonly command: TransactionCommand;
  /** The transaction (`transaction`). */
  readonly transaction: string;
  /** The receipt asked for (`receipt`), if any. */
  readonly receipt: string | undefined;
}

/**
 * Check a BEGIN frame against the rules of `version` and read it, in one pass over its headers.
 *
 * @throws StompProtocolError `ERR_STOMP_UNEXPECTED_FRAME` for another frame,
 * `ERR_STOMP_BODY_NOT_ALLOWED` for a body (1.1+), `ERR_STOMP_MISSING_HEADER` without `transaction`
 */
export function interpretBegin(frame: Frame, version: StompVersion): TransactionRequest {
  return readTransaction(frame, version, 'BEGIN');
}

/** {@link interpretBegin} for COMMIT. */
export function interpretCommit(frame: Frame, version: StompVersion): TransactionRequest {
  return readTransaction(frame, version, 'COMMIT');
}

/** {@link interpretBegin} for ABORT. */
export function interpretAbort(frame: Frame, version: StompVersion): TransactionRequest {
  return readTransaction(frame, version, 'ABORT');
}

/** The rule of {@link interpretBegin}, {@link interpretCommit} and {@link interpretAbort}. */
export function readTransaction(
  frame: Frame,
  version: StompVersion,
  command: TransactionCommand,
): TransactionRequest {
  expectCommand(frame, command);
  rejectBody(frame, version);
  let transaction: string | undefined;
  let receipt: string | undefined;
  const raw = frame.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'transaction') transaction ??= raw[i + 1];
    else if (name === 'receipt') receipt ??= raw[i + 1];
  }
  if (transaction === undefined) {
    throw missingHeader(frame, 'transaction', version, 'it names the transaction');
  }
  return { command, transaction, receipt };
}
