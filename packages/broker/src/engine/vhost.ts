// One virtual host of the local engine: its queues, its topic subscriptions (exact names and
// wildcard patterns) with a cache of which subscriptions a topic routes to, its durable
// subscriptions, its sessions' temporary queues, and its destinations' traffic counters.
import { CounterTable, type Counters } from './counters.js';
import type { Queue } from './queue.js';

/** Where a topic's messages go: its subscriptions, and the topic's counters. */
export interface Route {
  readonly subs: readonly Queue[];
  readonly counters: Counters;
}

/** Cached routes at most; the cache is cleared when full. */
const ROUTES_MAX = 10_000;

/** The state of one virtual host. */
export class VHost {
  /** Named queues by destination, and temporary queues by {@link tempKey}. */
  readonly queues = new Map<string, Queue>();
  /** Durable subscriptions by `clientId NUL name`. */
  readonly durables = new Map<string, Queue>();
  /** The temporary queue keys of each session. */
  readonly temps = new Map<string, Set<string>>();
  readonly counters: CounterTable;
  private readonly topicExact = new Map<string, Set<Queue>>();
  private readonly topicWild = new Set<Queue>();
  private readonly routes = new Map<string, Route>();

  constructor(
    readonly name: string,
    budget: { left: number },
  ) {
    this.counters = new CounterTable(budget);
  }

  /** The subscriptions `topic` (a name after `/topic/`) routes to. */
  route(topic: string): Route {
    const cached = this.routes.get(topic);
    if (cached !== undefined) return cached;
    const subs: Queue[] = [];
    const exact = this.topicExact.get(topic);
    if (exact !== undefined) for (const q of exact) subs.push(q);
    for (const q of this.topicWild) if (q.pattern!.matches(topic)) subs.push(q);
    if (this.routes.size >= ROUTES_MAX) this.routes.clear();
    const route: Route = { subs, counters: this.counters.of(`/topic/${topic}`) };
    this.routes.set(topic, route);
    return route;
  }

  /** Route the topic (or pattern) `queue.topic` to the subscription `queue`. */
  addSubscription(queue: Queue): void {
    const topic = queue.topic;
    if (queue.pattern !== undefined) {
      this.topicWild.add(queue);
      this.routes.clear();
    } else {
      let set = this.topicExact.get(topic);
      if (set === undefined) {
        set = new Set();
        this.topicExact.set(topic, set);
      }
      set.add(queue);
      this.routes.delete(topic);
    }
    if (queue.durableKey !== undefined) this.durables.set(queue.durableKey, queue);
  }

  /** Stop routing to the subscription `queue`. */
  removeSubscription(queue: Queue): void {
    if (queue.durableKey !== undefined) this.durables.delete(queue.durableKey);
    if (queue.pattern !== undefined) {
      this.topicWild.delete(queue);
      this.routes.clear();
    } else {
      const set = this.topicExact.get(queue.topic);
      set?.delete(queue);
      if (set?.size === 0) this.topicExact.delete(queue.topic);
      this.routes.delete(queue.topic);
    }
  }

  /** Forget the cached routes (their counters were deleted). */
  clearRoutes(): void {
    this.routes.clear();
  }

  /** Every topic subscription (durable or not). */
  *subscriptions(): IterableIterator<Queue> {
    for (const set of this.topicExact.values()) yield* set;
    yield* this.topicWild;
  }

  /** Topic subscriptions. */
  get subscriptionCount(): number {
    let n = this.topicWild.size;
    for (const set of this.topicExact.values()) n += set.size;
    return n;
  }
}

/** The key of `sessionId`'s temporary queue `name` in {@link VHost.queues}. */
export function tempKey(sessionId: string, name: string): string {
  return `temp:${sessionId}/${name}`;
}
