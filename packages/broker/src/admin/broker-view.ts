// The AdminView of a Broker.
import { ErrorCode, StompProtocolError } from '@stompede/core';
import type { Broker } from '../broker.js';
import type { Connection } from '../connection.js';
import { ConnectionState } from '../connection.js';
import { Message } from '../message.js';
import type { UsersJson } from './api-types.js';
import { destinationRows } from './stats.js';
import type { AdminView, ConnectionView, SubscriptionView } from './view.js';

/** The session id the admin API publishes test messages as. */
const ADMIN_SESSION = 'admin';

/** Build the admin view of `broker`. */
export function brokerView(broker: Broker, ready: () => boolean): AdminView {
  const options = broker.options;
  const security = options.security;
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
    node: {
      name: options.serverName,
      startedAt: Date.now(),
      memoryLimit: options.memoryLimit,
      dataDir: options.engine === undefined ? options.dataDir : undefined,
      diskFreeLimit: options.persistence.diskFreeLimit,
    },
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
          connected: c.state >= ConnectionState.CONNECTED,
          connectedAt: c.connectedAt,
          heartBeat: c.heartBeat,
          subscriptions: c.subscriptions.size,
          ...c.traffic,
          bytesOut: security.bytesWritten(c),
        });
      }
      return out;
    },
    subscriptions: () => {
      const out: SubscriptionView[] = [];
      for (const c of sessions()) {
        const user = security.principal(c).user;
        const remoteAddress = security.infoOf(c).remoteAddress ?? '';
        for (const s of c.subscriptions.values()) {
          out.push({
            connection: c.id,
            user,
            remoteAddress,
            vhost: c.vhost,
            id: s.id,
            destination: s.destination,
            ack: s.mode,
            prefetch: s.mode === 'auto' ? null : s.prefetch,
            unacked: s.unacked.size,
            durable:
              s.durableName === undefined ? null : { clientId: c.clientId, name: s.durableName },
          });
        }
      }
      return out;
    },
    users: (): UsersJson => {
      const d = security.describe();
      const groups = new Map<string, string[]>();
      for (const u of d.users) {
        for (const g of u.groups) groups.set(g, [...(groups.get(g) ?? []), u.name]);
      }
      return {
        allowAnonymous: security.allowAnonymous,
        defaultVhost: options.defaultVhost,
        vhosts: options.vhosts.length === 0 ? null : [...options.vhosts],
        users: d.users.map((u) => ({ ...u, connections: 0 })),
        groups: [...groups.entries()].sort().map(([name, members]) => ({ name, members })),
        permissions: d.permissions,
      };
    },
    purge: async (vhost, destination) => engine.purge(vhost, destination),
    deleteDestination: async (vhost, destination) => {
      // The engine detaches the destination's consumers; their sessions end with an ERROR.
      const n = await engine.deleteDestination(vhost, destination);
      security.forget(vhost, destination);
      return n;
    },
    // One in use by a connection is refused by the engine (ERR_STOMP_INVALID_STATE).
    deleteDurable: async (vhost, clientId, name) =>
      engine.unsubscribeDurable(vhost, clientId, name),
    peek: async (vhost, destination, limit) => engine.peek(vhost, destination, limit),
    publish: async (vhost, destination, headers, body) => {
      const flat: string[] = [];
      for (const [k, v] of headers) flat.push(k, v);
      const message = new Message(destination, flat, body);
      message.own();
      broker.metrics.messagesPublished++;
      await engine.publish(vhost, ADMIN_SESSION, message, true);
    },
    closeConnection: (id, reason) => {
      for (const c of sessions()) {
        if (c.id === id) {
          c.fail(
            new StompProtocolError(
              ErrorCode.CONNECTION_CLOSED,
              reason === undefined
                ? 'closed by an administrator'
                : `closed by an administrator: ${reason}`,
            ),
          );
          return true;
        }
      }
      return false;
    },
    sessions,
  };
}
