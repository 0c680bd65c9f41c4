// Where a client stands and what it reports: its states, its status events, and the listeners
// and status iterables they go to.
import type { BrokerAddress, StompVersion } from '@stompede/core';
import { AsyncQueue } from './queue.js';

/** Where a client stands. */
export const ClientState = {
  /** The first connection is being made. */
  CONNECTING: 'connecting',
  /** Connected; operations go out at once. */
  CONNECTED: 'connected',
  /** The connection was lost and the failover schedule is running. */
  RECONNECTING: 'reconnecting',
  /** `close()` is in progress. */
  CLOSING: 'closing',
  /** Closed for good (by `close()`, `destroy()` or a fatal error). */
  CLOSED: 'closed',
} as const;
/** One of the {@link ClientState} values. */
export type ClientState = (typeof ClientState)[keyof typeof ClientState];

/** A change in the client's connection, as `client.on()` and `client.status()` report it. */
export type StatusEvent =
  | {
      /** A session was established (first connect or reconnect, after subscriptions were replayed). */
      readonly type: 'connected';
      readonly broker: BrokerAddress;
      readonly version: StompVersion;
      readonly server: string | undefined;
      readonly session: string | undefined;
      /** True after a reconnect. */
      readonly reconnected: boolean;
    }
  | {
      /** The connection was lost (or closed). */
      readonly type: 'disconnected';
      readonly broker: BrokerAddress;
      readonly error: Error | undefined;
    }
  | {
      /**
       * An attempt to connect again is about to be made, after `delay` ms: every attempt after a
       * lost connection (the first with delay 0), and every retry of the first connect.
       */
      readonly type: 'reconnecting';
      readonly broker: BrokerAddress;
      /** 1 for the first attempt after a lost connection (or the first retry of the first connect). */
      readonly attempt: number;
      readonly delay: number;
    }
  | {
      /**
       * Something went wrong and the client goes on: an ERROR frame (before the connection
       * closes), a failed attempt to reconnect (e.g. `ERR_STOMP_UNEXPECTED_FRAME` for a MESSAGE
       * before CONNECTED), a failing message handler, or a frame the broker should not have
       * sent (`ERR_STOMP_UNKNOWN_SUBSCRIPTION`: a MESSAGE for a subscription never made;
       * `ERR_STOMP_UNEXPECTED_FRAME`: a second CONNECTED, a client command).
       */
      readonly type: 'error';
      readonly error: Error;
    }
  | {
      /** The client is closed for good; `error` is why, when it did not close on request. */
      readonly type: 'closed';
      readonly error: Error | undefined;
    };

/** The type names of {@link StatusEvent}. */
export type StatusEventType = StatusEvent['type'];

type Listener = (event: StatusEvent) => void;

/** The listeners and status iterables of one client. */
export class StatusEvents {
  readonly #listeners = new Map<StatusEventType, Set<Listener>>();
  readonly #queues = new Set<AsyncQueue<StatusEvent>>();
  #ended = false;

  /** Add a listener; returns the function that removes it. */
  on<T extends StatusEventType>(
    type: T,
    listener: (event: Extract<StatusEvent, { type: T }>) => void,
  ): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    const wrapped = listener as Listener;
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  /** The events from now on, keeping the latest `capacity` when not consumed quickly enough. */
  status(capacity: number): AsyncIterable<StatusEvent> {
    const queue = new AsyncQueue<StatusEvent>(capacity);
    if (this.#ended) queue.end();
    else this.#queues.add(queue);
    const queues = this.#queues;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const event = await queue.shift();
            if (event === undefined) return;
            yield event;
          }
        } finally {
          queues.delete(queue);
        }
      },
    };
  }

  emit(event: StatusEvent): void {
    for (const listener of this.#listeners.get(event.type) ?? []) {
      try {
        listener(event);
      } catch {
        // Listeners must not break the client.
      }
    }
    for (const queue of this.#queues) {
      if (queue.full) queue.dropOldest();
      queue.push(event);
    }
  }

  /** The client closed: end every status iterable (listeners stay, and hear nothing more). */
  end(): void {
    this.#ended = true;
    for (const queue of this.#queues) queue.end();
    this.#queues.clear();
  }
}
