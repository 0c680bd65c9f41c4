// The seam between the protocol/session layer and the message store/router. The session layer
// (connection.ts, handlers/) only talks to an Engine; the local engine (engine/local.ts, in memory
// and, with a store, durable) is one implementation, and a clustered one plugs in behind the same
// interface. The rules every engine must keep are written once, as the engine conformance suite in
// @stompede/testkit (`engineConformance`); docs/broker.md says how to run it against a new engine.
import type { StompError } from '@stompede/core';
import type { Message } from './message.js';
import type { ClusterNodeJson } from './admin/api-types.js';

/** A value, or a promise of it: engines backed by storage or a network may answer asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** One delivery of a stored message to a consumer. */
export interface Delivery {
  /** The message (immutable, shared by every delivery of it). */
  readonly message: Message;
  /**
   * Names this delivery in {@link ConsumerHandle.ack}, {@link ConsumerHandle.nack} and a
   * transaction's {@link TxOp}: a safe non-negative integer, unique among the engine's unsettled
   * deliveries (a session indexes the deliveries of all its subscriptions by it). It should stay
   * the same across redeliveries of one stored copy, so that the message-id does.
   */
  readonly ackKey: number;
  /**
   * The `message-id` is `idPrefix` followed by the decimal digits of {@link ackKey} (no sign, no
   * leading zero). It must not end with a decimal digit: a session finds the delivery an ACK
   * names by reading the id's trailing digits, then checks the prefix. Engines share one prefix
   * string between deliveries, so the session writes the id's bytes straight into the MESSAGE
   * frame without building a string per delivery.
   */
  readonly idPrefix: string;
  /**
   * `idPrefix` + the digits of `ackKey`: unique per stored copy (a topic message fanned out to
   * two subscriptions has two ids) and, with a stable ack key, stable across redeliveries.
   */
  readonly messageId: string;
  /** How many times this copy has been delivered, this delivery included (1 on the first). */
  readonly deliveryCount: number;
}

/** The session side of a subscription, which the engine pushes deliveries to. */
export interface Consumer {
  /**
   * True when the consumer can take `message` now: its transport is not full and its prefetch
   * window (for client acknowledgment modes) is open. When it returns false the engine stops
   * delivering to this consumer until {@link ConsumerHandle.resume} is called.
   */
  ready(message: Message): boolean;
  /**
   * How many more deliveries the consumer can take now, if nothing changes: its free prefetch
   * (client acknowledgment modes), `Infinity` without a bound (`auto`), 0 while its transport is
   * full. For engines that fetch messages from elsewhere in batches (a clustered engine pulls
   * this many); {@link ready} still decides each delivery. A byte-based window is not counted
   * here. Optional: an engine without it asks one message at a time.
   */
  credit?(): number;
  /** Take a delivery. Must not call back into the engine synchronously. */
  deliver(delivery: Delivery): void;
  /**
   * The engine detached this consumer on its own, e.g. because an administrator deleted its
   * destination ({@link Engine.deleteDestination}): its handle is closed and its unsettled
   * deliveries are gone. `reason` says why (the session ends the subscription with it). Must not
   * call back into the engine synchronously.
   */
  detached?(reason: StompError): void;
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
  /**
   * A durable topic subscription: it keeps receiving while no consumer is attached, and is found
   * again by `clientId` and `name` (the session maps the ActiveMQ, RabbitMQ and Artemis header
   * conventions onto these two).
   */
  readonly durable?: { readonly clientId: string; readonly name: string };
}

/** The engine side of an attached subscription. */
export interface ConsumerHandle {
  /**
   * Settle the delivery {@link Delivery.ackKey} `ackKey`: the message is consumed. For a stored
   * message the promise settles once its removal is durable, unless `awaitDurable` is false (no
   * RECEIPT waits for it). A key that names no unsettled delivery of this consumer is ignored.
   */
  ack(ackKey: number, awaitDurable?: boolean): MaybePromise<void>;
  /**
   * Reject a delivery: with `requeue` it goes back ahead of newer messages (or to the dead-letter
   * queue once it reached the delivery limit); without, it is dead-lettered at once.
   */
  nack(ackKey: number, requeue: boolean, awaitDurable?: boolean): MaybePromise<void>;
  /** The consumer's flow window reopened (its socket drained, or an ACK freed prefetch room). */
  resume(): void;
  /**
   * Detach: unsettled deliveries go back to their queue, to be redelivered ahead of messages
   * published after them, in their original order (as a requeuing NACK puts one
   * back). Once the promise settles, the next consumer of the queue gets them first. Idempotent.
   */
  close(): MaybePromise<void>;
}

/**
 * One operation of a committed transaction, as data. Acknowledgments name the consumer handle
 * they go through and one delivery each (a session expands a cumulative `client`-mode ACK into
 * every delivery it covers).
 */
export type TxOp =
  | { readonly kind: 'publish'; readonly message: Message }
  | { readonly kind: 'ack'; readonly consumer: ConsumerHandle; readonly ackKey: number }
  | {
      readonly kind: 'nack';
      readonly consumer: ConsumerHandle;
      readonly ackKey: number;
      readonly requeue: boolean;
    };

/** Traffic counters of one destination, kept by engines that count (see {@link DestinationInfo}). */
export interface DestinationCounters {
  /** Messages published to it (and, for a dead-letter queue, dead-lettered into it). */
  readonly enqueued: number;
  /** MESSAGE frames delivered from it. */
  readonly delivered: number;
  /** Deliveries settled (ACK, or at once in `auto` mode). */
  readonly acked: number;
  /** Deliveries NACKed. */
  readonly nacked: number;
  /** Deliveries that were redeliveries. */
  readonly redelivered: number;
  /** Messages moved from it to a dead-letter queue. */
  readonly deadLettered: number;
  /** Messages dropped: expired, or the oldest of a full non-durable topic subscription. */
  readonly dropped: number;
  /** Messages removed by {@link Engine.purge}. */
  readonly purged: number;
}

/** One destination as {@link Engine.destinations} lists it. */
export interface DestinationInfo {
  readonly vhost: string;
  /**
   * A named queue (`/queue/a`), a topic (`/topic/a.b`, or a wildcard pattern subscribed to), or
   * `(temporary)` for every temporary queue of the virtual host together.
   */
  readonly destination: string;
  /**
   * Set for a durable topic subscription, listed on its own (its `destination` is its topic):
   * it exists, keeping messages, while no consumer is attached, and after a restart.
   */
  readonly durable?: { readonly clientId: string; readonly name: string };
  /**
   * Messages waiting to be delivered: in a queue, in a durable subscription, or (for a topic) in
   * the non-durable subscriptions to it.
   */
  readonly depth: number;
  /** Messages delivered and not yet acknowledged. */
  readonly unacked: number;
  /** Consumers attached now. */
  readonly consumers: number;
  /**
   * A queue kept while empty and unused, until deleted: one an operator created
   * ({@link Engine.createDestination}), and with a store every queue (created by use too).
   */
  readonly declared?: boolean;
  /** Traffic since the engine started, when the engine keeps counts. */
  readonly counters?: DestinationCounters;
}

/** A message looked at by {@link Engine.peek}, left where it is. */
export interface PeekedMessage {
  readonly message: Message;
  /** The `message-id` its next delivery will carry. */
  readonly messageId: string;
  /** Deliveries so far (0 when it was never delivered). */
  readonly deliveryCount: number;
}

/** Counters an engine reports. */
export interface EngineStats {
  /** Bytes of message data held in memory. */
  readonly memoryBytes: number;
  /** Messages held (waiting or unacknowledged), over every queue and subscription. */
  readonly messages: number;
  /** Queues (including temporary queues and topic subscription queues). */
  readonly queues: number;
}

/** A number an engine reports to Prometheus, as the gauge `stompede_<name>`. */
export interface EngineGauge {
  /** `[a-z_]+`, e.g. `cluster_pending_acks`. */
  readonly name: string;
  readonly help: string;
  readonly value: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** One node of a cluster, as {@link ClusterReport} lists it (the admin API shows it as it is). */
export type ClusterNodeReport = ClusterNodeJson;

/**
 * The cluster as one node sees it: the admin API's `GET /api/cluster` and the console's cluster
 * panel show it (docs/console.md). Engines that are not clustered leave it out.
 */
export interface ClusterReport {
  /** The reporting node's name. */
  readonly node: string;
  /** The nodes it knows of, itself included. */
  readonly nodes: readonly ClusterNodeReport[];
  /** Anything else worth showing (stream leaders, pending acknowledgements), shown as it is. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What an engine tells operators about itself beyond {@link EngineStats}. */
export interface EngineReport {
  /** Shown as `engine` in the admin API's `/api/overview` and `/api/stats`, and in the console. */
  readonly state: Readonly<Record<string, unknown>>;
  /** Appended to `/metrics`. */
  readonly gauges: readonly EngineGauge[];
  /** Set by a clustered engine: its view of the cluster. */
  readonly cluster?: ClusterReport;
}

/**
 * The message store and router. Every method may throw (or reject with) a `StompError`, which
 * the session layer turns into an ERROR frame (or the admin API into a 400 answer).
 */
export interface Engine {
  /**
   * Store and route a message published to `message.destination` from `sessionId`. The result
   * settles when the producer may go on: a persistent message is durable by then (unless
   * `awaitDurable` is false: nothing such as a RECEIPT waits for it), and when the engine pushes
   * back on this producer (its destination, or the engine's memory, is full) it settles once
   * there is room again. The session reads nothing more from the producer until it settles.
   */
  publish(
    vhost: string,
    sessionId: string,
    message: Message,
    awaitDurable?: boolean,
  ): MaybePromise<void>;
  /** Attach a consumer to a destination. */
  subscribe(request: SubscribeRequest, consumer: Consumer): MaybePromise<ConsumerHandle>;
  /**
   * Apply a transaction's operations, in order, as one COMMIT. An engine may make them atomic,
   * or refuse the whole commit by throwing; the local engine applies them one by one. Settles
   * like {@link Engine.publish}; with `awaitDurable` everything the transaction did is durable
   * by then (a COMMIT's RECEIPT waits for it).
   */
  commit(
    vhost: string,
    sessionId: string,
    ops: readonly TxOp[],
    awaitDurable?: boolean,
  ): MaybePromise<void>;
  /** Delete a durable subscription. Resolves to false when it did not exist. */
  unsubscribeDurable(vhost: string, clientId: string, name: string): MaybePromise<boolean>;
  /**
   * The destination other sessions can use to reach `sessionId`'s `/temp-queue/NAME` (for a
   * rewritten `reply-to` header; see `replyAddress` in destination.ts). Creates the temporary
   * queue if needed.
   */
  replyAddress(vhost: string, sessionId: string, tempQueue: string): string;
  /** The session ended: delete its temporary queues. */
  sessionClosed(vhost: string, sessionId: string): void;
  /**
   * Remove the messages waiting in the queue `destination` (those delivered and not yet
   * acknowledged stay). Resolves to their number; 0 when the queue does not exist. Throws
   * `ERR_STOMP_INVALID_ARGUMENT` for a destination that is not a queue.
   */
  purge(vhost: string, destination: string): MaybePromise<number>;
  /**
   * Create the queue `destination` as an operator does: it exists from now on, empty and unused
   * included, until {@link Engine.deleteDestination}; with a store, across restarts (resolves
   * once that is durable). Resolves to false when it was kept so already (created by an
   * operator before, or, where the engine keeps queues created by use, by its use). Throws
   * `ERR_STOMP_INVALID_ARGUMENT` for a destination that is not a queue. Engines that cannot
   * create destinations leave it out.
   */
  createDestination?(vhost: string, destination: string): MaybePromise<boolean>;
  /**
   * Whether `destination` exists now, for an engine whose destinations other processes also
   * create (a cluster node: a queue made on another node). The broker asks before refusing a
   * client that may use the destination but not create it, when it has not seen the destination
   * itself; a coded error (ERR_STOMP_UNAVAILABLE) goes to that client. Engines whose
   * destinations all pass through this broker leave it out.
   */
  exists?(vhost: string, destination: string): MaybePromise<boolean>;
  /**
   * Call `listener` whenever a destination is deleted, by this process or another (a cluster
   * node), so that the broker's permission check forgets it as it does for its own deletes.
   * Engines whose destinations are deleted only through this broker leave it out.
   */
  onDeleted?(listener: (vhost: string, destination: string) => void): void;
  /**
   * Delete a destination: a queue with every message it holds, or a topic with every
   * subscription to it (durable ones included). Attached consumers are told through
   * {@link Consumer.detached}. Resolves to the number of messages removed.
   */
  deleteDestination(vhost: string, destination: string): MaybePromise<number>;
  /** The destinations that exist (or have counts), in one virtual host or in all. */
  destinations(vhost?: string): MaybePromise<DestinationInfo[]>;
  /**
   * Up to `limit` messages waiting in the queue `destination`, in the order they would be
   * delivered, without consuming or moving them. Empty when the queue does not exist.
   */
  peek(vhost: string, destination: string, limit: number): MaybePromise<PeekedMessage[]>;
  /**
   * Resolves once everything published or acknowledged so far is durable (a DISCONNECT RECEIPT
   * waits for it). Engines without a store may leave it out.
   */
  flush?(): MaybePromise<void>;
  /** Current counters. */
  stats(): EngineStats;
  /**
   * State for operators, for engines with more to tell than {@link stats} (a clustered engine:
   * its connection to the cluster, leaders, pending acknowledgements). Optional.
   */
  report?(): MaybePromise<EngineReport>;
  /**
   * False while the engine cannot serve (a cluster node that lost its cluster): the admin API's
   * `/readyz` then answers 503. Optional; an engine without it is always ready.
   */
  ready?(): boolean;
  /** Release everything. */
  close(): MaybePromise<void>;
}
