// UNSUBSCRIBE: detach (unacknowledged messages are requeued); with a durable subscription's
// name header, delete the durable subscription too.
import { type Frame, ServerSession, interpretUnsubscribe } from '@stompede/core';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';
import { durableName } from './subscribe.js';

export function handleUnsubscribe(session: Session, frame: Frame): MaybePromise<void> {
  const state = session.state;
  const id = interpretUnsubscribe(frame, session.version);
  const name = durableName(frame, id);
  const sub = state.subscriptions.get(id);
  if (sub === undefined && name !== undefined) {
    // Deleting a durable subscription nobody is attached to (as ActiveMQ allows).
    const check = (removed: boolean): void => {
      if (!removed) throw ServerSession.unknownSubscription(frame, id);
    };
    const removed = session.engine.unsubscribeDurable(session.vhost, session.clientId, name);
    if (removed instanceof Promise) return removed.then(check);
    check(removed);
    return;
  }
  // Not open: the session's rule throws ERR_STOMP_UNKNOWN_SUBSCRIPTION.
  const detached = state.detach(state.unsubscribe(frame));
  if (name === undefined || sub?.durableName === undefined) return detached;
  const durable = sub.durableName;
  const remove = (): MaybePromise<void> => {
    const r = session.engine.unsubscribeDurable(session.vhost, session.clientId, durable);
    return r instanceof Promise ? r.then(() => undefined) : undefined;
  };
  return detached instanceof Promise ? detached.then(remove) : remove();
}
