// SUBSCRIBE: ack mode, prefetch (prefetch-count, activemq.prefetchSize, consumer-window-size)
// and durable topic subscriptions (ActiveMQ, RabbitMQ and Artemis header conventions).
import { ErrorCode, type Frame, StompProtocolError, interpretSubscribe } from '@stompede/core';
import type { Connection } from '../connection.js';
import { isTrueHeader } from '../boolean-header.js';
import { DestinationKind, parseDestination } from '../destination.js';
import type { MaybePromise } from '../engine.js';
import { Subscription } from '../subscription.js';

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

export function handleSubscribe(conn: Connection, frame: Frame): MaybePromise<void> {
  const request = interpretSubscribe(frame, conn.version);
  if (conn.subscriptions.has(request.id)) {
    throw new StompProtocolError(
      ErrorCode.DUPLICATE_SUBSCRIPTION,
      `subscription id ${JSON.stringify(request.id)} is already in use on this connection`,
      { frame, header: 'id' },
    );
  }
  if (conn.subscriptions.size >= conn.options.maxSubscriptions) {
    throw new StompProtocolError(
      ErrorCode.LIMIT_EXCEEDED,
      `more than ${String(conn.options.maxSubscriptions)} subscriptions on one connection`,
      { frame },
    );
  }
  const dest = parseDestination(request.destination);
  conn.options.security.authorize(conn, 'read', request.destination, frame);
  let prefetch =
    positiveInt(frame, 'prefetch-count') ??
    positiveInt(frame, 'activemq.prefetchSize') ??
    conn.options.defaultPrefetch;
  if (prefetch <= 0 || prefetch > conn.options.maxUnackedPerSubscription) {
    prefetch = conn.options.maxUnackedPerSubscription;
  }
  const window = positiveInt(frame, 'consumer-window-size') ?? 0;
  const name = dest.kind === DestinationKind.TOPIC ? durableName(frame, request.id) : undefined;
  const sub = new Subscription(
    conn,
    request.id,
    request.destination,
    request.ack,
    request.explicitId,
    prefetch,
    window > 0 ? window : 0,
    name,
  );
  conn.subscriptions.set(request.id, sub);
  const attach = (): MaybePromise<void> => {
    const handle = conn.engine.subscribe(
      {
        vhost: conn.vhost,
        sessionId: conn.id,
        destination: request.destination,
        autoAck: request.ack === 'auto',
        ...(name === undefined ? {} : { durable: { clientId: conn.clientId, name } }),
      },
      sub,
    );
    if (handle instanceof Promise) {
      return handle.then(
        (h) => {
          sub.handle = h;
        },
        (err: unknown) => {
          conn.subscriptions.delete(request.id);
          throw err;
        },
      );
    }
    sub.handle = handle;
    return undefined;
  };
  try {
    return attach();
  } catch (err) {
    conn.subscriptions.delete(request.id);
    throw err;
  }
}
