// Where a connection is in its life: the states the connection (connection.ts) moves through, in
// order, so "ending or ended" is `>= CLOSING`.

/** Lifecycle of a connection. */
export const ConnectionState = {
  /** Waiting for CONNECT. */
  NEW: 0,
  /** CONNECTED was sent. */
  CONNECTED: 1,
  /** Ending: after DISCONNECT, an ERROR, or broker shutdown. Nothing more is processed. */
  CLOSING: 2,
  /** The stream closed. */
  CLOSED: 3,
} as const;
/** A connection state. */
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];
