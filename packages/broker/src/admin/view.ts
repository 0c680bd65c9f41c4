// What the admin server reads from and does to the broker.
import type { EngineReport, EngineStats, PeekedMessage } from '../engine.js';
import type { ErrorCounts, Metrics } from '../metrics.js';
import type { Connection } from '../session/connection.js';
import type { ConnectionFacts, SubscriptionJson, UsersJson } from './api-types.js';
import type { DestinationRow } from './stats.js';

/** One connection, as the admin API shows it (rates are the API's). */
export type ConnectionView = ConnectionFacts;

/** One subscription of a connection (the API shows a durable one by its name). */
export interface SubscriptionView extends Omit<SubscriptionJson, 'durable'> {
  /** For a durable subscription: its client id and name. */
  readonly durable: { readonly clientId: string; readonly name: string } | null;
}

/** What the overview says about the node and its storage. */
export interface NodeView {
  /** `serverName`. */
  readonly name: string;
  readonly startedAt: number;
  readonly memoryLimit: number;
  readonly dataDir: string | undefined;
  readonly diskFreeLimit: number | undefined;
}

/** The broker as the admin server sees it. */
export interface AdminView {
  readonly metrics: Metrics;
  readonly errors: ErrorCounts;
  readonly node: NodeView;
  ready(): boolean;
  engineStats(): EngineStats;
  /** The engine's own report, when it gives one (Engine.report). */
  engineReport(): Promise<EngineReport | undefined>;
  /** Every destination the engine lists, with its counts. */
  destinations(): Promise<DestinationRow[]>;
  connections(): ConnectionView[];
  subscriptions(): SubscriptionView[];
  /** Users, groups and permissions as configured (connection counts are filled in by the API). */
  users(): UsersJson;
  /** Purge a queue; resolves to the messages removed. */
  purge(vhost: string, destination: string): Promise<number>;
  /**
   * Create a queue that exists while empty and unused, across restarts with a journal; resolves
   * to false when it was created so already.
   */
  createDestination(vhost: string, destination: string): Promise<boolean>;
  /** Delete a destination: its consumers' sessions get an ERROR, its messages are removed. */
  deleteDestination(vhost: string, destination: string): Promise<number>;
  /** Delete a durable subscription; false when there was none. */
  deleteDurable(vhost: string, clientId: string, name: string): Promise<boolean>;
  /** Up to `limit` messages waiting in a queue, left in place. */
  peek(vhost: string, destination: string, limit: number): Promise<PeekedMessage[]>;
  /** Publish a message as an administrator (no permission check); settles once it is stored. */
  publish(
    vhost: string,
    destination: string,
    headers: readonly (readonly [string, string])[],
    body: Uint8Array,
  ): Promise<void>;
  /** Close a connection with an ERROR that gives `reason`; false when there is none with that id. */
  closeConnection(id: string, reason: string | undefined): boolean;
  /** The session objects (for tests). */
  sessions(): Iterable<Connection>;
}
