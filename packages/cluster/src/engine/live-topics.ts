// Non-durable topic subscriptions: core NATS carries each topic message to the nodes that have a
// subscriber for it (interest-routed: a node without one never sees it), and the node's local
// engine fans it out to its own subscribers.
//
// A node subscribes once per distinct pattern (reference-counted). When two of its patterns
// match one message (`a.*` and `a.b`), NATS sends it one copy per subscription; every topic
// message carries a unique id (`Nats-Msg-Id`), and a copy whose id was seen is skipped, so each
// local subscriber gets the message once. The local engine routes by the message's topic, so the
// first copy reaches every local subscription that matches, whichever pattern brought it.
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Engine } from '@stompede/broker';
import { TopicPattern, decodeMessage, isWildcard } from '@stompede/broker';
import type { InterestProbe } from '../nats/interest.js';
import type { NodeContext } from './context.js';

/** Ids of copies still expected, at most this many (oldest forgotten first). */
const SEEN_MAX = 65_536;

class PatternSub {
  refs = 1;
  constructor(
    readonly pattern: string,
    readonly matcher: TopicPattern | undefined,
    readonly sub: Subscription,
  ) {}
}

/** The node's core NATS subscriptions for live topic subscribers. */
export class LiveTopics {
  /** vhost → pattern → subscription. */
  private readonly patterns = new Map<string, Map<string, PatternSub>>();
  /** Message id → copies still to come. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly local: Engine,
    private readonly probe: InterestProbe,
  ) {}

  /** A subscriber to `pattern` arrived: make sure the node receives it (resolves once it does). */
  async attach(vhost: string, pattern: string): Promise<void> {
    let byPattern = this.patterns.get(vhost);
    if (byPattern === undefined) {
      byPattern = new Map();
      this.patterns.set(vhost, byPattern);
    }
    const existing = byPattern.get(pattern);
    if (existing !== undefined) {
      existing.refs++;
      return;
    }
    const nc: NatsConnection = this.ctx.link.nc;
    const sub = nc.subscribe(this.ctx.names.topicFilter(vhost, pattern), {
      callback: (_err, msg) => {
        this.receive(vhost, msg);
      },
    });
    byPattern.set(
      pattern,
      new PatternSub(pattern, isWildcard(pattern) ? new TopicPattern(pattern) : undefined, sub),
    );
    // Every server knows of it before the SUBSCRIBE is receipted (interest.ts).
    await this.probe.confirm();
  }

  /** A subscriber left. */
  detach(vhost: string, pattern: string): void {
    const byPattern = this.patterns.get(vhost);
    const p = byPattern?.get(pattern);
    if (p === undefined || --p.refs > 0) return;
    p.sub.unsubscribe();
    byPattern!.delete(pattern);
    if (byPattern!.size === 0) this.patterns.delete(vhost);
  }

  /** Distinct patterns subscribed on this node. */
  get size(): number {
    let n = 0;
    for (const m of this.patterns.values()) n += m.size;
    return n;
  }

  private receive(vhost: string, msg: Msg): void {
    const id = msg.headers?.get('Nats-Msg-Id') ?? '';
    if (id !== '') {
      const left = this.seen.get(id);
      if (left !== undefined) {
        if (left <= 1) this.seen.delete(id);
        else this.seen.set(id, left - 1);
        return;
      }
    }
    let message;
    try {
      message = decodeMessage(msg.data);
    } catch (err) {
      this.ctx.warn(`dropping an unreadable topic message on ${msg.subject}`, err);
      return;
    }
    const copies = this.matching(vhost, message.destination.slice('/topic/'.length));
    if (copies > 1 && id !== '') {
      if (this.seen.size >= SEEN_MAX) {
        const oldest = this.seen.keys().next();
        if (oldest.done !== true) this.seen.delete(oldest.value);
      }
      this.seen.set(id, copies - 1);
    }
    message.own();
    void Promise.resolve(this.local.publish(vhost, '', message, false)).catch((err: unknown) => {
      this.ctx.warn(`local fan-out of ${message.destination} failed`, err);
    });
  }

  /** How many of the node's subscriptions (so copies from NATS) match `topic`. */
  private matching(vhost: string, topic: string): number {
    const byPattern = this.patterns.get(vhost);
    if (byPattern === undefined) return 0;
    let n = byPattern.has(topic) && !isWildcard(topic) ? 1 : 0;
    for (const p of byPattern.values()) if (p.matcher?.matches(topic) === true) n++;
    return n;
  }
}
