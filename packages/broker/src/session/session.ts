// The session as command handlers see it: what a connection shows them and what they may ask it
// to do. Handlers depend on this interface, not on the Connection class (session/connection.ts
// implements it), so the connection can import the handlers without an import circle.
import type { Frame, HeartBeat, StompVersion } from '@stompede/core';
import type { Logger } from 'pino';
import type { Engine, MaybePromise } from '../engine.js';
import type { Peer } from '../listen/peer.js';
import type { Message } from '../message.js';
import type { ResolvedOptions } from '../options.js';
import type { Authenticator, Principal } from '../security/authenticator.js';
import type { Clock } from './clock.js';
import type { SessionState } from './state.js';
import type { SubscriptionOwner } from './subscription.js';

/** What CONNECT settled: the session's terms. */
export interface SessionTerms {
  readonly version: StompVersion;
  readonly vhost: string;
  /** The durable-subscription owner key (the client-id, scoped to the user). */
  readonly clientId: string;
  /** The client's `heart-beat` header. */
  readonly heartBeat: HeartBeat;
  readonly principal: Principal;
}

/** One STOMP session, as its command handlers use it. */
export interface Session {
  /** The session id sent in CONNECTED. */
  readonly id: string;
  /** The version spoken (1.0 until CONNECTED). */
  readonly version: StompVersion;
  /** The virtual host. */
  readonly vhost: string;
  /** The durable-subscription owner key ('' without a client-id). */
  readonly clientId: string;
  /** Who the session is (anonymous until it logged in). */
  readonly principal: Principal;
  /** Where the connection came from. */
  readonly peer: Peer;
  /** The broker's options. */
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly authenticator: Authenticator;
  /** The broker's clock: a relative `expiration` counts from its `now()`. */
  readonly clock: Clock;
  /** Subscriptions, unacknowledged deliveries and transactions. */
  readonly state: SessionState;
  /** What this session's subscriptions deliver on. */
  readonly output: SubscriptionOwner;
  /** This session's logger. */
  readonly log: Logger;
  /**
   * Check that the session may `right` `destination` (creating it when new); throws
   * `ERR_STOMP_FORBIDDEN`.
   */
  authorize(right: 'read' | 'write', destination: string, frame: Frame): void;
  /**
   * Publish `message`. With `awaitDurable` (a RECEIPT waits for it) a persistent message is on
   * disk when the result settles; without, the journal's next sync covers it. While the engine
   * pushes back on this producer, the result settles only once it has room, and the frames behind
   * the SEND wait.
   */
  publish(message: Message, awaitDurable: boolean): MaybePromise<void>;
  /** Count `n` messages published by a COMMIT (its SENDs go to the engine as one commit). */
  countPublished(n: number): void;
  /** Accept the session: send CONNECTED and start heart-beats (ignored once the session ends). */
  accept(terms: SessionTerms): void;
  /** Send `error` (an ERROR frame) and close after it. */
  refuse(error: Frame): void;
  /** End the session once the current frame (and its RECEIPT) is done: DISCONNECT. */
  endAfterFrame(): void;
}
