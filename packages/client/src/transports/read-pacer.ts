// When a pausable source (a TCP socket, `ws`) is read: held while the client is behind, and in
// naps under sustained traffic.
import { afterTick } from './after-tick.js';

/** Reading options of the built-in transports that can pause their socket (TCP, TLS, `ws`). */
export interface PacedReadOptions {
  /**
   * While messages keep arriving, pause reading for this many ms after a small read, so that
   * what arrives meanwhile is read in one go (default 1; 0 reads every segment as it comes). It
   * adds at most that much latency, only under sustained traffic, and saves a wake-up and a read
   * per few messages through brokers that send small segments (RabbitMQ sends a few messages per
   * TCP segment). A browser WebSocket cannot be paused: there it does nothing.
   */
  readonly readNapMs?: number | undefined;
  /**
   * Chunks (socket reads, or WebSocket messages) received and not yet read by the client before
   * reading pauses (default 16).
   */
  readonly readHighWaterMark?: number | undefined;
}

/** Default of the transports' `readNapMs`: how long reading pauses after a read under sustained traffic. */
export const DEFAULT_READ_NAP_MS = 1;

/** A read of at least this many bytes means data is plentiful: no nap after it. */
const NAP_BELOW = 32 * 1024;

const now: () => number =
  typeof performance === 'object' ? () => performance.now() : () => Date.now();

/**
 * When a pausable source (a TCP socket, `ws`) reads (shared by the built-in transports). It is
 * paused while the client is behind ({@link ReadPacer.hold}) and, under sustained traffic, for a
 * nap of `napMs` after a small read, so that what arrives meanwhile is read in one go. Through a
 * broker that sends a few messages per TCP segment (RabbitMQ: about 8), every read costs a
 * wake-up, a system call and the stream machinery, which was over half of the client's CPU per
 * message; a nap trades at most `napMs` of latency, only while messages keep coming, for far
 * fewer of those. Traffic after a quiet spell (no read for `2 × napMs`) is read at once.
 */
export class ReadPacer {
  private held = false;
  private napping = false;
  private paused = false;
  private stopped = false;
  private last = -Infinity;
  /** Bytes received in this tick, and whether the decision is scheduled. */
  private bytes = 0;
  private deciding = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly napMs: number,
    private readonly pause: () => void,
    private readonly resume: () => void,
    private readonly clock: () => number = now,
  ) {}

  /** The reader is behind: stop reading until {@link ReadPacer.release}. */
  hold(): void {
    if (this.stopped) return;
    this.held = true;
    this.update();
  }

  /** The reader wants data again. */
  release(): void {
    this.held = false;
    this.update();
  }

  /**
   * `bytes` were received. What one socket read brings is handed over in one synchronous run
   * (one chunk from a TCP socket, several messages from `ws`), so the decision waits for the
   * end of the tick and weighs the whole read: nap if traffic is sustained and the read small.
   */
  read(bytes: number): void {
    if (this.napMs <= 0 || this.stopped) return;
    this.bytes += bytes;
    if (this.deciding) return;
    this.deciding = true;
    afterTick(this.decide);
  }

  private readonly decide = (): void => {
    this.deciding = false;
    const bytes = this.bytes;
    this.bytes = 0;
    if (this.stopped) return;
    const t = this.clock();
    const sustained = t - this.last < 2 * this.napMs;
    this.last = t;
    if (!sustained || bytes >= NAP_BELOW || this.napping) return;
    this.napping = true;
    this.timer = setTimeout(this.wake, this.napMs);
    this.update();
  };

  /** The transport is closing: read everything from now on, without naps or holds. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.napping = false;
    this.held = false;
    this.update();
  }

  private readonly wake = (): void => {
    this.timer = undefined;
    this.napping = false;
    this.update();
  };

  private update(): void {
    const stop = this.held || this.napping;
    if (stop === this.paused) return;
    this.paused = stop;
    if (stop) this.pause();
    else this.resume();
  }
}
