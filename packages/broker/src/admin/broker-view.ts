// The AdminView of a Broker.
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '@stompede/core';
import type { Engine } from '../engine.js';
import type { ErrorCounts, Metrics } from '../metrics.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Sessions } from '../sessions.js';
import { parseDestination } from '../destination.js';
import type { Connection } from '../session/connection.js';
import { type DestinationStats, drainQueue } from './stats.js';
import type { AdminView, ConnectionView } from './view.js';

/** The parts of a Broker the admin view reads and acts on. */
export interface ViewedBroker {
  readonly metrics: Metrics;
  readonly errorCounts: ErrorCounts;
  readonly engine: Engine;
  readonly sessions: Sessions;
  readonly authorizer: Authorizer;
  readonly destinationStats: DestinationStats;
}

/** Build the admin view of `broker`. */
export function brokerView(broker: ViewedBroker, ready: () => boolean): AdminView {
  const stats = broker.destinationStats;
  const sessions = (): Iterable<Connection> => broker.sessions;
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
    bytesOut: () => broker.sessions.bytesWritten(),
    destinations: () => [...stats.all()],
    connections: () => {
      const out: ConnectionView[] = [];
      for (const c of sessions()) {
        const info = c.peer.info;
        out.push({
          id: c.id,
          user: c.principal.user,
          vhost: c.vhost,
          transport: info.transport ?? '',
          remoteAddress: info.remoteAddress ?? '',
          version: c.version,
          subscriptions: c.state.subscriptions.size,
        });
      }
      return out;
    },
    purge,
    deleteDestination: async (vhost, destination) => {
      parseDestination(destination);
      for (const c of [...sessions()]) {
        if (c.vhost !== vhost) continue;
        for (const sub of c.state.subscriptions.values()) {
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
      broker.authorizer.forget(vhost, destination);
      stats.delete(vhost, destination);
      return n;
    },
    closeConnection: (id) => {
      const c = broker.sessions.byId(id);
      if (c === undefined) return false;
      c.fail(new StompProtocolError(ErrorCode.CONNECTION_CLOSED, 'closed by an administrator'));
      return true;
    },
    sessions,
  };
}
