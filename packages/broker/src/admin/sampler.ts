// The admin server's memory of the recent past: counters sampled at a fixed interval (5 s by
// default, as RabbitMQ's management plugin does), turned into rates. The broker-wide series is
// kept for an hour, so the console's chart and `stompede status` have history as soon as they
// ask; each destination keeps a shorter series for its own chart. Memory is bounded: fixed rings,
// and past `maxDestinations` destinations new ones get rates but no series.
import type { DestinationRow } from './stats.js';

/** Counters that only grow, as one sample reads them. */
export interface Counts {
  readonly published: number;
  readonly delivered: number;
  readonly acked: number;
  readonly redelivered: number;
}

/** Messages per second of each {@link Counts} counter between two samples. */
export type Rates = Counts;

/** The broker-wide counts and levels at one moment. */
export interface TotalsReading extends Counts {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connections: number;
  /** Messages held (waiting or unacknowledged). */
  readonly messages: number;
}

/** One point of the broker-wide series: rates over the interval before `time`, levels at it. */
export interface TotalsPoint extends Rates {
  readonly time: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connections: number;
  readonly messages: number;
}

/** One point of a destination's series. */
export interface DestinationPoint extends Rates {
  readonly time: number;
  /** Messages held at `time` (null for a topic). */
  readonly depth: number | null;
}

/** A connection's traffic counters, as one sample reads them. */
export interface ConnectionCounts {
  readonly id: string;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** A connection's traffic per second over the last interval. */
export type ConnectionRates = Omit<ConnectionCounts, 'id'>;

const NO_TRAFFIC: ConnectionRates = Object.freeze({
  messagesIn: 0,
  messagesOut: 0,
  bytesIn: 0,
  bytesOut: 0,
});

/** Sampler settings. */
export interface SamplerOptions {
  /** Milliseconds between samples. */
  readonly interval: number;
  /** Points of the broker-wide series kept (default: an hour's worth). */
  readonly totalsPoints?: number;
  /** Points of each destination's series (default: five minutes' worth, at least 12). */
  readonly destinationPoints?: number;
  /** Destinations with a series of their own (default 1000). */
  readonly maxDestinations?: number;
}

/** A fixed-size ring of points, oldest first when read. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private size = 0;
  constructor(capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }
  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.items.length;
    if (this.size < this.items.length) this.size++;
  }
  toArray(since = -Infinity, time: (t: T) => number): T[] {
    const out: T[] = [];
    const start = (this.next - this.size + this.items.length) % this.items.length;
    for (let i = 0; i < this.size; i++) {
      const item = this.items[(start + i) % this.items.length]!;
      if (time(item) > since) out.push(item);
    }
    return out;
  }
}

interface DestinationState {
  counts: Counts;
  time: number;
  rates: Rates;
  series: Ring<DestinationPoint> | undefined;
}

const ZERO: Rates = Object.freeze({ published: 0, delivered: 0, acked: 0, redelivered: 0 });

/** The key of a destination row: its virtual host, name and durable subscription. */
export function rowKey(row: {
  readonly vhost: string;
  readonly destination: string;
  readonly durable?: { readonly clientId: string; readonly name: string } | undefined;
}): string {
  const d = row.durable;
  return `${row.vhost}\0${row.destination}${d === undefined ? '' : `\0${d.clientId}\0${d.name}`}`;
}

function countsOf(row: DestinationRow): Counts {
  return {
    published: row.enqueued,
    delivered: row.delivered,
    acked: row.acked,
    redelivered: row.redelivered,
  };
}

/** Per-second rates from `before` to `now` over `ms`; a counter that went back reads 0. */
function ratesBetween(before: Counts, now: Counts, ms: number): Rates {
  const r = (a: number, b: number): number => (ms > 0 && b > a ? ((b - a) * 1000) / ms : 0);
  return {
    published: r(before.published, now.published),
    delivered: r(before.delivered, now.delivered),
    acked: r(before.acked, now.acked),
    redelivered: r(before.redelivered, now.redelivered),
  };
}

/** Samples fed by the admin server (see {@link Sampler.record}); read by its API. */
export class Sampler {
  readonly interval: number;
  private readonly totals: Ring<TotalsPoint>;
  private last: { time: number; reading: TotalsReading } | undefined;
  private lastRates: TotalsPoint | undefined;
  private readonly destinations = new Map<string, DestinationState>();
  private readonly destinationPoints: number;
  private readonly maxDestinations: number;
  private withSeries = 0;
  private readonly connections = new Map<
    string,
    { counts: ConnectionCounts; time: number; rates: ConnectionRates }
  >();

  constructor(options: SamplerOptions) {
    this.interval = options.interval;
    this.totals = new Ring(options.totalsPoints ?? Math.ceil(3_600_000 / options.interval));
    this.destinationPoints =
      options.destinationPoints ?? Math.max(12, Math.ceil(300_000 / options.interval));
    this.maxDestinations = options.maxDestinations ?? 1000;
  }

  /** Record the readings taken at `time` (milliseconds since the epoch). */
  record(
    time: number,
    reading: TotalsReading,
    rows: readonly DestinationRow[],
    connections: readonly ConnectionCounts[] = [],
  ): void {
    const before = this.last;
    if (before !== undefined && time <= before.time) return;
    if (before !== undefined) {
      const ms = time - before.time;
      const rate = (a: number, b: number): number => (b > a ? ((b - a) * 1000) / ms : 0);
      const point: TotalsPoint = {
        time,
        ...ratesBetween(before.reading, reading, ms),
        bytesIn: rate(before.reading.bytesIn, reading.bytesIn),
        bytesOut: rate(before.reading.bytesOut, reading.bytesOut),
        connections: reading.connections,
        messages: reading.messages,
      };
      this.totals.push(point);
      this.lastRates = point;
    }
    this.last = { time, reading };
    // Destinations that are gone are forgotten first, so that new ones can have their series.
    const keys = new Set(rows.map(rowKey));
    for (const [key, state] of this.destinations) {
      if (keys.has(key)) continue;
      if (state.series !== undefined) this.withSeries--;
      this.destinations.delete(key);
    }
    for (const row of rows) this.recordRow(time, row);
    this.recordConnections(time, connections);
  }

  private recordConnections(time: number, connections: readonly ConnectionCounts[]): void {
    const seen = new Set<string>();
    for (const c of connections) {
      seen.add(c.id);
      const before = this.connections.get(c.id);
      const ms = before === undefined ? 0 : time - before.time;
      const r = (a: number | undefined, b: number): number =>
        a !== undefined && ms > 0 && b > a ? ((b - a) * 1000) / ms : 0;
      this.connections.set(c.id, {
        counts: c,
        time,
        rates: {
          messagesIn: r(before?.counts.messagesIn, c.messagesIn),
          messagesOut: r(before?.counts.messagesOut, c.messagesOut),
          bytesIn: r(before?.counts.bytesIn, c.bytesIn),
          bytesOut: r(before?.counts.bytesOut, c.bytesOut),
        },
      });
    }
    for (const id of this.connections.keys()) if (!seen.has(id)) this.connections.delete(id);
  }

  /** A connection's traffic per second over the last interval (zeros before its second sample). */
  connectionRates(id: string): ConnectionRates {
    return this.connections.get(id)?.rates ?? NO_TRAFFIC;
  }

  private recordRow(time: number, row: DestinationRow): void {
    const key = rowKey(row);
    // A key listed twice in one sample (never by an engine) is recorded once.
    if (this.destinations.get(key)?.time === time) return;
    const counts = countsOf(row);
    const state = this.destinations.get(key);
    if (state === undefined) {
      const series =
        this.withSeries < this.maxDestinations
          ? new Ring<DestinationPoint>(this.destinationPoints)
          : undefined;
      if (series !== undefined) this.withSeries++;
      this.destinations.set(key, { counts, time, rates: ZERO, series });
      return;
    }
    state.rates = ratesBetween(state.counts, counts, time - state.time);
    state.counts = counts;
    state.time = time;
    state.series?.push({ time, ...state.rates, depth: row.depth ?? null });
  }

  /** The broker-wide rates over the last interval, and the levels at its end. */
  latest(): TotalsPoint | undefined {
    return this.lastRates;
  }

  /** The broker-wide series, oldest first; only points after `since` when given. */
  history(since?: number): TotalsPoint[] {
    return this.totals.toArray(since, (p) => p.time);
  }

  /** A destination's rates over the last interval (zeros before its second sample). */
  rates(key: string): Rates {
    return this.destinations.get(key)?.rates ?? ZERO;
  }

  /** A destination's series, oldest first; undefined when it has none (see maxDestinations). */
  destinationHistory(key: string, since?: number): DestinationPoint[] | undefined {
    return this.destinations.get(key)?.series?.toArray(since, (p) => p.time);
  }
}
