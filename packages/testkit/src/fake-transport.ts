// The client's side of the fake server's in-memory links: the transport shape the client consumes
// (structurally `@stompede/client`'s `Transport`), and the in-memory transport that implements
// it, with the hooks tests use to observe read backpressure and hold writes.
import { ErrorCode, StompConnectionError } from '@stompede/core';

/** The byte transport shape the client consumes (see `@stompede/client` `Transport`). */
export interface FakeTransport extends AsyncIterable<Uint8Array> {
  write(chunks: readonly Uint8Array[]): Promise<void>;
  close(): Promise<void>;
  destroy(error?: Error): void;
  readonly closed: Promise<Error | undefined>;
}

/** Where the client wants to connect (structurally the client's `Endpoint`). */
export interface FakeEndpoint {
  readonly uri: string;
  readonly host: string;
  readonly port: number;
}

/** How the fake server writes and closes one connection's byte stream. */
export interface Wire {
  write(chunks: readonly Uint8Array[]): void;
  end(): void;
  destroy(): void;
}

/** The client end of an in-memory pipe (fake-server.ts's memoryPipe). */
export class MemoryClientTransport implements FakeTransport {
  readonly closed: Promise<Error | undefined>;
  /** @internal */ onWrite: (chunks: readonly Uint8Array[]) => void = () => undefined;
  /** @internal */ onClose: () => void = () => undefined;
  private readonly queue: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  private done = false;
  private failure: Error | undefined;
  private resolveClosed!: (err: Error | undefined) => void;
  private held: { resolve: () => void; reject: (err: Error) => void }[] | undefined;

  constructor() {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Chunks the server sent that the client has not pulled yet. */
  get unread(): number {
    return this.queue.length;
  }

  /** @internal */
  deliver(chunk: Uint8Array): void {
    if (this.done) return;
    this.queue.push(chunk);
    this.signal();
  }

  /** @internal */
  finish(error?: Error): void {
    if (this.done) return;
    this.done = true;
    this.failure = error;
    const held = this.held ?? [];
    this.held = undefined;
    for (const write of held) {
      write.reject(
        new StompConnectionError(ErrorCode.CONNECTION_CLOSED, 'the transport is closed'),
      );
    }
    this.signal();
    this.resolveClosed(error);
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (this.done) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /**
   * Simulate a socket whose buffer is full: from now on each write is delivered but resolves
   * only after {@link releaseWrites} (as a socket's write resolves on `drain`).
   */
  holdWrites(): void {
    this.held ??= [];
  }

  /** Resolve the held writes and stop holding. */
  releaseWrites(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const write of held) write.resolve();
  }

  /** Writes accepted and not yet resolved (see {@link holdWrites}). */
  get heldWrites(): number {
    return this.held?.length ?? 0;
  }

  write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.done) {
      return Promise.reject(
        new StompConnectionError(ErrorCode.CONNECTION_CLOSED, 'the transport is closed'),
      );
    }
    this.onWrite(chunks);
    const held = this.held;
    if (held === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => held.push({ resolve, reject }));
  }

  close(): Promise<void> {
    if (!this.done) {
      this.finish();
      this.onClose();
    }
    return this.closed.then(() => undefined);
  }

  destroy(error?: Error): void {
    if (!this.done) {
      this.finish(error);
      this.onClose();
    }
  }
}
