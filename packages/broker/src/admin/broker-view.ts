// The AdminView of a Broker.
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '@stompede/core';
import type { Engine } from '../engine.js';
import type { ErrorCounts, Metrics } from '../metrics.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Connection } from '../session/connection.js';
import type { Sessions } from '../sessions.js';
import { destinationRows } from './stats.js';
import type { AdminView, ConnectionView } from './view.js';

/** The parts of a Broker the admin view reads and acts on. */
export interface ViewedBroker {
  readonly metrics: Metrics;
  readonly errorCounts: ErrorCounts;
  readonly engine: Engine;
  readonly sessions: Sessions;
  readonly authorizer: Authorizer;
}

/** Build the admin view of `broker`. */
export function brokerView(broker: ViewedBroker, ready: () => boolean): AdminView {
  const engine = broker.engine;
  const sessions = (): Iterable<Connection> => broker.sessions;
  return {
    metrics: broker.metrics,
    errors: broker.errorCounts,
    ready,
    engineStats: () => broker.engine.stats(),
    engineReport: async () => engine.report?.(),
    destinations: async () => destinationRows(await engine.destinations()),
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
    purge: async (vhost, destination) => engine.purge(vhost, destination),
    createDestination: async (vhost, destination) => {
      if (engine.createDestination === undefined) {
        throw new StompInvalidArgumentError("this broker's engine cannot create destinations");
      }
      const created = await engine.createDestination(vhost, destination);
      // It exists: using it needs no create right.
      broker.authorizer.remember(vhost, destination);
      return created;
    },
    deleteDestination: async (vhost, destination) => {
      // The engine detaches the destination's consumers; their sessions end with an ERROR.
      const n = await engine.deleteDestination(vhost, destination);
      broker.authorizer.forget(vhost, destination);
      return n;
    },
    peek: async (vhost, destination, limit) => engine.peek(vhost, destination, limit),
    closeConnection: (id) => {
      const c = broker.sessions.byId(id);
      if (c === undefined) return false;
      c.fail(new StompProtocolError(ErrorCode.CONNECTION_CLOSED, 'closed by an administrator'));
      return true;
    },
    sessions,
  };
}
