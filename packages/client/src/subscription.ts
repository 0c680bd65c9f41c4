// A subscription: an async-iterable, bounded message buffer with a pull form and a callback form.
import type { AckMode } from '@stompede/core';
import type { Message } from './message.js';
import type { OperationOptions } from './options.js';
import { AsyncQueue } from './queue.js';
import { defineAsyncDispose, type WaitOptions } from './util.js';

/** What a subscription needs from its client. */
export interface SubscriptionOwner {
  unsubscribe(subscription: SubscriptionImpl, options: OperationOptions): Promise<void>;
}

/** The callback form's handler; a returned promise is awaited before the next message. */
export type MessageHandler = (message: Message) => void | Promise<void>;

/**
 * Messages from one SUBSCRIBE. Iterate it with `for await` (leaving the loop unsubscribes), pull
 * with {@link Subscription.receive}, or pass a handler to `client.subscribe`.
 *
 * The buffer is bounded: it never holds more than its capacity; while it is full the client
 * stops reading from the broker (nothing else on that connection is read either, receipts
 * included), so a slow consumer slows the connection down instead of growing memory. Iterate
 * (or receive) from one place only. `await using sub = await client.subscribe(...)` unsubscribes
 * where the runtime has `Symbol.asyncDispose`.
 *
 * @example
 * ```ts
 * const sub = await client.subscribe('/queue/orders', { ack: 'client-individual' });
 * for await (const msg of sub) {
 *   await handle(msg.text);
 *   await msg.ack();
 *   if (done) break; // sends UNSUBSCRIBE
 * }
 * ```
 */
export interface Subscription extends AsyncIterable<Message> {
  /** Unsubscribes (for `await using`; defined only where the runtime has `Symbol.asyncDispose`). */
  readonly [Symbol.asyncDispose]: () => Promise<void>;
  /** The subscription id (the `id` header), kept across reconnects. */
  readonly id: string;
  /** The destination subscribed to. */
  readonly destination: string;
  /** The acknowledgement mode. */
  readonly ack: AckMode;
  /** True until the subscription is unsubscribed or the client closed. */
  readonly active: boolean;
  /** Messages buffered and not yet consumed. */
  readonly buffered: number;
  /**
   * Wait for the next message (the pull form). Resolves `undefined` once the subscription has
   * ended and its buffer is drained.
   *
   * @throws StompTimeoutError after `timeout` ms; StompError `ERR_STOMP_ABORTED` on `signal`; the
   *   error that closed the client, if it failed.
   */
  receive(options?: WaitOptions): Promise<Message | undefined>;
  /** Iterate the messages; leaving the loop (`break`, `return`, a throw) unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<Message>;
  /**
   * Send UNSUBSCRIBE and end the subscription; messages still buffered stay readable.
   * Idempotent: later calls return the first call's promise.
   */
  unsubscribe(options?: OperationOptions): Promise<void>;
}

/** The client's {@link Subscription}. */
export class SubscriptionImpl implements Subscription {
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  readonly id: string;
  readonly destination: string;
  readonly ack: AckMode;
  /** The buffer (the client pushes, the application shifts). */
  readonly queue: AsyncQueue<Message>;
  readonly #owner: SubscriptionOwner;
  #active = true;
  #unsubscribing: Promise<void> | undefined;

  constructor(
    owner: SubscriptionOwner,
    id: string,
    destination: string,
    ack: AckMode,
    capacity: number,
  ) {
    this.#owner = owner;
    this.id = id;
    this.destination = destination;
    this.ack = ack;
    this.queue = new AsyncQueue<Message>(capacity);
  }

  get active(): boolean {
    return this.#active;
  }

  get buffered(): number {
    return this.queue.size;
  }

  receive(options: WaitOptions = {}): Promise<Message | undefined> {
    return this.queue.shift(options, `receive on ${this.destination}`);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    try {
      for (;;) {
        const message = await this.queue.shift();
        if (message === undefined) return;
        yield message;
      }
    } finally {
      if (this.#active) await this.unsubscribe().catch(() => undefined);
    }
  }

  unsubscribe(options: OperationOptions = {}): Promise<void> {
    if (this.#unsubscribing === undefined) {
      this.#active = false;
      this.queue.end();
      this.#unsubscribing = this.#owner.unsubscribe(this, options);
    }
    return this.#unsubscribing;
  }

  /** The client ended the subscription (closed, or failed with `error`). */
  end(error?: Error): void {
    this.#active = false;
    this.queue.end(error);
  }

  /**
   * Run the callback form: each message is handed to `handler` as it arrives (from the
   * read loop, without a turn of its own); a promise it returns is awaited before the next one.
   */
  run(handler: MessageHandler, onError: (error: unknown) => void): void {
    this.queue.consume(
      (message) => {
        try {
          const result = handler(message);
          // Await only what can be awaited: a handler returning nothing costs no extra turn.
          return result === undefined ? undefined : Promise.resolve(result);
        } catch (err) {
          onError(err);
          return undefined;
        }
      },
      onError,
      (error) => {
        if (error !== undefined) onError(error);
      },
    );
  }
}

defineAsyncDispose(SubscriptionImpl.prototype, async function (this: SubscriptionImpl) {
  await this.unsubscribe().catch(() => undefined);
});
