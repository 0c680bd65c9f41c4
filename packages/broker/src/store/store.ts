// The Store seam: what the engine needs from durable storage. The journal (store/journal.ts) is
// one implementation; a replicated log could be another.
import type { Message } from '../message.js';

/**
 * Where a stored message lives. Opaque to the engine: it keeps the object and hands it back. The
 * store may change its fields (compaction moves records; a removed copy gets `len` 0), so the
 * engine must not copy them.
 */
export interface StoredRef {
  /** Segment (or file) number. */
  seg: number;
  /** Byte offset of the record in its segment. */
  off: number;
  /** Record length in bytes. */
  len: number;
}

/** One message found by recovery (its body stays on disk until {@link Store.load}). */
export interface RecoveredMessage {
  readonly seq: number;
  readonly priority: number;
  readonly expires: number;
  /**
   * Its stored copy. A separate object from this one, so that what the engine keeps per queued
   * message is only the location (three fields), not the whole description.
   */
  readonly ref: StoredRef;
}

/** A queue found by recovery: a named queue or a durable topic subscription. */
export interface RecoveredQueue {
  /** The store's key of the queue (see {@link queueKey} and {@link Store.defineSubscription}). */
  readonly key: string;
  readonly vhost: string;
  /** For a named queue: its destination, e.g. `/queue/a`. */
  readonly destination?: string;
  /** For a durable subscription. */
  readonly durable?: { readonly clientId: string; readonly name: string; readonly topic: string };
  /** Its live messages in publication order (sorted by seq). */
  readonly messages: RecoveredMessage[];
}

/** What {@link Store.recover} found. */
export interface Recovery {
  readonly queues: RecoveredQueue[];
  /** The highest sequence number ever written (new messages continue after it). */
  readonly maxSeq: number;
}

/**
 * Durable storage of persistent messages, keyed by a sequence number unique per stored copy.
 * Writes are appended synchronously (in call order) and made durable in groups:
 * {@link Store.sync} resolves when everything written before the call is on disk.
 */
export interface Store {
  /** A stable identifier of this store (used as the prefix of message ids). */
  readonly id: string;
  /** Read back what the store holds. Called once, before any write. */
  recover(): Recovery;
  /** Store `message` in queue `queueKey` as copy `seq`. */
  enqueue(queueKey: string, seq: number, message: Message): StoredRef;
  /** Copy `seq` was consumed (acknowledged, expired or dead-lettered). */
  remove(seq: number, ref: StoredRef): void;
  /** Copy `seq` is gone with its queue (after {@link Store.dropSubscription}): no record needed. */
  forget(ref: StoredRef): void;
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
  /** Read messages back. A record that fails its checksum comes back undefined (and is logged). */
  load(refs: readonly StoredRef[]): (Message | undefined)[];
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
