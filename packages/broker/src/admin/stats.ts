// Per-destination counters for the admin server: an engine wrapper that counts publications,
// deliveries, acknowledgments, redeliveries and (inferred) dead-lettering per destination, and
// consumers per subscribed destination. Installed only while the admin server is configured, so
// a broker without it pays nothing. Memory is bounded: past `maxDestinations` destinations, new
// ones are counted together under `(other)`.
import type {
  Consumer,
  ConsumerHandle,
  Delivery,
  Engine,
  MaybePromise,
  SubscribeRequest,
} from '../engine.js';
import type { Message } from '../message.js';

/** Counters of one destination in one virtual host. */
export interface DestinationCounters {
  readonly vhost: string;
  readonly destination: string;
  /** Messages published to it (and dead-lettered into it). */
  enqueued: number;
  /** MESSAGE frames delivered from it. */
  delivered: number;
  /** Deliveries settled (ACK, or auto mode). */
  acked: number;
  /** Deliveries NACKed. */
  nacked: number;
  /** Deliveries that were redeliveries. */
  redelivered: number;
  /** Messages moved from it to a dead-letter queue. */
  deadLettered: number;
  /** Messages removed by an administrator's purge. */
  purged: number;
  /** Consumers attached now. */
  consumers: number;
}

/** Messages held by a queue: published, not yet acknowledged, dead-lettered or purged. */
export function depthOf(c: DestinationCounters): number | undefined {
  if (!c.destination.startsWith('/queue/')) return undefined;
  return Math.max(0, c.enqueued - c.acked - c.deadLettered - c.purged);
}

/** The counters, and the wrapper engine that keeps them. */
export class DestinationStats {
  private readonly table = new Map<string, DestinationCounters>();
  /** The engine being observed (actions that should not be counted go to it directly). */
  inner: Engine | undefined;

  constructor(
    private readonly maxDeliveries: number,
    readonly maxDestinations = 10_000,
  ) {}

  /** Every destination's counters. */
  all(): readonly DestinationCounters[] {
    return [...this.table.values()];
  }

  /** The counters of `destination` in `vhost` (created on first use). */
  of(vhost: string, destination: string): DestinationCounters {
    let d = destination;
    if (d.startsWith('/temp-queue/') || d.startsWith('/reply-queue/')) d = '(temporary)';
    const key = vhost + '\0' + d;
    let c = this.table.get(key);
    if (c === undefined) {
      if (this.table.size >= this.maxDestinations) return this.of(vhost, '(other)');
      c = {
        vhost,
        destination: d,
        enqueued: 0,
        delivered: 0,
        acked: 0,
        nacked: 0,
        redelivered: 0,
        deadLettered: 0,
        purged: 0,
        consumers: 0,
      };
      this.table.set(key, c);
    }
    return c;
  }

  /** Forget a deleted destination. */
  delete(vhost: string, destination: string): void {
    this.table.delete(vhost + '\0' + destination);
  }

  /** Wrap `engine`: the result behaves the same and counts as it goes. */
  observe(engine: Engine): Engine {
    this.inner = engine;
    const publish = (vhost: string, sessionId: string, message: Message): MaybePromise<void> => {
      const r = engine.publish(vhost, sessionId, message);
      if (r instanceof Promise) {
        return r.then(() => {
          this.of(vhost, message.destination).enqueued++;
        });
      }
      this.of(vhost, message.destination).enqueued++;
      return r;
    };
    const subscribe = (
      request: SubscribeRequest,
      consumer: Consumer,
    ): MaybePromise<ConsumerHandle> => this.subscribe(engine, request, consumer);
    const bound = new Map<PropertyKey, unknown>();
    // A Proxy, so that methods the engine gains later are passed through untouched.
    return new Proxy(engine, {
      get(target, prop) {
        if (prop === 'publish') return publish;
        if (prop === 'subscribe') return subscribe;
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        let b = bound.get(prop);
        if (b === undefined) {
          b = (value as (...args: unknown[]) => unknown).bind(target);
          bound.set(prop, b);
        }
        return b;
      },
    });
  }

  private deadLetter(vhost: string, destination: string): void {
    this.of(vhost, destination).deadLettered++;
    let name: string | undefined;
    if (destination.startsWith('/queue/') || destination.startsWith('/topic/')) {
      name = destination.slice(7);
    }
    if (name !== undefined && !name.startsWith('DLQ.'))
      this.of(vhost, `/queue/DLQ.${name}`).enqueued++;
  }

  private subscribe(
    engine: Engine,
    request: SubscribeRequest,
    consumer: Consumer,
  ): MaybePromise<ConsumerHandle> {
    const vhost = request.vhost;
    const own = this.of(vhost, request.destination);
    const autoAck = request.autoAck;
    const unacked = new Map<number, { c: DestinationCounters; count: number }>();
    const wrapped: Consumer = {
      ready: (message) => consumer.ready(message),
      deliver: (d: Delivery) => {
        const c = this.of(vhost, d.message.destination);
        c.delivered++;
        if (d.deliveryCount > 1) c.redelivered++;
        if (autoAck) c.acked++;
        else unacked.set(d.tag, { c, count: d.deliveryCount });
        consumer.deliver(d);
      },
    };
    let closed = false;
    const wrap = (h: ConsumerHandle): ConsumerHandle => ({
      ack: (tag, awaitDurable) => {
        const u = unacked.get(tag);
        if (u !== undefined) {
          unacked.delete(tag);
          u.c.acked++;
        }
        return h.ack(tag, awaitDurable);
      },
      nack: (tag, requeue, awaitDurable) => {
        const u = unacked.get(tag);
        if (u !== undefined) {
          unacked.delete(tag);
          u.c.nacked++;
          if (!requeue || (this.maxDeliveries > 0 && u.count >= this.maxDeliveries)) {
            this.deadLetter(vhost, u.c.destination);
          }
        }
        return h.nack(tag, requeue, awaitDurable);
      },
      resume: () => {
        h.resume();
      },
      close: () => {
        if (!closed) {
          closed = true;
          own.consumers--;
          for (const u of unacked.values()) {
            if (this.maxDeliveries > 0 && u.count >= this.maxDeliveries) {
              this.deadLetter(vhost, u.c.destination);
            }
          }
          unacked.clear();
        }
        return h.close();
      },
    });
    own.consumers++;
    let handle: MaybePromise<ConsumerHandle>;
    try {
      handle = engine.subscribe(request, wrapped);
    } catch (err) {
      own.consumers--;
      throw err;
    }
    if (handle instanceof Promise) {
      return handle.then(wrap, (err: unknown) => {
        own.consumers--;
        throw err;
      });
    }
    return wrap(handle);
  }
}

/**
 * Remove the messages waiting in a queue (not those delivered and unacknowledged), through the
 * engine's public surface: an auto-acknowledging consumer takes them. Resolves to their number.
 */
export async function drainQueue(
  engine: Engine,
  vhost: string,
  destination: string,
): Promise<number> {
  let n = 0;
  const consumer: Consumer = {
    ready: () => true,
    deliver: () => {
      n++;
    },
  };
  const handle = await engine.subscribe(
    { vhost, sessionId: 'stompede-admin', destination, autoAck: true },
    consumer,
  );
  // Engines that page messages in asynchronously deliver over a few turns.
  let before = -1;
  while (before !== n) {
    before = n;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await handle.close();
  return n;
}
