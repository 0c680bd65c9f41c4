// The AdminView of a Broker.
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '@stompede/core';
import type { Broker } from '../broker.js';
import type { Connection } from '../connection.js';
import { parseDestination } from '../destination.js';
import { drainQueue } from './stats.js';
import type { AdminView, ConnectionView } from './view.js';

/** Build the admin view of `broker`. */
export function brokerView(broker: Broker, ready: () => boolean): AdminView {
  const security = broker.options.security;
  const stats = broker.destinationStats;
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
  const inner = () => stats.inner ?? broker.engine;
  const purge = async (vhost: string, destination: string): Promise<number> => {
    const d = parseDestination(destination);
    if (d.kind !== 'queue') {
      throw new StompInvalidArgumentError(`only queues can be purged, not ${destination}`);
    }
    const n = await drainQueue(inner(), vhost, destination);
    stats.of(vhost, destination).purged += n;
    return n;
  };
  return {
    metrics: broker.metrics,
    errors: broker.errorCounts,
    ready,
    engineStats: () => broker.engine.stats(),
    bytesOut: () => {
      track();
      let n = closedBytes;
      for (const c of sessions()) n += security.bytesWritten(c);
      return n;
    },
    destinations: () => [...stats.all()],
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
    purge,
    deleteDestination: async (vhost, destination) => {
      parseDestination(destination);
      for (const c of [...sessions()]) {
        if (c.vhost !== vhost) continue;
        for (const sub of c.subscriptions.values()) {
          if (sub.destination === destination) {
            c.fail(
              new StompProtocolError(
                ErrorCode.INVALID_STATE,
                `${destination} was deleted by an administrator`,
              ),
            );
            break;
          }
        }
      }
      // Let the sessions detach (their unacknowledged messages go back to the queue first).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const n = destination.startsWith('/queue/') ? await purge(vhost, destination) : 0;
      security.forget(vhost, destination);
      stats.delete(vhost, destination);
      return n;
    },
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
