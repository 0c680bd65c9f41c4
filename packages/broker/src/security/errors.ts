// The error a refused insecure configuration raises, and ERROR counts by code for metrics.
import {
  ErrorCode,
  type StompErrorOptions,
  StompError,
  StompInvalidArgumentError,
} from '@stompede/core';
import type { Frame } from '@stompede/core';
import type { Connection } from '../connection.js';

/**
 * The broker would be reachable from other hosts without authentication, and that was not
 * explicitly allowed (`allowAnonymous`). Raised by `createBroker`; code `ERR_STOMP_INVALID_ARGUMENT`.
 */
export class InsecureConfigurationError extends StompInvalidArgumentError {
  constructor(message: string, options: StompErrorOptions = {}) {
    super(message, options);
  }
}

/** ERROR frames sent, and connections refused, by error code. */
export class ErrorCounts {
  /** ERROR frames by code. */
  readonly byCode = new Map<string, number>();
  /** Connections refused at accept (connection limits), by code. */
  readonly refusedByCode = new Map<string, number>();

  /** An ERROR with `code` was sent. */
  count(code: string): void {
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
  }

  /** A connection was refused. */
  refused(code: string): void {
    this.refusedByCode.set(code, (this.refusedByCode.get(code) ?? 0) + 1);
    this.count(code);
  }

  /** Total connections refused. */
  get refusedTotal(): number {
    let n = 0;
    for (const v of this.refusedByCode.values()) n += v;
    return n;
  }

  /**
   * Count the ERRORs `conn` sends through {@link Connection.fail}.
   * Stopgap until Connection reports error codes itself: wraps the instance's `fail`.
   */
  watch(conn: Connection): void {
    const fail = conn.fail.bind(conn);
    conn.fail = (err: unknown, frame?: Frame): void => {
      if (conn.state < 2) {
        this.count(err instanceof StompError ? err.code : ErrorCode.INVALID_STATE);
      }
      fail(err, frame);
    };
  }
}
