// Heart-beats of one session ([1.1/1.2 Heart-beating]): an EOL is written when nothing else was
// for the negotiated send period, and the peer is dropped when it was silent for longer than its
// period times the grace factor. One timer per direction, re-armed for the time still to wait.
import {
  type HeartBeat,
  type NegotiatedHeartBeat,
  negotiateHeartBeat,
  type StompVersion,
} from '@stompede/core';
import type { Clock, TimerHandle } from './clock.js';

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
   * Negotiate the heart-beats of a session in `version` (none in 1.0) from ours (`local`) and
   * the CONNECT's (`requested`), and start them; `timers` is undefined when neither side beats.
   * The peer is dropped after its period times `grace` of silence.
   */
  static start(
    clock: Clock,
    link: HeartBeatLink,
    version: StompVersion,
    local: HeartBeat,
    requested: HeartBeat,
    grace: number,
  ): { readonly negotiated: NegotiatedHeartBeat; readonly timers: HeartBeats | undefined } {
    const hb = version === '1.0' ? { send: 0, receive: 0 } : negotiateHeartBeat(local, requested);
    const receive = hb.receive > 0 ? Math.ceil(hb.receive * grace) : 0;
    const timers =
      hb.send > 0 || receive > 0 ? new HeartBeats(clock, link, hb.send, receive) : undefined;
    return { negotiated: hb, timers };
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
