// The shapes a ClientSession takes and returns: its states, the subscriptions it remembers, the
// receipts it awaits and what it reports when a connection ends.
import type { SubscribeFrameOptions } from '../commands/index.js';
import type { AckMode } from '../commands/common.js';
import type { HeaderEntry } from '../frame.js';
import type { NegotiatedHeartBeat } from '../negotiate.js';
import type { StompVersion } from '../version.js';

/** Where a `ClientSession` is in its life. */
export const SessionState = {
  /** No connection, or the previous one ended. */
  DISCONNECTED: 'disconnected',
  /** CONNECT was sent; waiting for CONNECTED. */
  CONNECTING: 'connecting',
  /** CONNECTED was received: frames may be sent. */
  CONNECTED: 'connected',
  /** DISCONNECT was sent: waiting for its receipt or the socket to close. */
  DISCONNECTING: 'disconnecting',
} as const;
/** A {@link SessionState} value. */
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** A subscription the session remembers (and replays after a reconnect). */
export interface SessionSubscription<S = unknown> {
  /** Its `id`. */
  readonly id: string;
  /** Its `destination`. */
  readonly destination: string;
  /** Its `ack` mode (`auto` when none was given). */
  readonly ack: AckMode;
  /** Every header of its SUBSCRIBE frame but `receipt`, in order: what `ClientSession.replay` sends. */
  readonly headers: readonly HeaderEntry[];
  /** What the caller passed to `ClientSession.subscribe` (e.g. its consumer), if anything. */
  readonly data?: S;
}

/** A receipt asked for and not yet received. */
export interface PendingReceipt<R = unknown> {
  /** The `receipt` header sent, which the RECEIPT's `receipt-id` will match. */
  readonly receiptId: string;
  /** The command of the frame that asked for it, e.g. `SEND` or `DISCONNECT`. */
  readonly command: string;
  /** What the caller attached with `ClientSession.expectReceipt` (e.g. who waits), if anything. */
  readonly data?: R;
}

/** What will never complete once a connection ends, so that a client can fail it. */
export interface PendingWork<R = unknown> {
  /** Transactions still open (the server aborts them implicitly). */
  readonly transactions: readonly string[];
  /** Receipts still awaited. */
  readonly receipts: readonly PendingReceipt<R>[];
}

/** What a successful CONNECTED established (see `ClientSession.connected`). */
export interface SessionInfo {
  /** The negotiated version. */
  readonly version: StompVersion;
  /** The heart-beat periods this client keeps (`send`) and checks (`receive`), in ms. */
  readonly heartBeat: NegotiatedHeartBeat;
  /** The server's `session` header. */
  readonly session: string | undefined;
  /** The server's `server` header. */
  readonly server: string | undefined;
}

/** Options of `ClientSession.subscribe`: {@link SubscribeFrameOptions} with an optional id. */
export type SessionSubscribeOptions = SubscribeFrameOptions;
