// What a built-in transport has received and the client has not read yet: a bounded queue behind
// the transport's async iterator and its `readNow`.
import { ErrorCode, StompConnectionError } from '@stompede/core';

/**
 * A bounded queue of received chunks behind a transport's async iterator (shared by the
 * built-in transports). `push` returns `false` when the consumer is behind and the source should pause;
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

  /** The next chunk already received, if any (a transport's `readNow`). */
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
