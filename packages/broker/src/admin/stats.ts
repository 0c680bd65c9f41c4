// The admin server's rows of destinations: the engine's listing (Engine.destinations) flattened
// into one row per destination, with its traffic counters (zero where the engine keeps none).
import type { DestinationCounters, DestinationInfo } from '../engine.js';

/**
 * One destination as the admin API, the dashboard and the metrics show it: its live counts and
 * its traffic counters (see {@link DestinationCounters}).
 */
export interface DestinationRow extends DestinationCounters {
  readonly vhost: string;
  readonly destination: string;
  /** Set for a durable topic subscription (its `destination` is its topic). */
  readonly durable: { readonly clientId: string; readonly name: string } | undefined;
  /**
   * Messages held (waiting or unacknowledged) by a queue, a durable subscription or the
   * temporary queues; undefined for a topic.
   */
  readonly depth: number | undefined;
  /** Of those, delivered and not yet acknowledged (for a topic: by its subscriptions). */
  readonly unacked: number;
  readonly consumers: number;
  /** True when the engine keeps traffic counters for it. */
  readonly counted: boolean;
}

/** The rows of an engine's listing, sorted by virtual host and destination. */
export function destinationRows(infos: readonly DestinationInfo[]): DestinationRow[] {
  const rows = infos.map((d): DestinationRow => {
    const c = d.counters;
    return {
      vhost: d.vhost,
      destination: d.destination,
      durable: d.durable,
      depth:
        d.destination.startsWith('/topic/') && d.durable === undefined
          ? undefined
          : d.depth + d.unacked,
      unacked: d.unacked,
      consumers: d.consumers,
      enqueued: c?.enqueued ?? 0,
      delivered: c?.delivered ?? 0,
      acked: c?.acked ?? 0,
      nacked: c?.nacked ?? 0,
      redelivered: c?.redelivered ?? 0,
      deadLettered: c?.deadLettered ?? 0,
      dropped: c?.dropped ?? 0,
      purged: c?.purged ?? 0,
      counted: c !== undefined,
    };
  });
  const key = (r: DestinationRow): string =>
    `${r.vhost}\0${r.destination}\0${r.durable === undefined ? '' : `${r.durable.clientId}\0${r.durable.name}`}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
