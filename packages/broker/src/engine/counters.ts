// Per-destination traffic counters of the local engine, for the admin listing. Each queue holds a
// reference to its destination's counters, so counting is a field increment on the hot path.
// Bounded: past `max` destinations per engine, new ones are counted together under `(other)`.
import { OTHER } from '../destination.js';
import type { DestinationCounters } from '../engine.js';

/**
 * The counters of one destination: read as properties, moved only by the methods that say what
 * happened (each one increment, inlined on the hot path).
 */
export class Counters implements DestinationCounters {
  #enqueued = 0;
  #delivered = 0;
  #acked = 0;
  #nacked = 0;
  #redelivered = 0;
  #deadLettered = 0;
  #dropped = 0;
  #purged = 0;

  get enqueued(): number {
    return this.#enqueued;
  }
  get delivered(): number {
    return this.#delivered;
  }
  get acked(): number {
    return this.#acked;
  }
  get nacked(): number {
    return this.#nacked;
  }
  get redelivered(): number {
    return this.#redelivered;
  }
  get deadLettered(): number {
    return this.#deadLettered;
  }
  get dropped(): number {
    return this.#dropped;
  }
  get purged(): number {
    return this.#purged;
  }

  /** A message was accepted for the destination (a topic counts each publish once). */
  messageEnqueued(): void {
    this.#enqueued++;
  }

  /** A message was delivered for the `deliveries`-th time (over 1: a redelivery). */
  messageDelivered(deliveries: number): void {
    this.#delivered++;
    if (deliveries > 1) this.#redelivered++;
  }

  /** A delivery was settled by ACK or in auto mode. */
  messageAcked(): void {
    this.#acked++;
  }

  /** A delivery was NACKed. */
  messageNacked(): void {
    this.#nacked++;
  }

  /** A message was moved to a dead-letter queue. */
  messageDeadLettered(): void {
    this.#deadLettered++;
  }

  /** A message was dropped (expired, evicted, or its temporary queue was gone). */
  messageDropped(): void {
    this.#dropped++;
  }

  /** `n` messages were purged. */
  messagesPurged(n: number): void {
    this.#purged += n;
  }

  /** A frozen copy, for a listing. */
  snapshot(): DestinationCounters {
    return Object.freeze({
      enqueued: this.#enqueued,
      delivered: this.#delivered,
      acked: this.#acked,
      nacked: this.#nacked,
      redelivered: this.#redelivered,
      deadLettered: this.#deadLettered,
      dropped: this.#dropped,
      purged: this.#purged,
    });
  }
}

// Destinations beyond the table's bound are counted under OTHER (destination.ts).
export { OTHER };

/** Counters by destination name, for one virtual host, within a bound shared by the engine. */
export class CounterTable {
  private readonly table = new Map<string, Counters>();

  constructor(private readonly budget: { left: number }) {}

  /** The counters of `destination` (created on first use). */
  of(destination: string): Counters {
    let c = this.table.get(destination);
    if (c === undefined) {
      if (this.budget.left <= 0 && destination !== OTHER) return this.of(OTHER);
      this.budget.left--;
      c = new Counters();
      this.table.set(destination, c);
    }
    return c;
  }

  /** The counters of `destination` if it has any. */
  get(destination: string): Counters | undefined {
    return this.table.get(destination);
  }

  /** Forget a deleted destination's counters. */
  delete(destination: string): void {
    if (this.table.delete(destination)) this.budget.left++;
  }

  /** Every destination with counters. */
  entries(): IterableIterator<[string, Counters]> {
    return this.table.entries();
  }
}
