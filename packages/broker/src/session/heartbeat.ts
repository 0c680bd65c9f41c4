// Heart-beats of one session ([1.1/1.2 Heart-beating]): an EOL is written when nothing else was
// for the negotiated send period, and the peer is dropped when it was silent for longer than its
// period times the grace factor. One timer per direction, re-armed for the time still to wait.
// The broker follows what the client asks, each way, kept between a floor and a ceiling
// (`heartbeat: [floor, ceiling]`), as RabbitMQ does: a client asking for 1 s beats gets them,
// one asking for 100 ms gets the floor, and none gets beats it did not ask for.
import {
  type HeartBeat,
  type NegotiatedHeartBeat,
  negotiateHeartBeat,
  type StompVersion,
} from '@stompede/core';
import type { Clock, TimerHandle } from './clock.js';

/** What the broker answers to a client's `heart-beat` header, and the periods it then keeps. */
export interface BrokerHeartBeat {
  /** CONNECTED's `heart-beat`: what the broker can send, what it wants to receive. */
  readonly header: HeartBeat;
  /** Milliseconds between the broker's beats on an idle connection (0: none). */
  readonly send: number;
  /** Milliseconds the client may stay silent before the grace margin starts (0: not watched). */
  readonly receive: number;
}

function clamp(value: number, floor: number, ceiling: number): number {
  return Math.min(Math.max(value, floor), ceiling);
}

/**
 * The broker's heart-beats for a client that sent `client` (`[cx, cy]`: it can send every cx ms,
 * wants a beat every cy ms; 0 for none), within `[floor, ceiling]` (a ceiling of 0 turns
 * heart-beats off).
 *
 * Each way the broker offers the client's own period clamped to the bounds, so by the spec's
 * rule (the larger of the two offers) the negotiated period is the client's, raised to the floor.
 * A client asking for beats rarer than the ceiling still gets one every ceiling at least (sending
 * more often than agreed is allowed, and keeps idle proxies and NAT mappings open); a client that
 * can only beat rarer than the ceiling is watched at its own period, as the spec requires.
 */
export function brokerHeartBeat(
  bounds: readonly [number, number],
  client: HeartBeat,
): BrokerHeartBeat {
  const [floor, ceiling] = bounds;
  if (ceiling === 0) return { header: [0, 0], send: 0, receive: 0 };
  const [cx, cy] = client;
  const header: HeartBeat = [
    cy === 0 ? 0 : clamp(cy, floor, ceiling),
    cx === 0 ? 0 : clamp(cx, floor, ceiling),
  ];
  const agreed = negotiateHeartBeat(header, client);
  return { header, send: Math.min(agreed.send, ceiling), receive: agreed.receive };
}

/** What the heart-beats watch and do. */
export interface HeartBeatLink {
  /** When something was last written (the clock's time). */
  lastWrite(): number;
  /** When something was last read. */
  lastRead(): number;
  /** Write one heart-beat EOL. */
  beat(): void;
  /** The peer was silent for `idle` ms, longer than allowed. */
  silent(idle: number): void;
}

/** Timers of the negotiated heart-beats; {@link HeartBeats.stop} cancels them. */
export class HeartBeats {
  /**
   * The heart-beats of a session in `version` (none in 1.0): the broker's answer to the
   * CONNECT's `requested` within `bounds` ({@link brokerHeartBeat}), started;
   * `timers` is undefined when neither side beats. The peer is dropped after its period times
   * `grace` of silence.
   */
  static start(
    clock: Clock,
    link: HeartBeatLink,
    version: StompVersion,
    bounds: readonly [number, number],
    requested: HeartBeat,
    grace: number,
  ): {
    readonly header: HeartBeat;
    readonly negotiated: NegotiatedHeartBeat;
    readonly timers: HeartBeats | undefined;
  } {
    const hb = brokerHeartBeat(bounds, version === '1.0' ? [0, 0] : requested);
    const receive = hb.receive > 0 ? Math.ceil(hb.receive * grace) : 0;
    const timers =
      hb.send > 0 || receive > 0 ? new HeartBeats(clock, link, hb.send, receive) : undefined;
    return { header: hb.header, negotiated: { send: hb.send, receive: hb.receive }, timers };
  }

  private writeTimer: TimerHandle | undefined;
  private readTimer: TimerHandle | undefined;
  private stopped = false;

  /**
   * @param sendEvery - ms between our beats (0: none)
   * @param receiveLimit - ms of silence after which the peer is dropped (0: never)
   */
  constructor(
    private readonly clock: Clock,
    private readonly link: HeartBeatLink,
    private readonly sendEvery: number,
    private readonly receiveLimit: number,
  ) {
    if (sendEvery > 0) this.writeTimer = clock.setTimer(this.onWriteTimer, sendEvery);
    if (receiveLimit > 0) this.readTimer = clock.setTimer(this.onReadTimer, receiveLimit);
  }

  /** Cancel both timers. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimer(this.writeTimer);
    this.clock.clearTimer(this.readTimer);
    this.writeTimer = undefined;
    this.readTimer = undefined;
  }

  private readonly onWriteTimer = (): void => {
    this.writeTimer = undefined;
    if (this.stopped) return;
    const idle = this.clock.now() - this.link.lastWrite();
    let next = this.sendEvery;
    // Within 2 ms of the period counts as due: a timer may fire a little early.
    if (idle >= this.sendEvery - 2) this.link.beat();
    else next = this.sendEvery - idle;
    this.writeTimer = this.clock.setTimer(this.onWriteTimer, next);
  };

  private readonly onReadTimer = (): void => {
    this.readTimer = undefined;
    if (this.stopped) return;
    const idle = this.clock.now() - this.link.lastRead();
    if (idle >= this.receiveLimit) {
      this.stopped = true;
      this.link.silent(idle);
      return;
    }
    this.readTimer = this.clock.setTimer(this.onReadTimer, this.receiveLimit - idle);
  };
}
