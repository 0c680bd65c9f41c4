// Pull requests to JetStream consumers, sized by each subscription's free window.
//
// The client library's fetch() opens a subscription per batch; a broker pulling for thousands of
// STOMP subscriptions, one small batch at a time, needs less. Here each channel (one STOMP
// subscription) has one subscription, `<root>.<channel>.*`, and every pull request its own reply
// subject `<root>.<channel>.<request>`. Statuses (100 idle heartbeat, 404/408 nothing left or
// expired, 409 consumer deleted or too many waiting pulls) arrive on that subject, so they name
// their request; messages arrive under their own subject, and JetStream serves a consumer's
// waiting requests in order, so a message is counted against the channel's oldest open request
// to the consumer its reply subject names. That keeps the count of messages still owed exact,
// which is what bounds a subscription's prefetch across every node.
//
// A request ends when its batch is filled, on a terminal status, or when it falls silent for two
// heartbeats and a margin (its consumer's leader died with it, or the consumer is gone); its
// unfilled part is released and the channel's sink decides whether to pull again.
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { parseAckSubject } from './ack.js';

const HEARTBEAT = 100;

/** Timing of pull requests. */
export interface PullTiming {
  /** ms a pull request waits at the server for messages. */
  readonly expires: number;
  /** ms between the server's idle heartbeats on a waiting request. */
  readonly heartbeat: number;
}

/**
 * Defaults: a waiting pull is renewed every 5 s and heard from every 2 s. Short, because a
 * request outlives the subscription that made it (JetStream has no way to withdraw one): a
 * closed channel keeps listening until its requests are over, so that what they still bring is
 * caught and handed to the node (see {@link PullChannel.close}). Were its subscription dropped at
 * once, JetStream 2.9.10 would hand a redelivery to the stale request first and, finding no
 * interest, lower the message's delivery count again: the next consumer would get it without
 * `redelivered`.
 */
export const PULL_TIMING: PullTiming = { expires: 5_000, heartbeat: 2_000 };

/** Why a request ended. */
export const PullEnd = { DONE: 0, LOST: 1, GONE: 2 } as const;
/** A {@link PullEnd}. */
export type PullEnd = (typeof PullEnd)[keyof typeof PullEnd];

/** Receives what a channel's requests bring. */
export interface PullSink {
  /** A stored message, with its `$JS.ACK…` reply subject. */
  onMessage(msg: Msg): void;
  /**
   * A request ended: filled or expired (DONE), silent (LOST: its consumer may be gone), or told
   * that its consumer was deleted (GONE). `noWait` says which kind of request it was.
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
    public lastHeard: number,
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

  /**
   * Stop asking. The channel keeps listening while its open requests last (at most the pull
   * expiry): messages they still bring go to the puller's orphan handler, and once they are over
   * the puller's `retired` handler is told, and the channel unsubscribes.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.puller.retireIfDone(this);
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
    /** A message brought to a closed channel by one of its open requests. */
    private readonly orphan: (msg: Msg, channel: number) => void,
    /** A closed channel's requests are all over: nothing more comes to it. */
    private readonly retired: (channel: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => {
      this.sweep();
    }, timing.heartbeat);
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

  /** True while channel `id` is open or closed but still listening for its open requests. */
  listening(id: number): boolean {
    return this.channels.has(id);
  }

  /** Every open request is presumed lost (after a reconnection): channels pull again. */
  abandonAll(): void {
    for (const ch of [...this.channels.values()]) {
      for (const r of [...ch.requests.values()]) this.end(ch, r, PullEnd.LOST);
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
    const r = new Request(++this.nextRequest, consumer, batch, noWait, this.now());
    ch.requests.set(r.id, r);
    ch.owed += batch;
    const t = this.timing;
    const body = noWait
      ? { batch, no_wait: true }
      : { batch, expires: t.expires * 1e6, idle_heartbeat: t.heartbeat * 1e6 };
    this.nc.publish(
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
      this.encoder.encode(JSON.stringify(body)),
      { reply: `${this.root}.${String(ch.id)}.${String(r.id)}` },
    );
  }

  /** @internal A closed channel with no open request: done. */
  retireIfDone(ch: PullChannel): void {
    if (ch.requests.size > 0 || !this.channels.has(ch.id)) return;
    ch.sub?.unsubscribe();
    this.channels.delete(ch.id);
    this.retired(ch.id);
  }

  private end(ch: PullChannel, r: Request, why: PullEnd): void {
    if (!ch.requests.delete(r.id)) return;
    ch.owed -= r.batch - r.received;
    if (ch.closed) this.retireIfDone(ch);
    else ch.sink.onEnded(r.noWait, why);
  }

  private receive(ch: PullChannel, msg: Msg): void {
    const status = msg.headers?.code ?? 0;
    const reply = msg.reply ?? '';
    if (status !== 0 || reply === '') {
      // A status for the request its subject names; it carries no message.
      const r = ch.requests.get(Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1)));
      if (r === undefined) return;
      if (status === HEARTBEAT) {
        r.lastHeard = this.now();
        return;
      }
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
      r.lastHeard = this.now();
      ch.owed--;
    }
    if (ch.closed) this.orphan(msg, ch.id);
    else ch.sink.onMessage(msg);
    // Filled: ended after the message, so the sink counts it before pulling again.
    if (r !== undefined && r.received >= r.batch) this.end(ch, r, PullEnd.DONE);
  }

  /** End requests that fell silent, and retire closed channels whose requests are over. */
  private sweep(): void {
    const now = this.now();
    const silent = 2 * this.timing.heartbeat + 1000;
    for (const ch of [...this.channels.values()]) {
      for (const r of [...ch.requests.values()]) {
        // A no-wait request is answered at once; one that is not was lost.
        if (now - r.lastHeard > (r.noWait ? 5000 : silent)) this.end(ch, r, PullEnd.LOST);
      }
    }
  }
}
