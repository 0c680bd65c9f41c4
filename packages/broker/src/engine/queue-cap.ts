// The cap on queues per virtual host (`maxQueues`, as RabbitMQ's `max-queues` vhost limit). Every
// queue costs heap (about 1 KiB) and, with a store, a QUEUE record written again at the start of
// every journal segment, so a user allowed to create queues could otherwise grow both without
// bound. Named queues, temporary queues and durable topic subscriptions count; non-durable topic
// subscriptions do not (they are bounded per connection by `maxSubscriptions`, and go with it).
// Dead-letter queues are created even at the cap: refusing one would lose the dead letter, and
// there is at most one per queue (DLQ.<name>; a dead letter of a DLQ is dropped), so they at most
// double it. Queues recovered from the store are kept whatever the cap.
import { ErrorCode, StompProtocolError } from '@stompede/core';
import type { Metrics } from '../metrics.js';
import type { VHost } from './vhost.js';

/** Queues per virtual host by default: ≈ 10 MiB of heap, 10,000 QUEUE records a segment. */
export const DEFAULT_MAX_QUEUES = 10_000;

/** Where the engine warns operators (a pino Logger is one). */
export interface EngineLog {
  warn(detail: Record<string, unknown>, message: string): void;
}

/** One warning per virtual host at most this often (a flood of refusals is summed up). */
const LOG_INTERVAL = 60_000;

/** Refuses a queue that would take a virtual host over `max` queues (see the file's header). */
export class QueueCap {
  private readonly logged = new Map<string, { at: number; refused: number }>();

  constructor(
    /** Queues per virtual host; 0 = no cap. */
    readonly max: number,
    private readonly metrics: Metrics,
    private readonly log: EngineLog | undefined,
    private readonly now: () => number,
  ) {}

  /** The queues of `vh` that count against the cap. */
  static count(vh: VHost): number {
    return vh.queues.size + vh.durables.size;
  }

  /**
   * Throws ERR_STOMP_LIMIT_EXCEEDED (counted, logged) when `vh` has no room for `adding` more
   * queues, the first of them `what`.
   */
  admit(vh: VHost, what: string, adding = 1): void {
    if (this.max === 0 || adding === 0) return;
    const count = QueueCap.count(vh);
    if (count + adding <= this.max) return;
    this.metrics.queueRefused();
    this.warn(vh.name, what, count);
    throw new StompProtocolError(
      ErrorCode.LIMIT_EXCEEDED,
      `${what} was not created: virtual host ${JSON.stringify(vh.name)} has ${String(count)} queues, its limit (maxQueues is ${String(this.max)}); an operator can raise maxQueues in the broker's configuration, or delete queues no longer used`,
      { header: 'destination' },
    );
  }

  private warn(vhost: string, what: string, count: number): void {
    if (this.log === undefined) return;
    const now = this.now();
    const last = this.logged.get(vhost);
    if (last !== undefined && now - last.at < LOG_INTERVAL) {
      last.refused++;
      return;
    }
    this.logged.set(vhost, { at: now, refused: 0 });
    this.log.warn(
      {
        vhost,
        destination: what,
        queues: count,
        maxQueues: this.max,
        refusedSince: last?.refused ?? 0,
      },
      `virtual host ${JSON.stringify(vhost)} is at its limit of ${String(this.max)} queues (maxQueues): new queues are refused with ERR_STOMP_LIMIT_EXCEEDED`,
    );
  }
}
