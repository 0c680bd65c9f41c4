/**
 * Coded errors. Every error this library raises is a {@link StompError} with a stable `code`;
 * codes are only ever added, never renamed or reused (docs/errors.md lists them all).
 */
import type { Frame } from './frame.js';

/** Stable error codes. The value is the code itself, so `err.code === ErrorCode.FRAME_TOO_LARGE`. */
export const ErrorCode = {
  // Frame codec
  INVALID_COMMAND: 'ERR_STOMP_INVALID_COMMAND',
  INVALID_HEADER: 'ERR_STOMP_INVALID_HEADER',
  INVALID_ESCAPE: 'ERR_STOMP_INVALID_ESCAPE',
  INVALID_CONTENT_LENGTH: 'ERR_STOMP_INVALID_CONTENT_LENGTH',
  MISSING_NULL: 'ERR_STOMP_MISSING_NULL',
  INVALID_EOL: 'ERR_STOMP_INVALID_EOL',
  FRAME_TOO_LARGE: 'ERR_STOMP_FRAME_TOO_LARGE',
  HEADER_TOO_LARGE: 'ERR_STOMP_HEADER_TOO_LARGE',
  TOO_MANY_HEADERS: 'ERR_STOMP_TOO_MANY_HEADERS',
  BODY_TOO_LARGE: 'ERR_STOMP_BODY_TOO_LARGE',
  TRUNCATED_FRAME: 'ERR_STOMP_TRUNCATED_FRAME',
  PARSER_FAILED: 'ERR_STOMP_PARSER_FAILED',
  // Frame semantics (commands, session)
  MISSING_HEADER: 'ERR_STOMP_MISSING_HEADER',
  INVALID_HEADER_VALUE: 'ERR_STOMP_INVALID_HEADER_VALUE',
  BODY_NOT_ALLOWED: 'ERR_STOMP_BODY_NOT_ALLOWED',
  UNEXPECTED_FRAME: 'ERR_STOMP_UNEXPECTED_FRAME',
  UNSUPPORTED_VERSION: 'ERR_STOMP_UNSUPPORTED_VERSION',
  INVALID_HEARTBEAT: 'ERR_STOMP_INVALID_HEARTBEAT',
  UNKNOWN_SUBSCRIPTION: 'ERR_STOMP_UNKNOWN_SUBSCRIPTION',
  DUPLICATE_SUBSCRIPTION: 'ERR_STOMP_DUPLICATE_SUBSCRIPTION',
  UNKNOWN_TRANSACTION: 'ERR_STOMP_UNKNOWN_TRANSACTION',
  DUPLICATE_TRANSACTION: 'ERR_STOMP_DUPLICATE_TRANSACTION',
  UNKNOWN_RECEIPT: 'ERR_STOMP_UNKNOWN_RECEIPT',
  INVALID_STATE: 'ERR_STOMP_INVALID_STATE',
  // Caller input
  INVALID_ARGUMENT: 'ERR_STOMP_INVALID_ARGUMENT',
  INVALID_URI: 'ERR_STOMP_INVALID_URI',
  // Peers and connections
  SERVER_ERROR: 'ERR_STOMP_SERVER_ERROR',
  CONNECTION_REFUSED: 'ERR_STOMP_CONNECTION_REFUSED',
  CONNECTION_LOST: 'ERR_STOMP_CONNECTION_LOST',
  CONNECTION_CLOSED: 'ERR_STOMP_CONNECTION_CLOSED',
  HEARTBEAT_TIMEOUT: 'ERR_STOMP_HEARTBEAT_TIMEOUT',
  TIMEOUT: 'ERR_STOMP_TIMEOUT',
  ABORTED: 'ERR_STOMP_ABORTED',
  AUTHENTICATION_FAILED: 'ERR_STOMP_AUTHENTICATION_FAILED',
  FORBIDDEN: 'ERR_STOMP_FORBIDDEN',
  LIMIT_EXCEEDED: 'ERR_STOMP_LIMIT_EXCEEDED',
  STALE_MESSAGE: 'ERR_STOMP_STALE_MESSAGE',
  DISK_FULL: 'ERR_STOMP_DISK_FULL',
  UNAVAILABLE: 'ERR_STOMP_UNAVAILABLE',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra context an error may carry. */
export interface StompErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown;
  /** The frame that caused the error (a received ERROR frame, or the offending frame). */
  readonly frame?: Frame;
  /** The name of the offending header. */
  readonly header?: string;
  /** Byte offset into the input stream, for codec errors. */
  readonly offset?: number;
  /**
   * The `receipt` header of a frame too malformed to become a {@link Frame}, when the parser
   * could read it (a server answers with `receipt-id` on its ERROR).
   */
  readonly receipt?: string | undefined;
}

const kStompError = Symbol.for('stompede.error');

/**
 * Base class of every error raised by stompede. `instanceof` works across duplicate installs of
 * the package because the check uses a global symbol brand.
 */
export class StompError extends Error {
  /** Stable machine-readable code (`ERR_STOMP_...`). */
  readonly code: ErrorCode;
  /** The offending or received frame, when there is one. */
  readonly frame: Frame | undefined;
  /** The offending header's name, when there is one. */
  readonly header: string | undefined;
  /** Byte offset in the input stream where a codec error was found. */
  readonly offset: number | undefined;
  /** The `receipt` header of a malformed frame, when it could be read (codec errors). */
  readonly receipt: string | undefined;

  constructor(code: ErrorCode, message: string, options: StompErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.frame = options.frame;
    this.header = options.header;
    this.offset = options.offset;
    this.receipt = options.receipt;
  }

  override get name(): string {
    return this.constructor.name;
  }

  get [kStompError](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === StompError) {
      return typeof value === 'object' && value !== null && kStompError in value;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** The peer or the input broke the protocol: malformed bytes, a bad header, an illegal frame. */
export class StompProtocolError extends StompError {}

/** A caller passed an invalid argument or option. */
export class StompInvalidArgumentError extends StompError {
  constructor(message: string, options: StompErrorOptions = {}) {
    super(ErrorCode.INVALID_ARGUMENT, message, options);
  }
}

/** A connection could not be made, or was lost or closed. */
export class StompConnectionError extends StompError {}

/** An operation did not complete in time. */
export class StompTimeoutError extends StompError {
  constructor(message: string, options: StompErrorOptions = {}) {
    super(ErrorCode.TIMEOUT, message, options);
  }
}

/**
 * An operation was cancelled through its `AbortSignal` (code `ERR_STOMP_ABORTED`); the signal's
 * `reason` is the `cause`. The counterpart of {@link StompTimeoutError} for cancellation.
 */
export class StompAbortError extends StompError {
  constructor(message: string, options: StompErrorOptions = {}) {
    super(ErrorCode.ABORTED, message, options);
  }
}

/** The server sent an ERROR frame; `frame` holds it and `message` is its `message` header. */
export class StompServerError extends StompError {
  /** The ERROR frame as received. */
  declare readonly frame: Frame;

  constructor(frame: Frame, code: ErrorCode = ErrorCode.SERVER_ERROR) {
    const summary = frame.header('message') ?? (frame.body.length > 0 ? frame.text : 'ERROR frame');
    super(code, summary, { frame });
  }
}

/** A malformed failover or broker URI. `code` is always `ERR_STOMP_INVALID_URI`. */
export class StompInvalidUriError extends StompError {
  constructor(message: string, options: StompErrorOptions = {}) {
    super(ErrorCode.INVALID_URI, message, options);
  }
}
