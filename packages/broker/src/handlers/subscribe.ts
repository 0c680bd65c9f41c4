// SUBSCRIBE: ack mode, prefetch (prefetch-count, activemq.prefetchSize, consumer-window-size)
// and durable topic subscriptions (ActiveMQ, RabbitMQ and Artemis header conventions).
import { ErrorCode, type Frame, StompProtocolError, encodeHeaderToken } from '@stompede/core';
import { isTrueHeader } from '../boolean-header.js';
import { DestinationKind, parseDestination } from '../destination.js';
import type { MaybePromise } from '../engine.js';
import type { Session } from '../session/session.js';
import { Subscription } from '../session/subscription.js';

function positiveInt(frame: Frame, header: string): number | undefined {
  const value = frame.header(header);
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) {
    throw new StompProtocolError(
      ErrorCode.INVALID_HEADER_VALUE,
      `${header} must be an integer, not ${JSON.stringify(value.slice(0, 50))}`,
      { frame, header },
    );
  }
  return n;
}

/** The durable subscription name a SUBSCRIBE or UNSUBSCRIBE asks for, if any. */
export function durableName(frame: Frame, id: string | undefined): string | undefined {
  const activemq = frame.header('activemq.subscriptionName');
  if (activemq !== undefined && activemq.length > 0) return activemq;
  const artemis =
    frame.header('durable-subscription-name') ?? frame.header('durable-subscriber-name');
  if (artemis !== undefined && artemis.length > 0) return artemis;
  const durable = frame.header('durable') ?? frame.header('persistent');
  if (isTrueHeader(durable) && !isTrueHeader(frame.header('auto-delete')) && id !== undefined) {
    return id;
  }
  return undefined;
}

export function handleSubscribe(session: Session, frame: Frame): MaybePromise<void> {
  const options = session.options;
  const state = session.state;
  // The session's rule: a valid frame, an id not in use, at most maxSubscriptions.
  const sub = state.subscribe(frame, (request) => {
    const dest = parseDestination(request.destination);
    // MESSAGE frames carry the id as `subscription`: refused now if it cannot be written.
    const id = encodeHeaderToken(request.id, session.version, { header: 'id', frame });
    if (typeof id !== 'string') throw id;
    session.authorize('read', request.destination, frame);
    let prefetch =
      positiveInt(frame, 'prefetch-count') ??
      positiveInt(frame, 'activemq.prefetchSize') ??
      options.defaultPrefetch;
    if (prefetch <= 0 || prefetch > options.maxUnackedPerSubscription) {
      prefetch = options.maxUnackedPerSubscription;
    }
    const window = positiveInt(frame, 'consumer-window-size') ?? 0;
    const name = dest.kind === DestinationKind.TOPIC ? durableName(frame, request.id) : undefined;
    return new Subscription(
      session.output,
      request.id,
      request.destination,
      request.ack,
      request.explicitId,
      prefetch,
      window > 0 ? window : 0,
      name,
    );
  });
  const name = sub.durableName;
  const detached = (err: unknown): never => {
    state.remove(sub.id);
    throw err;
  };
  try {
    const handle = session.engine.subscribe(
      {
        vhost: session.vhost,
        sessionId: session.id,
        destination: sub.destination,
        autoAck: sub.mode === 'auto',
        ...(name === undefined ? {} : { durable: { clientId: session.clientId, name } }),
      },
      sub,
    );
    if (handle instanceof Promise) {
      return handle.then((h) => {
        sub.attach(h);
      }, detached);
    }
    sub.attach(handle);
    return undefined;
  } catch (err) {
    return detached(err);
  }
}
