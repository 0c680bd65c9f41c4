// Where a connection is in its life, and how it ends. ConnectionState lists the states in order,
// so "ending or ended" is `>= CLOSING`. ConnectionLifecycle, which the connection (connection.ts)
// extends, moves through them: the CONNECT timeout, and the four ways to end (shutdown after
// DISCONNECT or an ERROR, destroy, the peer's end of stream, the stream's close). A base class
// rather than a member: an idle connection's memory is counted in bytes (issue 17), and a
// separate object with callbacks into the connection would add some to every one.
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from './clock.js';

/** Lifecycle of a connection. */
export const ConnectionState = {
  /** Waiting for CONNECT. */
  NEW: 0,
  /** CONNECTED was sent. */
  CONNECTED: 1,
  /** Ending: after DISCONNECT, an ERROR, or broker shutdown. Nothing more is processed. */
  CLOSING: 2,
  /** The stream closed. */
  CLOSED: 3,
} as const;
/** A connection state. */
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** How long a connection may wait for CONNECT, and linger after its last frame (ms). */
export interface LifecycleTiming {
  readonly connectTimeout: number;
  readonly errorLinger: number;
}

/** A connection's states and its ways to end, over its stream. */
export abstract class ConnectionLifecycle {
  /** Resolves once the stream has closed and everything is released. */
  get closed(): Promise<void> {
    // Made on first use: most connections are never awaited (an idle one holds no promise).
    return (this.closedPromise ??=
      this.current === ConnectionState.CLOSED
        ? Promise.resolve()
        : new Promise((resolve) => (this.resolveClosed = resolve)));
  }
  protected readonly stream: Duplex;
  /** The broker's clock (timers, and the time of publication of what this session sends). */
  readonly clock: Clock;
  private current: ConnectionState = ConnectionState.NEW;
  private readonly errorLinger: number;
  private connectTimer: TimerHandle | undefined;
  private lingerTimer: TimerHandle | undefined;
  private closedPromise: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(stream: Duplex, clock: Clock, timing: LifecycleTiming) {
    this.stream = stream;
    this.clock = clock;
    this.errorLinger = timing.errorLinger;
    // Shared listeners that find the connection by its stream: no closures per connection.
    byStream.set(stream, this);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
    this.connectTimer = clock.setTimer(() => {
      this.connectTimer = undefined;
      if (this.current === ConnectionState.NEW) {
        this.debug('no CONNECT in time: dropping the connection');
        this.destroy();
      }
    }, timing.connectTimeout);
  }

  /** Where the connection is in its life. */
  get lifecycleState(): ConnectionState {
    return this.current;
  }

  /** Ending or ended: nothing more is processed. */
  protected get ending(): boolean {
    return this.current >= ConnectionState.CLOSING;
  }

  /** Free the session's resources. Every way of ending calls it; it must be idempotent. */
  protected abstract release(): void;
  /** The stream closed (after release): the broker's bookkeeping. */
  protected abstract streamClosed(): void;
  /** Hand everything the outbox holds to the stream. */
  protected abstract flushOutput(): void;
  /** Log at debug level. */
  protected abstract debug(obj: object | string, msg?: string): void;

  /** CONNECT was accepted: false (and nothing changes) once the connection is no longer new. */
  protected markConnected(): boolean {
    if (this.current !== ConnectionState.NEW) return false;
    this.current = ConnectionState.CONNECTED;
    this.clock.clearTimer(this.connectTimer);
    this.connectTimer = undefined;
    return true;
  }

  /** The session is being released: the connection is ending, with no CONNECT timeout left. */
  protected markEnding(): void {
    if (this.current < ConnectionState.CLOSING) this.current = ConnectionState.CLOSING;
    this.clock.clearTimer(this.connectTimer);
  }

  /** Graceful end: release the session, flush what is queued, end the stream. Idempotent. */
  shutdown(): void {
    if (this.ending) return;
    this.current = ConnectionState.CLOSING;
    this.release();
    // Keep reading (and discarding) so the peer is not reset before it reads our last frames,
    // also when a frame was waiting and paused the stream (e.g. a SEND the engine pushed back
    // on); a stream that flows already is unchanged.
    this.stream.resume();
    this.flushOutput();
    this.stream.end();
    this.lingerTimer = this.clock.setTimer(() => {
      this.destroy();
    }, this.errorLinger);
  }

  /** Abrupt end: nothing more is flushed than what the stream takes at once. */
  destroy(): void {
    this.release();
    const stream = this.stream;
    if (stream.destroyed) return;
    // end() first so in-memory peers (which destroy() does not reach) see the end of the stream.
    if (!stream.writableEnded) {
      this.flushOutput();
      stream.end();
    }
    setImmediate(() => stream.destroy());
  }

  /** @internal The stream's 'end'. */
  onEnd(): void {
    // The peer finished sending: nothing more will come, so end our side too.
    if (this.current < ConnectionState.CLOSING) this.current = ConnectionState.CLOSING;
    this.release();
    const stream = this.stream;
    if (!stream.writableEnded) {
      this.flushOutput();
      stream.end();
    }
    if (stream.writableFinished) stream.destroy();
    else stream.once('finish', () => stream.destroy());
  }

  /** @internal The stream's 'close'. */
  onClose(): void {
    this.current = ConnectionState.CLOSED;
    this.release();
    this.clock.clearTimer(this.lingerTimer);
    this.resolveClosed?.();
    this.streamClosed();
  }

  /** @internal The stream's 'error'. */
  onError(err: Error): void {
    this.debug({ err }, 'stream error');
    this.release();
    this.stream.destroy();
  }
}

/** The connection of each stream, for the shared stream listeners. */
const byStream = new WeakMap<Duplex, ConnectionLifecycle>();

/** The connection serving `stream`, if any. */
export function lifecycleOf(stream: Duplex): ConnectionLifecycle | undefined {
  return byStream.get(stream);
}

function onStreamEnd(this: Duplex): void {
  byStream.get(this)?.onEnd();
}
function onStreamError(this: Duplex, err: Error): void {
  byStream.get(this)?.onError(err);
}
function onStreamClose(this: Duplex): void {
  byStream.get(this)?.onClose();
}
