// The AdminView of a Broker.
import { ErrorCode, StompInvalidArgumentError, StompProtocolError } from '@stompede/core';
import type { Engine } from '../engine.js';
import { Message } from '../message.js';
import type { ErrorCounts, Metrics } from '../metrics.js';
import type { ResolvedOptions } from '../options.js';
import { rightsOf } from '../security/authorizer.js';
import type { Authorizer } from '../security/authorizer.js';
import type { Connection } from '../session/connection.js';
import { ConnectionState } from '../session/lifecycle.js';
import type { Sessions } from '../sessions.js';
import type { UsersJson } from './api-types.js';
import { destinationRows } from './stats.js';
import type { AdminView, ConnectionView, SubscriptionView } from './view.js';

/** The session id the admin API publishes test messages as. */
const ADMIN_SESSION = 'admin';

/** The parts of a Broker the admin view reads and acts on. */
export interface ViewedBroker {
  readonly options: ResolvedOptions;
  readonly metrics: Metrics;
  readonly errorCounts: ErrorCounts;
  readonly engine: Engine;
  readonly sessions: Sessions;
  readonly authorizer: Authorizer;
}

/** Users, groups and rules as configured (never a password hash). */
function usersOf(options: ResolvedOptions): UsersJson {
  const security = options.security;
  const users = Object.keys(security.users)
    .sort()
    .map((name) => {
      const u = security.users[name]!;
      return {
        name,
        groups: [...u.principal.groups].sort(),
        vhosts: u.vhosts === undefined ? null : [...u.vhosts],
        password: u.hash !== undefined,
        connections: 0,
      };
    });
  const groups = new Map<string, string[]>();
  for (const u of users)
    for (const g of u.groups) groups.set(g, [...(groups.get(g) ?? []), u.name]);
  return {
    allowAnonymous: security.allowAnonymous,
    defaultVhost: options.defaultVhost,
    vhosts: options.vhosts.length === 0 ? null : [...options.vhosts],
    users,
    groups: [...groups.entries()].sort().map(([name, members]) => ({ name, members })),
    permissions: security.grants.map((g) => ({
      ...(g.user === undefined ? {} : { user: g.user }),
      ...(g.group === undefined ? {} : { group: g.group }),
      vhost: g.vhost,
      destinations: g.patterns.map((p) => p.source),
      rights: rightsOf(g.rights),
    })),
  };
}

/** Build the admin view of `broker`. */
export function brokerView(broker: ViewedBroker, ready: () => boolean): AdminView {
  const options = broker.options;
  const engine = broker.engine;
  const sessions = (): Iterable<Connection> => broker.sessions;
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
          connected: c.lifecycleState >= ConnectionState.CONNECTED,
          connectedAt: c.connectedAt,
          heartBeat: c.heartBeat,
          subscriptions: c.state.subscriptions.size,
          ...c.traffic,
          bytesOut: c.bytesOut,
        });
      }
      return out;
    },
    subscriptions: () => {
      const out: SubscriptionView[] = [];
      for (const c of sessions()) {
        const user = c.principal.user;
        const remoteAddress = c.peer.info.remoteAddress ?? '';
        for (const s of c.state.subscriptions.values()) {
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
    users: () => usersOf(options),
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
    // One in use by a connection is refused by the engine (ERR_STOMP_INVALID_STATE).
    deleteDurable: async (vhost, clientId, name) =>
      engine.unsubscribeDurable(vhost, clientId, name),
    peek: async (vhost, destination, limit) => engine.peek(vhost, destination, limit),
    publish: async (vhost, destination, headers, body) => {
      const flat: string[] = [];
      for (const [k, v] of headers) flat.push(k, v);
      const message = new Message(destination, flat, body, undefined, options.clock.now());
      message.own();
      broker.metrics.messagePublished();
      await engine.publish(vhost, ADMIN_SESSION, message, true);
    },
    closeConnection: (id, reason) => {
      const c = broker.sessions.byId(id);
      if (c === undefined) return false;
      c.fail(
        new StompProtocolError(
          ErrorCode.CONNECTION_CLOSED,
          reason === undefined
            ? 'closed by an administrator'
            : `closed by an administrator: ${reason}`,
        ),
      );
      return true;
    },
    sessions,
  };
}
