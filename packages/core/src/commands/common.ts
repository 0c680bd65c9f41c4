// Pieces shared by the command modules (one per command): header assembly, coded errors, the rules
// every client frame follows, and the acknowledgment modes.
import { ErrorCode, StompProtocolError } from '../errors.js';
import { type Frame, type HeadersInit, flattenHeaders } from '../frame.js';
import type { StompVersion } from '../version.js';

/** Options every client frame builder but CONNECT's takes. */
export interface FrameOptions {
  /** Ask the server for a RECEIPT with this `receipt-id`. */
  readonly receipt?: string;
  /** Extra headers; they cannot override the headers the builder sets. */
  readonly headers?: HeadersInit;
}

/** The values of a SUBSCRIBE frame's `ack` header. */
export const AckMode = {
  /** The server considers a message consumed once sent (the default). */
  AUTO: 'auto',
  /** The client ACKs; an ACK also covers every earlier message of the subscription. */
  CLIENT: 'client',
  /** The client ACKs or NACKs each message on its own (STOMP 1.1 and later). */
  CLIENT_INDIVIDUAL: 'client-individual',
} as const;
/** A SUBSCRIBE `ack` mode. */
export type AckMode = (typeof AckMode)[keyof typeof AckMode];

/**
 * True when `value` is an `ack` mode valid in `version`: `auto` and `client` in every version,
 * `client-individual` from 1.1 on.
 */
export function isAckMode(value: string, version: StompVersion): value is AckMode {
  return (
    value === 'auto' || value === 'client' || (value === 'client-individual' && version !== '1.0')
  );
}

/**
 * Assemble headers: the builder's own headers first (those with a value), then the caller's
 * extra headers, minus any that would repeat a builder header or set `content-length` (the
 * serializer writes the true length). Builder headers thus win whatever the reader's repeat rule.
 */
export function assembleHeaders(
  own: readonly (readonly [string, string | undefined])[],
  extra: HeadersInit | undefined,
): [string, string][] {
  const out: [string, string][] = [];
  const taken = new Set<string>(['content-length']);
  for (const [name, value] of own) {
    if (value === undefined) continue;
    out.push([name, value]);
    taken.add(name);
  }
  const flat = flattenHeaders(extra);
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    if (!taken.has(name)) out.push([name, flat[i + 1]!]);
  }
  return out;
}

/**
 * {@link assembleHeaders} for the per-message builders, flattened: `own` is
 * `[name0, value0, name1, value1, ...]` (pairs with an `undefined` value are skipped) and so is
 * the result, ready for `Frame.fromRaw`. No pair arrays, no set: a handful of builder headers
 * are compared directly.
 */
export function assembleRaw(
  own: readonly (string | undefined)[],
  extra: HeadersInit | undefined,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < own.length; i += 2) {
    const value = own[i + 1];
    if (value !== undefined) out.push(own[i]!, value);
  }
  if (extra === undefined) return out;
  const owned = out.length;
  const flat = flattenHeaders(extra);
  next: for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    if (name === 'content-length') continue;
    for (let j = 0; j < owned; j += 2) if (out[j] === name) continue next;
    out.push(name, flat[i + 1]!);
  }
  return out;
}

/** `ERR_STOMP_MISSING_HEADER` for a frame without a header it must have. */
export function missingHeader(
  frame: Frame,
  header: string,
  version?: StompVersion,
  detail = '',
): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.MISSING_HEADER,
    `${frame.command} frame is missing the required "${header}" header` +
      (version === undefined ? '' : ` (STOMP ${version})`) +
      (detail === '' ? '' : `: ${detail}`),
    { frame, header },
  );
}

/** `ERR_STOMP_INVALID_HEADER_VALUE` for a header whose value is not allowed. */
export function invalidHeader(
  frame: Frame,
  header: string,
  detail: string,
  version?: StompVersion,
): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.INVALID_HEADER_VALUE,
    `${frame.command} frame has an invalid "${header}" header` +
      (version === undefined ? '' : ` (STOMP ${version})`) +
      `: ${detail}`,
    { frame, header },
  );
}

/** `ERR_STOMP_UNEXPECTED_FRAME` for a frame that may not be sent or received here. */
export function unexpectedFrame(frame: Frame, detail: string): StompProtocolError {
  return new StompProtocolError(
    ErrorCode.UNEXPECTED_FRAME,
    `unexpected ${JSON.stringify(frame.command)} frame: ${detail}`,
    { frame },
  );
}

/** The value of `header`, or throw `ERR_STOMP_MISSING_HEADER`. */
export function requireHeader(
  frame: Frame,
  header: string,
  version: StompVersion,
  detail?: string,
): string {
  const value = frame.header(header);
  if (value === undefined) throw missingHeader(frame, header, version, detail);
  return value;
}

/**
 * Throw unless `frame` is a `command` frame: an interpreter given another frame. (Through
 * `validateClientFrame` the command always matches.)
 */
export function expectCommand(frame: Frame, command: string): void {
  if (frame.command !== command) throw unexpectedFrame(frame, `expected ${command}`);
}

/**
 * [1.1/1.2 Body] Only SEND (of the client frames) may have a body: throw
 * `ERR_STOMP_BODY_NOT_ALLOWED` for a body on any other client frame from 1.1 on. (1.0 only says
 * such bodies are ignored, so they pass in 1.0.)
 */
export function rejectBody(frame: Frame, version: StompVersion): void {
  if (version !== '1.0' && frame.body.length > 0) {
    throw new StompProtocolError(
      ErrorCode.BODY_NOT_ALLOWED,
      `${frame.command} frame must not have a body (STOMP ${version}: only SEND, MESSAGE and ERROR may)`,
      { frame },
    );
  }
}

/** `ERR_STOMP_INVALID_HEADER_VALUE` unless `value` (of a required header) is non-empty. */
export function nonEmptyHeader(
  frame: Frame,
  header: string,
  value: string,
  version: StompVersion,
): string {
  if (value.length === 0) throw invalidHeader(frame, header, 'it is empty', version);
  return value;
}

/** Make header values safe for every version: CR and LF become spaces (for free-text headers). */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
