// What the admin server reads from and does to the broker.
import type { EngineReport, EngineStats, PeekedMessage } from '../engine.js';
import type { ErrorCounts, Metrics } from '../metrics.js';
import type { Connection } from '../session/connection.js';
import type { DestinationRow } from './stats.js';

/** One connection, as the admin API shows it. */
export interface ConnectionView {
  readonly id: string;
  readonly user: string;
  readonly vhost: string;
  readonly transport: string;
  readonly remoteAddress: string;
  readonly version: string;
  readonly subscriptions: number;
}

/** The broker as the admin server sees it. */
export interface AdminView {
  readonly metrics: Metrics;
  readonly errors: ErrorCounts;
  ready(): boolean;
  engineStats(): EngineStats;
  /** The engine's own report, when it gives one (Engine.report). */
  engineReport(): Promise<EngineReport | undefined>;
  /** Every destination the engine lists, with its counts. */
  destinations(): Promise<DestinationRow[]>;
  connections(): ConnectionView[];
  /** Purge a queue; resolves to the messages removed. */
  purge(vhost: string, destination: string): Promise<number>;
  /**
   * Create a queue that exists while empty and unused, across restarts with a journal; resolves
   * to false when it was created so already.
   */
  createDestination(vhost: string, destination: string): Promise<boolean>;
  /** Delete a destination: its consumers' sessions get an ERROR, its messages are removed. */
  deleteDestination(vhost: string, destination: string): Promise<number>;
  /** Up to `limit` messages waiting in a queue, left in place. */
  peek(vhost: string, destination: string, limit: number): Promise<PeekedMessage[]>;
  /** Close a connection with an ERROR; false when there is none with that id. */
  closeConnection(id: string): boolean;
  /** The session objects (for tests). */
  sessions(): Iterable<Connection>;
}
