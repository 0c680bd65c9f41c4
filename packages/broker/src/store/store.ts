// The Store seam: what the engine needs from durable storage. The journal (store/journal.ts) is
// one implementation; a replicated log could be another.
import type { Message } from '../message.js';

/**
 * The live messages of a recovered queue, packed: one slot per message in publication order
 * (rising seq), no object per message.
 */
export interface RecoveredMessages {
  readonly length: number;
  readonly seqs: Float64Array;
  /** 0–9. */
  readonly priorities: Uint8Array;
  /** Absolute expiry in ms since the epoch; 0 = never. */
  readonly expires: Float64Array;
}

/** A queue found by recovery: a named queue or a durable topic subscription. */
export interface RecoveredQueue {
  /** The store's key of the queue (see {@link queueKey} and {@link Store.defineSubscription}). */
  readonly key: string;
  readonly vhost: string;
  /** For a named queue: its destination, e.g. `/queue/a`. */
  readonly destination?: string;
  /** For a named queue recorded by {@link Store.defineQueue}: kept while empty. */
  readonly declared?: boolean;
  /** For a durable subscription. */
  readonly durable?: { readonly clientId: string; readonly name: string; readonly topic: string };
  /** Its live messages in publication order (sorted by seq). */
  readonly messages: RecoveredMessages;
}

/** What {@link Store.recover} found. */
export interface Recovery {
  readonly queues: RecoveredQueue[];
  /** The highest sequence number ever written (new messages continue after it). */
  readonly maxSeq: number;
}

/**
 * Durable storage of persistent messages, keyed by a sequence number unique per stored copy; the
 * store keeps where each copy is, so the engine holds only seqs. Writes are appended
 * synchronously (in call order) and made durable in groups: {@link Store.sync} resolves when
 * everything written before the call is on disk.
 */
export interface Store {
  /** A stable identifier of this store (used as the prefix of message ids). */
  readonly id: string;
  /** Read back what the store holds. Called once, before any write. */
  recover(): Recovery;
  /**
   * Throws a StompError with code `ERR_STOMP_DISK_FULL` while the store cannot take new messages
   * (its disk is below the free-space limit, or full). The engine asks before it stores a
   * persistent message; everything else (removals, subscriptions) is always taken.
   */
  admit?(): void;
  /**
   * Store `message` in queue `queueKey` as copy `seq`, which is above every seq stored or
   * recovered before.
   */
  enqueue(queueKey: string, seq: number, message: Message): void;
  /** Copy `seq` was consumed (acknowledged, expired or dead-lettered). */
  remove(seq: number): void;
  /** Copy `seq` is gone with its queue (after {@link Store.dropSubscription}): no record needed. */
  forget(seq: number): void;
  /** Record a durable topic subscription. */
  defineSubscription(
    key: string,
    vhost: string,
    clientId: string,
    name: string,
    topic: string,
  ): void;
  /** Delete a durable subscription and every message stored for it. */
  dropSubscription(key: string): void;
  /**
   * Record that the named queue `key` ({@link queueKey}) was created (by an operator, or by its
   * first use): recovery returns it, {@link RecoveredQueue.declared}, even when it holds no
   * message. Called once per queue, when it is created; a key already recorded is ignored.
   */
  defineQueue(key: string): void;
  /**
   * Record that the queue `key` of {@link Store.defineQueue} was deleted (its messages are
   * removed with {@link Store.remove}).
   */
  dropQueue(key: string): void;
  /**
   * Read copies back, in the order of `seqs`. One that cannot be read (a record that fails its
   * checksum, a seq not stored) comes back undefined, and is logged.
   */
  load(seqs: ArrayLike<number>): (Message | undefined)[];
  /** Resolves when every write made before the call is durable. */
  sync(): Promise<void>;
  /** Bytes written but not yet durable (for back-pressure). */
  readonly pendingBytes: number;
  /** Flush and release the files. */
  close(): Promise<void>;
}

/** The store key of a named queue. */
export function queueKey(vhost: string, destination: string): string {
  return `q\0${vhost}\0${destination}`;
}
