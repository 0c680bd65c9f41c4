// The AdminView of a Broker.
import { ErrorCode, StompProtocolError } from '@stompede/core';
import type { Broker } from '../broker.js';
import type { Connection } from '../connection.js';
import { destinationRows } from './stats.js';
import type { AdminView, ConnectionView } from './view.js';

/** Build the admin view of `broker`. */
export function brokerView(broker: Broker, ready: () => boolean): AdminView {
  const security = broker.options.security;
  const engine = broker.engine;
  let closedBytes = 0;
  const counted = new WeakSet<Connection>();
  const sessions = (): Iterable<Connection> => broker.sessionList;
  const track = (): void => {
    for (const c of sessions()) {
      if (counted.has(c)) continue;
      counted.add(c);
      void c.closed.then(() => {
        closedBytes += security.bytesWritten(c);
      });
    }
  };
  return {
    metrics: broker.metrics,
    errors: broker.errorCounts,
    ready,
    engineStats: () => broker.engine.stats(),
    engineReport: async () => engine.report?.(),
    bytesOut: () => {
      track();
      let n = closedBytes;
      for (const c of sessions()) n += security.bytesWritten(c);
      return n;
    },
    destinations: async () => destinationRows(await engine.destinations()),
    connections: () => {
      track();
      const out: ConnectionView[] = [];
      for (const c of sessions()) {
        const info = security.infoOf(c);
        out.push({
          id: c.id,
          user: security.principal(c).user,
          vhost: c.vhost,
          transport: info.transport ?? '',
          remoteAddress: info.remoteAddress ?? '',
          version: c.version,
          subscriptions: c.subscriptions.size,
        });
      }
      return out;
    },
    purge: async (vhost, destination) => engine.purge(vhost, destination),
    deleteDestination: async (vhost, destination) => {
      // The engine detaches the destination's consumers; their sessions end with an ERROR.
      const n = await engine.deleteDestination(vhost, destination);
      security.forget(vhost, destination);
      return n;
    },
    peek: async (vhost, destination, limit) => engine.peek(vhost, destination, limit),
    closeConnection: (id) => {
      for (const c of sessions()) {
        if (c.id === id) {
          c.fail(new StompProtocolError(ErrorCode.CONNECTION_CLOSED, 'closed by an administrator'));
          return true;
        }
      }
      return false;
    },
    sessions,
  };
}
