// The byte-level transport contract: a Transport carries bytes, never frames, and is created per
// connection by an injected factory. TCP/TLS live in `@stompede/client/node`, WebSocket in
// `./transports/websocket.ts`; tests inject in-memory transports.
import { type BrokerAddress, ErrorCode, StompConnectionError } from '@stompede/core';

/**
 * A bidirectional byte stream to one broker.
 *
 * - Reading: iterate it (`for await (const chunk of transport)`). The client pulls the next chunk
 *   only when it has handled the previous one, so a transport that can pause its source (a TCP
 *   socket) must do so while nobody is pulling. Iteration ends when the peer closes, and throws
 *   when the connection fails. A transport is iterated once.
 * - Writing: {@link Transport.write} resolves once the chunks are accepted by the underlying
 *   socket without exceeding its buffer (after `drain` when needed), so awaiting it is the
 *   backpressure.
 */
export interface Transport extends AsyncIterable<Uint8Array> {
  /** Write `chunks` in order, as one batch. Rejects with `ERR_STOMP_CONNECTION_CLOSED` once closed. */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** Flush what was written, then close gracefully. Resolves when closed. Idempotent. */
  close(): Promise<void>;
  /** Close at once, discarding anything unsent. Idempotent. */
  destroy(error?: Error): void;
  /** Resolves when the transport is closed: with the error that closed it, or `undefined`. */
  readonly closed: Promise<Error | undefined>;
}

/** Context a {@link TransportFactory} receives. */
export interface TransportContext {
  /** Aborts when the connect attempt is given up (timeout, `destroy()`, the user's signal). */
  readonly signal: AbortSignal;
  /** The STOMP versions the client offers (a WebSocket transport maps them to subprotocols). */
  readonly versions: readonly ('1.0' | '1.1' | '1.2')[];
}

/**
 * Opens a transport to `broker` (one address of the broker list; see `parseFailoverUri`). Rejects with a `StompConnectionError`
 * (`ERR_STOMP_CONNECTION_REFUSED`) when the broker cannot be reached.
 */
export type TransportFactory = (
  broker: BrokerAddress,
  context: TransportContext,
) => Promise<Transport>;

/**
 * Internal (not exported from the entry points): the synchronous write of the built-in
 * transports. `transport[writeNow](chunks)` queues the chunks for the current batch (everything
 * written in one tick goes out together) and returns `undefined` when the caller need not wait,
 * or a promise that settles when the transport's buffer has room again (`drain`); it throws
 * `ERR_STOMP_CONNECTION_CLOSED` once closed. The client uses it to write without a promise or a
 * timer per frame; other transports go through {@link Transport.write}.
 */
export const writeNow: unique symbol = Symbol('stompede.writeNow');

/**
 * Internal: the synchronous read of the built-in transports. `transport[readNow]()` returns the
 * next chunk already received, or `undefined` when the client must wait (iterate). A WebSocket
 * hands over one message per chunk, often dozens from one socket read: the client takes them
 * in one go instead of one promise and turn each.
 */
export const readNow: unique symbol = Symbol('stompede.readNow');

/** A transport with the internal synchronous read. */
export interface SyncReadable {
  [readNow](): Uint8Array | undefined;
}

/** Whether `transport` has the internal synchronous read. */
export function isSyncReadable(transport: object): transport is SyncReadable {
  return typeof (transport as Partial<SyncReadable>)[readNow] === 'function';
}

/** A transport with the internal synchronous write. */
export interface SyncWritable {
  [writeNow](chunks: readonly Uint8Array[]): Promise<void> | undefined;
}

/** Whether `transport` has the internal synchronous write. */
export function isSyncWritable(transport: object): transport is SyncWritable {
  return typeof (transport as Partial<SyncWritable>)[writeNow] === 'function';
}

/**
 * Internal: `transport[brokerServer](server)` tells a built-in transport the broker's `server`
 * header (undefined when the CONNECTED frame had none) once connected; the WebSocket transport
 * decides there whether to pack frames (see `webSocketPackFrames`).
 */
export const brokerServer: unique symbol = Symbol('stompede.brokerServer');

/** A transport that wants to know which broker it talks to. */
export interface ServerAware {
  [brokerServer](server: string | undefined): void;
}

/** Whether `transport` wants the broker's `server` header. */
export function isServerAware(transport: object): transport is ServerAware {
  return typeof (transport as Partial<ServerAware>)[brokerServer] === 'function';
}

const nextTick = (globalThis as { process?: { nextTick?: (fn: () => void) => void } }).process
  ?.nextTick;

/**
 * Run `fn` once the current tick's synchronous work and promise reactions are done: Node's
 * `process.nextTick` (after the microtask queue drains, so awaited writes continuing in
 * microtasks join the batch), else `queueMicrotask` (browsers).
 */
export const afterTick: (fn: () => void) => void =
  typeof nextTick === 'function'
    ? (fn) => {
        nextTick(fn);
      }
    : (fn) => {
        queueMicrotask(fn);
      };

/**
 * A bounded queue of received chunks behind a transport's async iterator (internal, shared by
 * the transports). `push` returns `false` when the consumer is behind and the source should pause;
 * `onDemand` is called when the consumer pulls again.
 */
export class ChunkSource implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private waiter: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  private failer: ((error: Error) => void) | undefined;
  private ended = false;
  private finished = false;
  private failure: Error | undefined;
  private iterated = false;
  private queuedBytes = 0;

  constructor(
    private readonly highWaterMark: number,
    private readonly onDemand: () => void,
  ) {}

  /** Bytes queued and not yet pulled. */
  get bytes(): number {
    return this.queuedBytes;
  }

  /** Queue a received chunk; `false` means pause the source until {@link onDemand} is called. */
  push(chunk: Uint8Array): boolean {
    if (this.ended) return false;
    const waiter = this.waiter;
    if (waiter !== undefined && this.chunks.length === 0) {
      // Someone is pulling: hand the chunk over directly.
      this.waiter = this.failer = undefined;
      waiter({ value: chunk, done: false });
      return true;
    }
    this.chunks.push(chunk);
    this.queuedBytes += chunk.byteLength;
    return this.chunks.length < this.highWaterMark;
  }

  /** End the stream, with an error if it failed. Chunks already queued are still delivered. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    const waiter = this.waiter;
    const failer = this.failer;
    this.waiter = this.failer = undefined;
    if (waiter === undefined || failer === undefined) return;
    this.finished = true;
    if (error !== undefined) failer(error);
    else waiter({ value: undefined, done: true });
  }

  /** The next chunk already received, if any (see {@link readNow}). */
  shift(): Uint8Array | undefined {
    if (this.finished) return undefined;
    const chunk = this.chunks.shift();
    if (chunk === undefined) return undefined;
    this.queuedBytes -= chunk.byteLength;
    if (this.chunks.length === 0) this.onDemand();
    return chunk;
  }

  /** The next chunk (iterator protocol; one pull at a time, as `for await` does). */
  private next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.shift();
    if (chunk !== undefined) return Promise.resolve({ value: chunk, done: false });
    if (this.ended || this.finished) {
      const failure = this.finished ? undefined : this.failure;
      this.finished = true;
      return failure === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(failure);
    }
    this.onDemand();
    return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      this.waiter = resolve;
      this.failer = reject;
    });
  }

  /** Stop iterating (`break` out of `for await`): later chunks are dropped. */
  private stop(): Promise<IteratorResult<Uint8Array>> {
    this.finished = true;
    this.ended = true;
    this.chunks.length = 0;
    this.queuedBytes = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterated) {
      const error = new StompConnectionError(
        ErrorCode.INVALID_STATE,
        'a transport is iterated only once',
      );
      return {
        next: () => Promise.reject(error),
      };
    }
    this.iterated = true;
    return {
      next: () => this.next(),
      return: () => this.stop(),
    };
  }
}

/** Default of the transports' `readNapMs`: how long reading pauses after a read under sustained traffic. */
export const DEFAULT_READ_NAP_MS = 1;

/** A read of at least this many bytes means data is plentiful: no nap after it. */
const NAP_BELOW = 32 * 1024;

const now: () => number =
  typeof performance === 'object' ? () => performance.now() : () => Date.now();

/**
 * When a pausable source (a TCP socket, `ws`) reads (internal, shared by the transports). It is
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

/** The error a write to a closed transport rejects with. */
export function closedError(cause?: unknown): StompConnectionError {
  return new StompConnectionError(
    ErrorCode.CONNECTION_CLOSED,
    'the transport is closed',
    cause === undefined ? {} : { cause },
  );
}
