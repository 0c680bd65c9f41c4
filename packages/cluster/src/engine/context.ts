// What the parts of a node's cluster engine share: the NATS link and its helpers, the naming, the
// options, the unsettled deliveries and the counters.
import type { Delivery, Message, Metrics } from '@stompede/broker';
import type { Names } from '../names.js';
import type { NatsLink } from '../nats/link.js';
import type { Publisher } from '../nats/publisher.js';
import type { Puller } from '../nats/puller.js';
import type { Topology } from '../nats/topology.js';
import type { ResolvedClusterOptions } from '../options.js';
import type { KeySpace } from './keys.js';

/** One delivery of a stored message, unsettled until its consumer ACKs or NACKs it. */
export interface Held extends Delivery {
  /** Its `$JS.ACK…` reply subject: publishing to it settles the delivery. */
  readonly reply: string;
  /** The stream and sequence it is stored under (its dead-letter copy's id comes from them). */
  readonly stream: string;
  readonly streamSeq: number;
  /** When JetStream last heard about it (delivery, or a renewal); see Node.renew. */
  renewed: number;
  /** The subscription it belongs to. */
  readonly owner: object;
}

/** Everything a part of the engine needs. */
export interface NodeContext {
  readonly link: NatsLink;
  readonly names: Names;
  readonly options: ResolvedClusterOptions;
  readonly keys: KeySpace;
  readonly publisher: Publisher;
  readonly puller: Puller;
  readonly topology: Topology;
  readonly metrics: Metrics;
  /** Deliveries after which a message is dead-lettered; 0 = never. */
  readonly maxDeliveries: number;
  /** Every unsettled delivery of the node's stored subscriptions, by ack key. */
  readonly unsettled: Map<number, Held>;
  /**
   * The clock messages expire by, in ms since the epoch (tests move it by hand). Timers of the
   * node's own (renewals, pull requests, transaction ages) run on real time.
   */
  readonly clock: () => number;
  /** This node's id among the cluster's nodes (unique per process start). */
  readonly nodeId: string;
  /**
   * Store a copy of `message` in its dead-letter queue (dropped when it has none), once however
   * often this is called with the same `id` (e.g. `<stream>.<seq>` of the original). Resolves
   * when stored.
   */
  deadLetter(vhost: string, message: Message, id: string): Promise<void>;
  /** Report a problem that no client sees (logged by the node). */
  warn(message: string, err?: unknown): void;
}

/**
 * How a publication travels: stored in JetStream (a PubAck confirms it); `live`, a non-persistent
 * topic message, on core NATS (JetStream still keeps it for durable subscriptions, unconfirmed);
 * `core`, a reply to another node's temporary queue, at most once; or handed to this node's local
 * engine.
 */
export type Route =
  | {
      readonly kind: 'stored' | 'live' | 'core';
      readonly subject: string;
      readonly payload: Uint8Array;
      /** `Nats-Msg-Id`: JetStream stores a repeat of it once; live subscribers skip copies. */
      readonly msgId: string;
    }
  | { readonly kind: 'local'; send(): Promise<void> | undefined };
