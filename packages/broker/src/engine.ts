// The seam between the protocol/session layer and the message store/router. The session layer
// (connection.ts, handlers/) only talks to an Engine; the in-memory engine (engine/memory.ts) is
// one implementation, and a durable or clustered one plugs in behind the same interface.
import type { Message } from './message.js';

/** A value, or a promise of it: engines backed by storage may answer asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** One delivery of a stored message to a consumer. */
export interface Delivery {
  /** The message (immutable, shared by every delivery of it). */
  readonly message: Message;
  /**
   * The `message-id` of this copy: unique per stored copy (a topic message fanned out to two
   * subscriptions has two ids) and stable across redeliveries of it.
   */
  readonly messageId: string;
  /** How many times this copy has been delivered, this delivery included (1 on the first). */
  readonly deliveryCount: number;
  /** The engine's handle for ACK and NACK of this delivery. */
  readonly tag: number;
}

/** The session side of a subscription, which the engine pushes deliveries to. */
export interface Consumer {
  /**
   * True when the consumer can take `message` now: its transport is not full and its prefetch
   * window (for client acknowledgment modes) is open. When it returns false the engine stops
   * delivering to this consumer until {@link ConsumerHandle.resume} is called.
   */
  ready(message: Message): boolean;
  /** Take a delivery. Must not call back into the engine synchronously. */
  deliver(delivery: Delivery): void;
}

/** What a SUBSCRIBE asks the engine for. */
export interface SubscribeRequest {
  /** The virtual host the session is bound to. */
  readonly vhost: string;
  /** The subscribing session (owner of its `/temp-queue/` destinations). */
  readonly sessionId: string;
  /** The destination, e.g. `/queue/a`, `/topic/a.*.c`, `/temp-queue/replies`. */
  readonly destination: string;
  /** True for `ack:auto`: a delivery is settled as soon as it is handed over. */
  readonly autoAck: boolean;
  /** A durable topic subscription: it keeps receiving while no consumer is attached. */
  readonly durable?: { readonly clientId: string; readonly name: string };
}

/** The engine side of an attached subscription. */
export interface ConsumerHandle {
  /**
   * Settle a delivery: the message is consumed. For a stored message the promise settles once
   * its removal is durable, unless `awaitDurable` is false (no RECEIPT waits for it).
   */
  ack(tag: number, awaitDurable?: boolean): MaybePromise<void>;
  /**
   * Reject a delivery: with `requeue` it goes back ahead of newer messages (or to the dead-letter
   * queue once it reached the delivery limit); without, it is dead-lettered at once.
   */
  nack(tag: number, requeue: boolean, awaitDurable?: boolean): MaybePromise<void>;
  /** The consumer's flow window reopened (its socket drained, or an ACK freed prefetch room). */
  resume(): void;
  /** Detach: unsettled deliveries go back to their queue, redelivered. Idempotent. */
  close(): MaybePromise<void>;
}

/** Counters an engine reports. */
export interface EngineStats {
  /** Bytes of message data held. */
  readonly memoryBytes: number;
  /** Messages held (waiting or unacknowledged), over every queue and subscription. */
  readonly messages: number;
  /** Queues (including temporary queues and topic subscription queues). */
  readonly queues: number;
}

/**
 * The message store and router. Every method may throw (or reject with) a `StompError`, which
 * the session layer turns into an ERROR frame.
 */
export interface Engine {
  /**
   * Store and route a message published to `message.destination` from `sessionId`. A persistent
   * message is durable when the returned promise settles; with `awaitDurable` false (nothing such
   * as a RECEIPT waits for it) the engine may return before it is.
   */
  publish(
    vhost: string,
    sessionId: string,
    message: Message,
    awaitDurable?: boolean,
  ): MaybePromise<void>;
  /** Attach a consumer to a destination. */
  subscribe(request: SubscribeRequest, consumer: Consumer): MaybePromise<ConsumerHandle>;
  /** Delete a durable subscription. Resolves to false when it did not exist. */
  unsubscribeDurable(vhost: string, clientId: string, name: string): MaybePromise<boolean>;
  /**
   * The destination other sessions can use to reach `sessionId`'s `/temp-queue/NAME` (for a
   * rewritten `reply-to` header). Creates the temporary queue if needed.
   */
  replyAddress(vhost: string, sessionId: string, tempQueue: string): string;
  /** The session ended: delete its temporary queues. */
  sessionClosed(vhost: string, sessionId: string): void;
  /** True while the engine holds more than its memory limit: producers should be paused. */
  readonly memoryFull: boolean;
  /** Call `callback` once, when memory drops below the limit again. */
  onMemoryAvailable(callback: () => void): void;
  /**
   * Resolves once everything published or acknowledged so far is durable (a COMMIT or DISCONNECT
   * RECEIPT waits for it). Engines without a store may leave it out.
   */
  flush?(): MaybePromise<void>;
  /** Current counters. */
  stats(): EngineStats;
  /** Release everything. */
  close(): MaybePromise<void>;
}
