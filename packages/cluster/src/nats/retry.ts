// JetStream API calls during trouble: while a stream or consumer elects a leader (after a server
// died) or the node reconnects, calls time out or find no responder for a few seconds. They are
// retried until a deadline; what still fails becomes ERR_STOMP_UNAVAILABLE for the client.
import { ErrorCode, StompError, StompProtocolError } from '@stompede/core';
import { describe } from './link.js';

/** True for errors a retry may cure (timeouts, no leader or responder yet, reconnecting). */
export function transient(err: unknown): boolean {
  return /timeout|no responders|not enabled|no suitable peers|temporarily unavailable|leader|disconnect|connection (closed|draining)|503/i.test(
    describe(err),
  );
}

/** `err` as a StompError: ERR_STOMP_UNAVAILABLE, saying what could not be done. */
export function unavailable(action: string, err: unknown): StompError {
  if (err instanceof StompError) return err;
  return new StompProtocolError(
    ErrorCode.UNAVAILABLE,
    `${action}: the cluster did not answer in time (${describe(err)}); try again`,
    { cause: err },
  );
}

/** Run `call`, retrying transient failures for up to `ms`; then throw ERR_STOMP_UNAVAILABLE. */
export async function retrying<T>(action: string, ms: number, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!transient(err) || Date.now() >= deadline) throw unavailable(action, err);
      await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1000)));
    }
  }
}
