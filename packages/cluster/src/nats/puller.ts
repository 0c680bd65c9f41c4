// Pull requests to JetStream consumers, sized by each subscription's free window.
//
// The client library's fetch() opens a subscription per batch; a broker pulling for thousands of
// STOMP subscriptions, one small batch at a time, needs less. Here each channel (one STOMP
// subscription) has one subscription, `<root>.<channel>.*`, and every pull request its own reply
// subject `<root>.<channel>.<request>`. Statuses (404/408: nothing left, or expired; 409: consumer
// deleted, or too many waiting pulls) arrive on that subject, so they name their request;
// messages arrive under their own subject, and JetStream serves a consumer's waiting requests in
// order, so a message is counted against the channel's oldest open request to the consumer its
// reply subject names. That keeps the count of messages still owed exact, which is what bounds a
// subscription's prefetch across every node.
//
// A request ends when its batch is filled, on a status, or when it stays unanswered past its
// expiry (its consumer's leader died with it, or the consumer is gone); its unfilled part is
// released and the channel's sink decides whether to pull again.
//
// JetStream cannot withdraw a waiting request, so a closed channel keeps listening until each of
// its requests has ended (an expired one is answered 408): a message JetStream hands to one of
// them still reaches this node, which gives it back, instead of going to a subject nobody reads.
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { parseAckSubject } from './ack.js';

/** Timing of pull requests. */
export interface PullTiming {
  /** ms a waiting pull request stays at the server. */
  readonly expires: number;
  /** ms a closed channel keeps listening after its last request ended (messages on their way). */
  readonly grace: number;
}

/** ms past its expiry after which an unanswered request is presumed lost. */
const LOST_AFTER = 2000;

/**
 * Defaults: a waiting pull request lasts 2 s. Short, because a request outlives the subscription
 * that made it (JetStream 2.9 cannot withdraw one), and the messages a closing subscription gives
 * back would meet it first: they go back once it has expired (see {@link PullChannel.quietAt}),
 * at most 2 s later. One that meets it anyway reaches this node, still listening, and goes back
 * again.
 */
export const PULL_TIMING: PullTiming = { expires: 2_000, grace: 250 };

/** Why a request ended. */
export const PullEnd = { DONE: 0, LOST: 1, GONE: 2 } as const;
/** A {@link PullEnd}. */
export type PullEnd = (typeof PullEnd)[keyof typeof PullEnd];

/** Receives what a channel's requests bring. */
export interface PullSink {
  /** A stored message, with its `$JS.ACK…` reply subject. */
  onMessage(msg: Msg): void;
  /**
   * A request ended: filled or expired (DONE), unanswered (LOST: its consumer may be gone), or
   * told that its consumer was deleted (GONE). `noWait` says which kind of request it was.
   */
  onEnded(noWait: boolean, why: PullEnd): void;
}

class Request {
  received = 0;
  constructor(
    readonly id: number,
    readonly consumer: string,
    readonly batch: number,
    readonly noWait: boolean,
    /** When the server drops it at the latest (ms since the epoch). */
    readonly expiresAt: number,
  ) {}
}

/** One subscription's pulls; see {@link Puller.channel}. */
export class PullChannel {
  /** Open requests, oldest first. */
  readonly requests = new Map<number, Request>();
  /** Messages asked for and not yet received, over this channel's open requests. */
  owed = 0;
  closed = false;
  /** @internal */
  sub: Subscription | undefined;

  /** @internal */
  constructor(
    private readonly puller: Puller,
    readonly id: number,
    readonly sink: PullSink,
  ) {}

  /** Ask `stream`'s consumer `consumer` for up to `batch` messages. */
  pull(stream: string, consumer: string, batch: number, noWait = false): void {
    if (this.closed || batch <= 0) return;
    this.puller.request(this, stream, consumer, batch, noWait);
  }

  /** Open requests. */
  get pending(): number {
    return this.requests.size;
  }

  /** Open requests to `consumer`. */
  pendingFor(consumer: string): number {
    let n = 0;
    for (const r of this.requests.values()) if (r.consumer === consumer) n++;
    return n;
  }

  /** When the last open waiting request expires at the server; 0 when none is open. */
  quietAt(): number {
    let at = 0;
    for (const r of this.requests.values()) if (!r.noWait && r.expiresAt > at) at = r.expiresAt;
    return at;
  }

  /**
   * Stop asking. The channel keeps listening until its open requests have ended, and a little
   * longer (the grace period); what still arrives goes to the puller's orphan handler.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.puller.retire(this);
  }
}

/** A node's pull requests. */
export class Puller {
  private readonly channels = new Map<number, PullChannel>();
  private nextChannel = 0;
  private nextRequest = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly nc: NatsConnection,
    private readonly root: string,
    private readonly timing: PullTiming,
    /** A message that reached a channel after it closed. */
    private readonly orphan: (msg: Msg) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => {
      this.sweep();
    }, timing.expires);
    this.timer.unref();
  }

  /** A channel for one subscription. */
  channel(sink: PullSink): PullChannel {
    const ch = new PullChannel(this, ++this.nextChannel, sink);
    ch.sub = this.nc.subscribe(`${this.root}.${String(ch.id)}.*`, {
      callback: (_err, msg) => {
        this.receive(ch, msg);
      },
    });
    this.channels.set(ch.id, ch);
    return ch;
  }

  /** Every open request is presumed lost (after a reconnection): channels pull again. */
  abandonAll(): void {
    for (const ch of [...this.channels.values()]) {
      for (const r of [...ch.requests.values()]) this.end(ch, r, PullEnd.LOST);
    }
  }

  /**
   * Resolves once no channel has an open request: each was answered (filled, or a status such as
   * 408 when it expired) or is presumed lost {@link LOST_AFTER} ms past its expiry.
   */
  async settled(): Promise<void> {
    for (;;) {
      let open = false;
      let last = 0;
      for (const ch of this.channels.values()) {
        for (const r of ch.requests.values()) {
          open = true;
          last = Math.max(last, r.expiresAt);
        }
      }
      if (!open) return;
      if (this.now() > last + LOST_AFTER) this.sweep();
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stop. */
  close(): void {
    clearInterval(this.timer);
    for (const ch of this.channels.values()) ch.sub?.unsubscribe();
    this.channels.clear();
  }

  /** @internal */
  request(ch: PullChannel, stream: string, consumer: string, batch: number, noWait: boolean): void {
    const t = this.timing;
    const r = new Request(
      ++this.nextRequest,
      consumer,
      batch,
      noWait,
      this.now() + (noWait ? 0 : t.expires),
    );
    ch.requests.set(r.id, r);
    ch.owed += batch;
    const body = noWait ? { batch, no_wait: true } : { batch, expires: t.expires * 1e6 };
    this.nc.publish(
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
      this.encoder.encode(JSON.stringify(body)),
      { reply: `${this.root}.${String(ch.id)}.${String(r.id)}` },
    );
  }

  /** @internal A closed channel unsubscribes once its requests ended, after the grace period. */
  retire(ch: PullChannel): void {
    if (ch.requests.size === 0) this.unsubscribeLater(ch);
  }

  private unsubscribeLater(ch: PullChannel): void {
    const timer = setTimeout(() => {
      ch.sub?.unsubscribe();
      this.channels.delete(ch.id);
    }, this.timing.grace);
    timer.unref();
  }

  private end(ch: PullChannel, r: Request, why: PullEnd): void {
    if (!ch.requests.delete(r.id)) return;
    ch.owed -= r.batch - r.received;
    if (!ch.closed) ch.sink.onEnded(r.noWait, why);
    else if (ch.requests.size === 0) this.unsubscribeLater(ch);
  }

  private receive(ch: PullChannel, msg: Msg): void {
    const status = msg.headers?.code ?? 0;
    const reply = msg.reply ?? '';
    if (status !== 0 || reply === '') {
      // A status for the request its subject names; it carries no message.
      const r = ch.requests.get(Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1)));
      if (r === undefined || status === 100) return;
      const gone = status === 409 && /deleted/i.test(msg.headers?.description ?? '');
      this.end(ch, r, gone ? PullEnd.GONE : PullEnd.DONE);
      return;
    }
    const consumer = parseAckSubject(reply)?.consumer;
    let r: Request | undefined;
    for (const open of ch.requests.values()) {
      if (open.consumer === consumer) {
        r = open;
        break;
      }
    }
    if (r !== undefined) {
      r.received++;
      ch.owed--;
    }
    if (ch.closed) this.orphan(msg);
    else ch.sink.onMessage(msg);
    // Filled: ended after the message, so the sink counts it before pulling again.
    if (r !== undefined && r.received >= r.batch) this.end(ch, r, PullEnd.DONE);
  }

  /** End requests that went unanswered well past their expiry. */
  private sweep(): void {
    const late = this.now() - LOST_AFTER;
    for (const ch of [...this.channels.values()]) {
      for (const r of [...ch.requests.values()]) {
        if (r.expiresAt < late) this.end(ch, r, PullEnd.LOST);
      }
    }
  }
}
