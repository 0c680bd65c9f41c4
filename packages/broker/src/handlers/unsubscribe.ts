// UNSUBSCRIBE: detach (unacknowledged messages are requeued); with a durable subscription's
// name header, delete the durable subscription too.
import { ErrorCode, type Frame, StompProtocolError, interpretUnsubscribe } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';
import { durableName } from './subscribe.js';

export function handleUnsubscribe(session: Session, frame: Frame): MaybePromise<void> {
  const id = interpretUnsubscribe(frame, session.version);
  const state = session.state;
  const sub = state.subscriptions.get(id);
  const name = durableName(frame, id);
  if (sub === undefined) {
    // Deleting a durable subscription nobody is attached to (as ActiveMQ allows).
    if (name !== undefined) {
      const removed = session.engine.unsubscribeDurable(session.vhost, session.clientId, name);
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
  const detached = state.unsubscribe(sub);
  if (name === undefined || sub.durableName === undefined) return detached;
  const remove = (): MaybePromise<void> => {
    const r = session.engine.unsubscribeDurable(session.vhost, session.clientId, sub.durableName!);
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
