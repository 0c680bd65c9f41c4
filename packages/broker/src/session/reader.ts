// A connection's input: bytes through the frame parser into frames, and the bounds on what a peer
// may leave half-sent. Before CONNECT, at most maxPreConnectBytes; any frame, at most frameTimeout
// from the chunk it began in to its last byte, whatever the heart-beats (a peer trickling one
// byte a second keeps its heart-beats alive but never finishes a frame: issue 19.5); and the bytes
// of an unfinished frame count against the broker's budget for them (partial-frames.ts, 19.4).
// The deadline is one timer, re-armed for the time still to wait, as heart-beats do, so reading
// a chunk sets no timer; it stands still while the connection itself stopped reading.
import {
  ErrorCode,
  type Frame,
  type FrameHandler,
  FrameParser,
  negotiateVersion,
  type StompError,
  StompProtocolError,
  type StompVersion,
} from '@stompede/core';
import type { Metrics } from '../metrics.js';
import type { ResolvedOptions } from '../options.js';
import type { Clock, TimerHandle } from './clock.js';
import type { PartialFrames } from './partial-frames.js';
import { toStompError } from './stomp-error.js';

/** Where the reader hands what it read (the connection itself: no callback objects per session). */
export interface ReaderLink {
  /** A complete frame, in stream order. */
  frameRead(frame: Frame): void;
  /** A heart-beat EOL. */
  heartbeatRead(): void;
  /** A frame did not arrive in time: the session ends with `err`. */
  readTimedOut(err: StompError): void;
}

/** The input side of one connection; it is its parser's handler. */
export class FrameReader implements FrameHandler {
  private readonly parser: FrameParser;
  private connectSeen = false;
  /** Frames completed so far: tells whether a new frame began within a chunk. */
  private completed = 0;
  /** When the unfinished frame began (the time of the chunk it began in); -1: none. */
  private frameSince = -1;
  private deadline: TimerHandle | undefined;
  /** The connection stopped reading (a frame is being processed): no deadline runs. */
  private held = false;
  /** Bytes counted in the budget of unfinished frames. */
  private counted = 0;
  private done = false;
  private lastChunkAt: number;
  /** The deadline's callback, made when a frame first stays unfinished (an idle session has none). */
  private deadlineCallback: (() => void) | undefined;

  constructor(
    private readonly link: ReaderLink,
    private readonly options: ResolvedOptions,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly partial: PartialFrames,
    private readonly address: string,
  ) {
    this.lastChunkAt = clock.now();
    this.parser = new FrameParser(
      this,
      // 1.0 until CONNECT says otherwise: CONNECT is never escaped, and a 1.0 CONNECT is trimmed.
      { version: '1.0', limits: options.limits },
    );
  }

  /** The parser's: a complete frame. */
  onFrame(frame: Frame): void {
    this.completed++;
    if (!this.connectSeen) this.onFirstFrame(frame);
    this.link.frameRead(frame);
  }

  /** The parser's: a heart-beat EOL. */
  onHeartbeat(): void {
    this.link.heartbeatRead();
  }

  /** When the last chunk arrived (the clock's time): the peer's heart-beats are any bytes. */
  get lastRead(): number {
    return this.lastChunkAt;
  }

  /** Read headers in `version` from the next frame on (CONNECT settled it). */
  setVersion(version: StompVersion): void {
    this.parser.setVersion(version);
  }

  /**
   * Parse a chunk: its complete frames go to the link. Returns the error that ends the session
   * (malformed input or a broken bound), to be raised after the frames before it are processed.
   */
  push(chunk: Uint8Array): StompError | undefined {
    this.lastChunkAt = this.clock.now();
    this.metrics.bytesReceived(chunk.length);
    const before = this.completed;
    try {
      this.parser.push(chunk);
      const buffered = this.parser.bufferedBytes;
      if (!this.connectSeen && buffered > this.options.maxPreConnectBytes) {
        throw new StompProtocolError(
          ErrorCode.FRAME_TOO_LARGE,
          `the CONNECT frame exceeds ${String(this.options.maxPreConnectBytes)} bytes`,
        );
      }
      if (buffered !== this.counted) this.count(buffered);
    } catch (err) {
      this.release();
      return toStompError(err);
    }
    if (!this.parser.inFrame) this.frameSince = -1;
    else if (this.frameSince < 0 || this.completed !== before) {
      this.frameSince = this.clock.now();
      if (this.deadline === undefined && !this.held) this.arm(this.options.frameTimeout);
    }
    return undefined;
  }

  /** The connection stopped reading until a frame is processed: the deadline waits too. */
  hold(): void {
    this.held = true;
    this.clock.clearTimer(this.deadline);
    this.deadline = undefined;
  }

  /** Reading again: an unfinished frame gets the whole frameTimeout from now. */
  resume(): void {
    this.held = false;
    if (this.done || this.frameSince < 0) return;
    this.frameSince = this.clock.now();
    if (this.deadline === undefined) this.arm(this.options.frameTimeout);
  }

  /** Stop: no deadline, and the bytes counted for an unfinished frame are given back. Idempotent. */
  release(): void {
    this.done = true;
    this.clock.clearTimer(this.deadline);
    this.deadline = undefined;
    if (this.counted !== 0) this.partial.change(this.address, -this.counted);
    this.counted = 0;
  }

  private onFirstFrame(frame: Frame): void {
    this.connectSeen = true;
    if (frame.command === 'CONNECT' || frame.command === 'STOMP') {
      // Later frames in the same chunk must already be read with the session's escaping.
      const v = negotiateVersion(frame.header('accept-version'), this.options.versions);
      if (v !== undefined) this.parser.setVersion(v);
    }
  }

  /** The unfinished frame now holds `buffered` bytes: count the change in the budget. */
  private count(buffered: number): void {
    const broken = this.partial.change(this.address, buffered - this.counted);
    this.counted = buffered;
    if (broken === undefined) return;
    const limit = this.partial.limits[broken];
    throw new StompProtocolError(
      ErrorCode.LIMIT_EXCEEDED,
      broken === 'total'
        ? `unfinished frames of all connections exceed ${String(limit)} bytes`
        : `unfinished frames from this address exceed ${String(limit)} bytes`,
    );
  }

  private arm(ms: number): void {
    if (this.options.frameTimeout <= 0) return;
    this.deadlineCallback ??= () => {
      this.onDeadline();
    };
    this.deadline = this.clock.setTimer(this.deadlineCallback, ms);
  }

  private onDeadline(): void {
    this.deadline = undefined;
    if (this.done || this.held || this.frameSince < 0) return;
    const waited = this.clock.now() - this.frameSince;
    const limit = this.options.frameTimeout;
    if (waited < limit) {
      this.arm(limit - waited);
      return;
    }
    this.release();
    this.link.readTimedOut(
      new StompProtocolError(
        ErrorCode.TIMEOUT,
        `a frame took longer than ${String(limit)} ms to arrive (frameTimeout)`,
      ),
    );
  }
}
