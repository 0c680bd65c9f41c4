// UNSUBSCRIBE: detach (unacknowledged messages are requeued); with a durable subscription's
// name header, delete the durable subscription too.
import { ErrorCode, type Frame, StompProtocolError, interpretUnsubscribe } from '@stompede/core';
import type { Connection } from '../connection.js';
import type { MaybePromise } from '../engine.js';
import { durableName } from './subscribe.js';

export function handleUnsubscribe(conn: Connection, frame: Frame): MaybePromise<void> {
  const id = interpretUnsubscribe(frame, conn.version);
  const sub = conn.subscriptions.get(id);
  const name = durableName(frame, id);
  if (sub === undefined) {
    // Deleting a durable subscription nobody is attached to (as ActiveMQ allows).
    if (name !== undefined) {
      const removed = conn.engine.unsubscribeDurable(conn.vhost, conn.clientId, name);
      if (removed instanceof Promise)
        return removed.then((r) => {
          check(r, frame, id);
        });
      check(removed, frame, id);
      return;
    }
    check(false, frame, id);
    return;
  }
  const detached = conn.removeSubscription(sub);
  if (name === undefined || sub.durableName === undefined) return detached;
  const remove = (): MaybePromise<void> => {
    const r = conn.engine.unsubscribeDurable(conn.vhost, conn.clientId, sub.durableName!);
    return r instanceof Promise ? r.then(() => undefined) : undefined;
  };
  return detached instanceof Promise ? detached.then(remove) : remove();
}

function check(found: boolean, frame: Frame, id: string): void {
  if (!found) {
    throw new StompProtocolError(
      ErrorCode.UNKNOWN_SUBSCRIPTION,
      `no subscription ${JSON.stringify(id.slice(0, 200))} on this connection`,
      { frame, header: 'id' },
    );
  }
}
