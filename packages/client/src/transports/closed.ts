// What the built-in transports share about writing: the error once closed, and `write` in terms
// of `writeNow`.
import { ErrorCode, StompConnectionError } from '@stompede/core';

/** The error a write to a closed transport rejects with. */
export function closedError(cause?: unknown): StompConnectionError {
  return new StompConnectionError(
    ErrorCode.CONNECTION_CLOSED,
    'the transport is closed',
    cause === undefined ? {} : { cause },
  );
}

/**
 * `Transport.write` for a transport that has `writeNow`: the same write, as a promise (rejected
 * instead of thrown).
 */
export function writeAsPromise(
  transport: { writeNow(chunks: readonly Uint8Array[]): Promise<void> | undefined },
  chunks: readonly Uint8Array[],
): Promise<void> {
  try {
    return transport.writeNow(chunks) ?? Promise.resolve();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
