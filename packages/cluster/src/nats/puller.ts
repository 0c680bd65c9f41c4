// Pull requests to JetStream consumers, sized by each subscription's free window.
//
// The client library's fetch() opens a subscription per batch; a broker pulling for thousands of
// STOMP subscriptions, one small batch at a time, needs less. Here a node has one wildcard
// subscription, `<root>.>`, and every pull request gets its own reply subject
// `<root>.<channel>.<request>`, so each message and each status (100 idle heartbeat, 404/408
// nothing left or expired, 409 consumer deleted or too many waiting pulls) is attributed to the
// request it answers. That makes the count of messages still owed exact, which is what bounds
// a subscription's prefetch across every node.
//
// A request ends when its batch is filled, on a terminal status, or when it falls silent for two
// heartbeats and a margin (its consumer's leader died with it); its unfilled part is returned to
// its channel, which pulls again.
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';

/** The protocol's status codes on pull replies. */
const HEARTBEAT = 100;

/** Timing of pull requests. */
export interface PullTiming {
  /** ms a pull request waits at the server for messages. */
  readonly expires: number;
  /** ms between the server's idle heartbeats on a waiting request. */
  readonly heartbeat: number;
}

/** Defaults: a waiting pull is renewed every 30 s and heard from every 5 s. */
export const PULL_TIMING: PullTiming = { expires: 30_000, heartbeat: 5_000 };

/** Receives what a channel's requests bring. */
export interface PullSink {
  /** A stored message, with its `$JS.ACK…` reply subject. */
  onMessage(msg: Msg): void;
  /**
   * A request ended (filled, expired, or lost; `noWait` tells which kind it was): pull again if
   * there is room.
   */
  onEnded(noWait: boolean): void;
  /** The consumer is gone (deleted, e.g. by an administrator). */
  onConsumerGone?(): void;
}

class Request {
  received = 0;
  constructor(
    readonly channel: PullChannel,
    readonly id: number,
    readonly batch: number,
    readonly noWait: boolean,
    public lastHeard: number,
  ) {}
}

/** One subscription's pulls; see {@link Puller.channel}. */
export class PullChannel {
  /** @internal */
  readonly requests = new Map<number, Request>();
  /** Messages asked for and not yet received, over this channel's open requests. */
  owed = 0;
  closed = false;

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

  /** Forget every open request (messages still arriving for them go to the sink). */
  abandon(notify: boolean): void {
    for (const r of [...this.requests.values()]) this.puller.end(r, notify);
  }

  /** Stop: open requests are abandoned; late messages are handed to `late`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abandon(false);
    this.puller.drop(this);
  }
}

/** A node's pull requests: one subscription for every reply. */
export class Puller {
  private readonly sub: Subscription;
  private readonly channels = new Map<number, PullChannel>();
  private nextChannel = 0;
  private nextRequest = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly encoder = new TextEncoder();
  /** Messages for closed channels or ended requests, settled by the owner (NAK). */
  private readonly orphan: (msg: Msg) => void;

  constructor(
    private readonly nc: NatsConnection,
    private readonly root: string,
    private readonly timing: PullTiming,
    orphan: (msg: Msg) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.orphan = orphan;
    this.sub = nc.subscribe(`${root}.>`, {
      callback: (_err, msg) => {
        this.receive(msg);
      },
    });
    this.timer = setInterval(() => {
      this.sweep();
    }, timing.heartbeat);
    this.timer.unref();
  }

  /** A channel for one subscription. */
  channel(sink: PullSink): PullChannel {
    const ch = new PullChannel(this, ++this.nextChannel, sink);
    this.channels.set(ch.id, ch);
    return ch;
  }

  /** Every open request is presumed lost (after a reconnection): channels pull again. */
  abandonAll(): void {
    for (const ch of [...this.channels.values()]) ch.abandon(true);
  }

  /** Stop. */
  close(): void {
    clearInterval(this.timer);
    this.sub.unsubscribe();
    this.channels.clear();
  }

  /** @internal */
  request(ch: PullChannel, stream: string, consumer: string, batch: number, noWait: boolean): void {
    const r = new Request(ch, ++this.nextRequest, batch, noWait, this.now());
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

  /** @internal End request `r`: what it still owed is released. */
  end(r: Request, notify = true): void {
    const ch = r.channel;
    if (!ch.requests.delete(r.id)) return;
    ch.owed -= r.batch - r.received;
    if (notify && !ch.closed) ch.sink.onEnded(r.noWait);
  }

  /** @internal */
  drop(ch: PullChannel): void {
    this.channels.delete(ch.id);
  }

  private receive(msg: Msg): void {
    // <root>.<channel>.<request>
    const s = msg.subject;
    const dot = s.lastIndexOf('.');
    const dot2 = s.lastIndexOf('.', dot - 1);
    const ch = this.channels.get(Number(s.slice(dot2 + 1, dot)));
    const r = ch?.requests.get(Number(s.slice(dot + 1)));
    const status = msg.headers?.code ?? 0;
    if (msg.reply === undefined || msg.reply === '' || status !== 0) {
      // A status: it carries no message.
      if (r === undefined) return;
      if (status === HEARTBEAT) {
        r.lastHeard = this.now();
        return;
      }
      this.end(r);
      if (status === 409 && /deleted/i.test(msg.headers?.description ?? '')) {
        ch?.sink.onConsumerGone?.();
      }
      return;
    }
    if (ch === undefined || ch.closed) {
      this.orphan(msg);
      return;
    }
    if (r !== undefined) {
      r.received++;
      r.lastHeard = this.now();
      ch.owed--;
    }
    ch.sink.onMessage(msg);
    // Filled: ended (after the message, so the sink counts it before pulling again).
    if (r !== undefined && r.received >= r.batch) this.end(r);
  }

  /** End requests that fell silent: their consumer leader is gone, or the request was lost. */
  private sweep(): void {
    const now = this.now();
    const silent = 2 * this.timing.heartbeat + 1000;
    const lost: Request[] = [];
    for (const ch of this.channels.values()) {
      for (const r of ch.requests.values()) if (now - r.lastHeard > silent) lost.push(r);
    }
    for (const r of lost) this.end(r);
  }
}
