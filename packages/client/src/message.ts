// A received MESSAGE with its acknowledgement handles.
import type { AckMode, Frame, HeaderEntry } from '@stompede/core';
import type { OperationOptions } from './options.js';

/** Options of {@link Message.ack} and {@link Message.nack}. */
export interface AckOptions extends OperationOptions {
  /** Acknowledge inside this transaction (a transaction id or a `Transaction`). */
  readonly transaction?: string | { readonly id: string } | undefined;
}

/**
 * A message received on a subscription. Bodies may share memory with the received bytes: treat
 * them as read-only, and copy them (`message.body.slice()`) to keep them after the next read.
 */
export interface Message {
  /** The MESSAGE frame as received. */
  readonly frame: Frame;
  /** The subscription id this message arrived on. */
  readonly subscription: string;
  /** The ack mode of that subscription. */
  readonly ackMode: AckMode;
  /** The `destination` header. */
  readonly destination: string;
  /** The `message-id` header. */
  readonly messageId: string;
  /** The `content-type` header, if any. */
  readonly contentType: string | undefined;
  /** The value of the first header called `name`. */
  header(name: string): string | undefined;
  /** The headers as `[name, value]` pairs in wire order. */
  readonly headers: HeaderEntry[];
  /** The body bytes. */
  readonly body: Uint8Array;
  /** The body decoded as UTF-8. */
  readonly text: string;
  /** The body parsed as JSON. */
  json(): unknown;
  /** True once {@link Message.ack} or {@link Message.nack} was called. */
  readonly settled: boolean;
  /**
   * Acknowledge the message (ACK). A no-op in `auto` mode. In `client` mode it also acknowledges
   * every earlier message of the subscription.
   *
   * @throws StompError `ERR_STOMP_STALE_MESSAGE` when the message came over an earlier connection
   *   (the broker will redeliver it).
   */
  ack(options?: AckOptions): Promise<void>;
  /**
   * Reject the message (NACK, STOMP 1.1+). A no-op in `auto` mode.
   *
   * @throws StompError `ERR_STOMP_STALE_MESSAGE` as {@link Message.ack};
   *   `ERR_STOMP_UNSUPPORTED_VERSION` on a STOMP 1.0 connection.
   */
  nack(options?: AckOptions): Promise<void>;
}

/** What a message needs from its client. */
export interface MessageOwner {
  acknowledge(command: 'ACK' | 'NACK', message: MessageImpl, options: AckOptions): Promise<void>;
}

/** The client's {@link Message}. */
export class MessageImpl implements Message {
  readonly frame: Frame;
  readonly subscription: string;
  readonly ackMode: AckMode;
  /** Which connection delivered the message (acks are only valid on that one). */
  readonly generation: number;
  readonly #owner: MessageOwner;
  #settled = false;

  constructor(
    owner: MessageOwner,
    frame: Frame,
    subscription: string,
    ackMode: AckMode,
    generation: number,
  ) {
    this.#owner = owner;
    this.frame = frame;
    this.subscription = subscription;
    this.ackMode = ackMode;
    this.generation = generation;
  }

  get destination(): string {
    return this.frame.header('destination') ?? '';
  }

  get messageId(): string {
    return this.frame.header('message-id') ?? '';
  }

  get contentType(): string | undefined {
    return this.frame.header('content-type');
  }

  header(name: string): string | undefined {
    return this.frame.header(name);
  }

  get headers(): HeaderEntry[] {
    return this.frame.headers;
  }

  get body(): Uint8Array {
    return this.frame.body;
  }

  get text(): string {
    return this.frame.text;
  }

  json(): unknown {
    return JSON.parse(this.frame.text) as unknown;
  }

  get settled(): boolean {
    return this.#settled;
  }

  ack(options: AckOptions = {}): Promise<void> {
    if (this.ackMode === 'auto') return Promise.resolve();
    this.#settled = true;
    return this.#owner.acknowledge('ACK', this, options);
  }

  nack(options: AckOptions = {}): Promise<void> {
    if (this.ackMode === 'auto') return Promise.resolve();
    this.#settled = true;
    return this.#owner.acknowledge('NACK', this, options);
  }
}
